"""GET lists of exchange rates, own costs, payments, budget transfers and SMEs, and GET /search:
success, filters in any case, pages, links to each record's history, and every 4xx."""

from __future__ import annotations

from typing import Any

import pytest

from api.main import PREFIX
from tests.api.conftest import JSON, Alliance, Api, Tokens, expense, money
from tests.api.test_codes import query_error
from tests.api.test_routes import cost_body, problem, rate_body, transfer_body

UNKNOWN = "0b6d6a4e-6f0e-4d55-9a55-3d8f6c1f0001"


@pytest.fixture
def recorded(api: Api, tokens: Tokens, alliance: Alliance) -> JSON:
    """Rates, two own costs, two payments (one reversed), two transfers and a second SME."""
    api.ok(api.post("/exchange-rates", rate_body(), tokens.pointex))
    api.ok(api.post("/exchange-rates", rate_body(month="2023-02", rate="1.0712"), tokens.pointex))
    costs = [
        api.ok(api.post("/costs", cost_body(), tokens.pointex)),
        api.ok(
            api.post(
                "/costs",
                cost_body(partner="NTT", category="EQUIPMENT", document_ref="N-7", description="loom", on="2023-03-25"),
                tokens.ntt,
            )
        ),
    ]
    paid = api.submit(alliance, expense("1234.50", receipt="RCPT-77 A"))
    api.approve(paid["id"])
    payment = api.pay(paid["id"], "864.15", "SEPA 2023/0412")
    other_sme = api.new_sme("IT 0987-654", alliance.mission_id)
    returned = api.submit(alliance, expense("100.00", receipt="HTL-1"), sme_id=other_sme)
    api.approve(returned["id"])
    body = {"amount": money("70.00"), "bank_reference": "SEPA-RET-9", "on": "2023-04-22"}
    bounced = api.ok(api.post(f"/claims/{returned['id']}/payments", body, tokens.pointex))
    reversal = {"reason": "IBAN closed", "on": "2023-04-25"}
    api.ok(api.post(f"/payments/{bounced['id']}/reversal", reversal, tokens.pointex), 200)
    transfers = [
        api.ok(api.post("/budget/transfers", transfer_body(), tokens.coordinator)),
        api.ok(
            api.post(
                "/budget/transfers",
                transfer_body(
                    from_partner="SIIT",
                    from_category="TRAVEL",
                    to_partner="POINTEX",
                    on="2023-02-01",
                    amount=money("1200.00"),
                    decision_ref="SC-2023-01",
                ),
                tokens.coordinator,
            )
        ),
    ]
    return {
        "costs": costs,
        "paid": paid,
        "payment": payment,
        "bounced": bounced,
        "sme": other_sme,
        "transfers": transfers,
    }


def page(api: Api, path: str, token: str | None = None, **params: Any) -> JSON:
    response = api.get(path, token, **params)
    assert response.status_code == 200, response.text
    body: JSON = response.json()
    assert set(body) == {"data", "count"}
    return body


def history_links_work(api: Api, items: list[JSON]) -> None:
    """Each item's history link is the audit history of that very record."""
    assert items
    for item in items:
        assert item["history_url"] == f"{PREFIX}/audit/entities/{item['id']}"
        response = api.client.get(item["history_url"], headers={"Authorization": f"Bearer {api.tokens.auditor}"})
        assert response.status_code == 200, response.text
        assert response.json()["aggregate_id"] == item["id"]


class TestRates:
    def test_latest_month_first_filtered_in_any_case(self, api: Api, recorded: JSON) -> None:
        everything = page(api, "/exchange-rates")
        assert [(r["currency"], r["month"]) for r in everything["data"]] == [
            ("JPY", "2023-03"),
            ("USD", "2023-03"),
            ("USD", "2023-02"),
        ]
        usd = page(api, "/exchange-rates", currency="usd", **{"from": "2023-01", "to": "2023-02"})
        assert [(r["currency"], r["month"], r["rate"]) for r in usd["data"]] == [("USD", "2023-02", "1.0712")]
        assert usd["count"] == 1
        second = page(api, "/exchange-rates", offset=1, limit=1)
        assert (second["count"], [r["month"] for r in second["data"]]) == (3, ["2023-03"])
        history_links_work(api, everything["data"])

    def test_refusals(self, api: Api, recorded: JSON) -> None:
        assert "is not one the ledger accepts; use one of CAD, CHF" in query_error(
            api.get("/exchange-rates", currency="XYZ"), "query.currency"
        )
        assert "YYYY-MM" in query_error(api.get("/exchange-rates", **{"from": "2023-13"}), "query.from")
        details = problem(api.get("/exchange-rates", **{"from": "2023-04", "to": "2023-01"}), 422)
        assert "the first is after the last" in details["detail"]
        query_error(api.get("/exchange-rates", limit=0), "query.limit")


class TestCosts:
    def test_latest_first_with_filters(self, api: Api, recorded: JSON) -> None:
        ntt, pointex = recorded["costs"][1], recorded["costs"][0]
        everything = page(api, "/costs")
        assert [c["id"] for c in everything["data"]] == [ntt["id"], pointex["id"]]
        assert [c["id"] for c in page(api, "/costs", partner="ntt")["data"]] == [ntt["id"]]
        assert [c["id"] for c in page(api, "/costs", category="travel")["data"]] == [pointex["id"]]
        dated = page(api, "/costs", **{"from": "2023-03-21", "to": "2023-03-31"})
        assert [c["id"] for c in dated["data"]] == [ntt["id"]]
        assert page(api, "/costs", offset=1)["count"] == 2
        history_links_work(api, everything["data"])
        assert api.get(f"/costs/{ntt['id']}").json() == ntt

    def test_an_officer_reads_every_partners_costs(self, api: Api, tokens: Tokens, recorded: JSON) -> None:
        """Reads are open to every role: POINTEX's officer sees NTT's costs too."""
        assert page(api, "/costs", tokens.pointex, partner="NTT")["count"] == 1

    def test_refusals(self, api: Api, recorded: JSON) -> None:
        says = "the partners are NIDV, NTT, POINTEX, SIIT, SYSTEMATIC, TECHTERA"
        assert says in query_error(api.get("/costs", partner="acme"), "query.partner")
        assert "the categories are PERSONNEL" in query_error(api.get("/costs", category="food"), "query.category")
        assert "YYYY-MM-DD" in query_error(api.get("/costs", **{"to": "31/03/2023"}), "query.to")
        assert (
            "the first is after the last"
            in problem(api.get("/costs", **{"from": "2023-04-01", "to": "2023-03-01"}), 422)["detail"]
        )
        problem(api.get(f"/costs/{UNKNOWN}"), 404)


class TestPayments:
    def test_latest_value_date_first_with_filters(self, api: Api, alliance: Alliance, recorded: JSON) -> None:
        paid, bounced = recorded["payment"], recorded["bounced"]
        everything = page(api, "/payments")
        assert [p["id"] for p in everything["data"]] == [bounced["id"], paid["id"]]
        assert everything["data"][0]["reversed"] is True
        assert everything["data"][1]["sme_id"] == alliance.sme_id
        for params, expected in (
            ({"partner": "pointex"}, [bounced, paid]),
            ({"partner": "NTT"}, []),
            ({"claim": recorded["paid"]["id"]}, [paid]),
            ({"sme": "it0987654"}, [bounced]),
            ({"reversed": "true"}, [bounced]),
            ({"reversed": "false"}, [paid]),
            ({"from": "2023-04-21"}, [bounced]),
            ({"to": "2023-04-21"}, [paid]),
            ({"offset": 1, "limit": 1}, [paid]),
        ):
            found = page(api, "/payments", **params)
            assert [p["id"] for p in found["data"]] == [p["id"] for p in expected], params
        history_links_work(api, everything["data"])

    def test_refusals(self, api: Api, recorded: JSON) -> None:
        assert "the partners are" in query_error(api.get("/payments", partner="acme"), "query.partner")
        assert "no claim" in query_error(api.get("/payments", claim=UNKNOWN), "query.claim")
        assert "not a claim id" in query_error(api.get("/payments", claim="C-1"), "query.claim")
        assert "no SME is registered" in query_error(api.get("/payments", sme="XX000"), "query.sme")
        query_error(api.get("/payments", reversed="perhaps"), "query.reversed")
        query_error(api.get("/payments", **{"from": "2023-02-30"}), "query.from")


class TestTransfers:
    def test_latest_first_with_the_decision(self, api: Api, recorded: JSON) -> None:
        early, late = recorded["transfers"]
        assert (late["decision_ref"], late["effective_date"], late["amount"]) == (
            "SC-2023-01",
            "2023-02-01",
            money("1200.00"),
        )
        everything = page(api, "/budget/transfers")
        assert [x["id"] for x in everything["data"]] == [late["id"], early["id"]]
        assert everything["data"][1] == early
        for params, expected in (
            ({"partner": "siit"}, [late]),
            ({"partner": "POINTEX"}, [late]),
            ({"category": "fstp"}, [late, early]),
            ({"category": "PERSONNEL"}, [early]),
            ({"from": "2023-01-01"}, [late]),
            ({"to": "2022-12-31"}, [early]),
        ):
            assert [x["id"] for x in page(api, "/budget/transfers", **params)["data"]] == [x["id"] for x in expected]
        history_links_work(api, everything["data"])
        assert api.get(f"/budget/transfers/{early['id']}").json() == early

    def test_refusals(self, api: Api, recorded: JSON) -> None:
        assert "the partners are" in query_error(api.get("/budget/transfers", partner="acme"), "query.partner")
        assert "the categories are" in query_error(api.get("/budget/transfers", category="x"), "query.category")
        problem(api.get("/budget/transfers", **{"from": "2023-02-02", "to": "2023-02-01"}), 422)
        problem(api.get(f"/budget/transfers/{UNKNOWN}"), 404)
        query_error(api.get("/budget/transfers/not-an-id"), "path.transfer_id")


class TestSmes:
    def test_a_page_by_name_country_and_mission(self, api: Api, alliance: Alliance, recorded: JSON) -> None:
        """The list is a page now (it was a bare list): by legal name, in any case, part of it."""
        everything = page(api, "/smes")
        assert everything["count"] == 2
        names = [s["legal_name"] for s in everything["data"]]
        assert names == sorted(names)
        found = page(api, "/smes", name="0987 654 s.r.l")
        assert [s["id"] for s in found["data"]] == [recorded["sme"]]
        assert page(api, "/smes", name="TESSUTI avanzati")["count"] == 2
        assert page(api, "/smes", country="it", mission="jpn-2023")["count"] == 2
        assert page(api, "/smes", country="FR")["count"] == 0
        assert [s["id"] for s in page(api, "/smes", offset=1, limit=1)["data"]] == [everything["data"][1]["id"]]
        history_links_work(api, everything["data"])

    def test_refusals(self, api: Api, recorded: JSON) -> None:
        assert "the missions are JPN-2023" in query_error(api.get("/smes", mission="JPN-2099"), "query.mission")
        assert "two-letter ISO 3166 code" in query_error(api.get("/smes", country="ITA"), "query.country")
        assert "no letter or digit" in problem(api.get("/smes", name="%%"), 422)["detail"]


class TestSearch:
    def test_hits_say_what_they_are_where_they_matched_and_link(
        self, api: Api, alliance: Alliance, recorded: JSON
    ) -> None:
        found = page(api, "/search", q="SEPA 2023/0412")
        assert found["count"] == 1
        hit = found["data"][0]
        assert (hit["kind"], hit["id"]) == ("payment", recorded["payment"]["id"])
        assert hit["matches"] == [{"field": "bank_reference", "line_no": None, "value": "SEPA 2023/0412"}]
        assert "864.15" in hit["label"]
        assert (
            api.client.get(hit["url"], headers={"Authorization": f"Bearer {api.tokens.auditor}"}).json()
            == recorded["payment"]
        )
        history_links_work(api, found["data"])

    def test_each_kind_of_field(self, api: Api, alliance: Alliance, recorded: JSON) -> None:
        cases = {
            "tessuti": {("sme", alliance.sme_id), ("sme", recorded["sme"])},
            "IT-0987 654": {("sme", recorded["sme"])},
            "rcpt77a": {("claim", recorded["paid"]["id"])},
            "1,234.50": {("claim", recorded["paid"]["id"])},
            "864.15": {("claim", recorded["paid"]["id"]), ("payment", recorded["payment"]["id"])},
            "N-7": {("cost", recorded["costs"][1]["id"])},
            "staff travel": {("cost", recorded["costs"][0]["id"])},
        }
        for q, expected in cases.items():
            assert {(h["kind"], h["id"]) for h in page(api, "/search", q=q)["data"]} == expected, q
        line = page(api, "/search", q="RCPT-77 A")["data"][0]["matches"]
        assert line == [{"field": "receipt_ref", "line_no": 1, "value": "RCPT-77 A"}]

    @pytest.mark.parametrize("q", ['"', "*", 'NEAR("a" b)', "a OR b", "-x", "\x00", "🎉", "עברית", "%_"])
    def test_hostile_text_is_no_error(self, api: Api, recorded: JSON, q: str) -> None:
        assert page(api, "/search", q=q)["count"] >= 0

    def test_paging(self, api: Api, recorded: JSON) -> None:
        everything = page(api, "/search", q="tessuti")
        second = page(api, "/search", q="tessuti", offset=1, limit=1)
        assert second["count"] == everything["count"] == 2
        assert second["data"] == everything["data"][1:]

    def test_refusals(self, api: Api, recorded: JSON) -> None:
        query_error(api.get("/search"), "query.q")
        query_error(api.get("/search", q=""), "query.q")
        query_error(api.get("/search", q="x" * 201), "query.q")
        assert "the search is empty" in problem(api.get("/search", q="   "), 422)["detail"]
        query_error(api.get("/search", q="x", limit=501), "query.limit")


@pytest.mark.parametrize(
    "path", ["/exchange-rates", "/costs", "/payments", "/budget/transfers", "/smes", "/search?q=x"]
)
def test_every_list_needs_a_token(api: Api, recorded: JSON, path: str) -> None:
    problem(api.client.get(PREFIX + path), 401)
