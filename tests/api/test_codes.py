"""Codes as people type them: an unknown partner, mission, state or SME is an error naming
the ones that exist (404 in the path, 422 in a query filter), never an empty answer; codes
and currencies are matched in any case and shown in capitals; missions and SMEs may be named
by their code or identifier where an id is asked for."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import JPY_MONTH, Alliance, Api, Tokens, expense, grant_body, mission_body, money
from tests.api.test_routes import cost_body, problem, rejected_payload, transfer_body

PARTNERS = "the partners are NIDV, NTT, POINTEX, SIIT, SYSTEMATIC, TECHTERA"
IDENTIFIER = "IT01234567890"  # the driver's SME (tests/api/conftest.py)


def query_error(response: Any, field: str) -> str:
    """The message of the 422 on one query parameter."""
    body = problem(response, 422)
    messages: dict[str, str] = {error["field"]: error["message"] for error in body["errors"]}
    assert list(messages) == [field], messages
    return messages[field]


class TestUnknownInThePath:
    def test_an_unknown_partner_is_404_naming_the_partners(self, api: Api, alliance: Alliance) -> None:
        """/partners/POINTX/budget: 404 with every partner of the grant, in order."""
        details = problem(api.get("/partners/POINTX/budget"), 404)
        assert details["detail"] == f"partner 'POINTX' is not in the grant; {PARTNERS}"

    def test_before_the_grant_there_are_no_partners(self, api: Api) -> None:
        """Before the grant is signed no partner exists: 404 that says so."""
        assert "no grant is signed yet" in problem(api.get("/partners/POINTEX/budget"), 404)["detail"]

    def test_an_unknown_mission_code_is_404_naming_the_missions(self, api: Api, alliance: Alliance) -> None:
        """/missions/JPN-2024: 404 naming the missions there are."""
        details = problem(api.get("/missions/JPN-2024"), 404)
        assert "mission 'JPN-2024' is not in the ledger" in details["detail"]
        assert "the missions are JPN-2023" in details["detail"]

    def test_an_unknown_sme_identifier_is_404(self, api: Api, alliance: Alliance) -> None:
        """/smes/IT999: no SME has that id or identifier: 404 saying how SMEs are named."""
        details = problem(api.get("/smes/IT999"), 404)
        assert "no SME is registered under 'IT999'" in details["detail"]


class TestUnknownInAQueryFilter:
    def test_an_unknown_partner_is_422_naming_the_partners(self, api: Api, alliance: Alliance) -> None:
        """?partner=POINTX is a mistake, not "no claims": 422 on query.partner with the list."""
        assert PARTNERS in query_error(api.get("/claims", partner="POINTX"), "query.partner")

    def test_an_unknown_mission_is_422_naming_the_missions(self, api: Api, alliance: Alliance) -> None:
        """?mission=JPN-2024 (a code) or an id that is no mission's: 422 naming JPN-2023."""
        assert "the missions are JPN-2023" in query_error(api.get("/claims", mission="JPN-2024"), "query.mission")
        assert "JPN-2023" in query_error(api.get("/claims", mission=alliance.sme_id), "query.mission")

    def test_an_unknown_state_is_422_naming_the_states(self, api: Api, alliance: Alliance) -> None:
        """?state=aproved: 422 listing every state."""
        message = query_error(api.get("/claims", state="aproved"), "query.state")
        assert message == (
            "claim state 'aproved' does not exist; the states are submitted, approved, partly_paid, paid, "
            "rejected, withdrawn"
        )

    def test_an_unknown_or_empty_sme_is_422(self, api: Api, alliance: Alliance) -> None:
        """?sme=IT999 names no SME; ?sme=--- has no letter or digit: 422 on query.sme."""
        assert "no SME is registered under 'IT999'" in query_error(api.get("/claims", sme="IT999"), "query.sme")
        assert "no letter or digit" in query_error(api.get("/claims", sme="---"), "query.sme")

    def test_a_long_code_is_cut_short_in_the_message(self, api: Api, alliance: Alliance) -> None:
        """A 200-character partner is quoted cut short, and the partners are still named."""
        message = query_error(api.get("/claims", partner="X" * 200), "query.partner")
        assert "X" * 38 not in message
        assert PARTNERS in message


class TestAnyCaseInReads:
    def test_a_partners_budget_in_lower_case(self, api: Api, alliance: Alliance) -> None:
        """/partners/pointex/budget is POINTEX's budget, its lines labelled POINTEX."""
        lower = api.get("/partners/pointex/budget")
        assert lower.status_code == 200, lower.text
        assert lower.json() == api.get("/partners/POINTEX/budget").json()
        assert {line["partner"] for line in lower.json()["lines"]} == {"POINTEX"}

    def test_claims_filtered_by_codes_in_any_case(self, api: Api, alliance: Alliance) -> None:
        """?partner=pointex&state=SUBMITTED&mission=jpn-2023&sme=<identifier as typed> finds
        the same claims as the canonical codes and the ids."""
        submitted = api.submit(alliance, expense(receipt="R-1"))
        approved = api.submit(alliance, expense(receipt="R-2"))
        api.approve(approved["id"])
        by_ids = api.get("/claims", partner="POINTEX", state="submitted", mission=alliance.mission_id)
        assert [c["id"] for c in by_ids.json()["data"]] == [submitted["id"]]
        for sme in (alliance.sme_id, IDENTIFIER, "it 0123-4567 890", "IT.01234567890"):
            typed = api.get("/claims", partner="pointex", state="SUBMITTED", mission="jpn-2023", sme=sme)
            assert typed.status_code == 200, typed.text
            assert typed.json() == by_ids.json(), sme
        assert api.get("/claims", state="Approved").json()["data"][0]["id"] == approved["id"]

    def test_a_mission_and_an_sme_by_code_and_identifier(self, api: Api, alliance: Alliance) -> None:
        """/missions/jpn-2023 is the mission with that code; /smes/it01234567890 the SME with
        that identifier: the same bodies as by id."""
        by_id = api.get(f"/missions/{alliance.mission_id}").json()
        assert api.get("/missions/jpn-2023").json() == by_id
        assert by_id["code"] == "JPN-2023"
        assert api.get("/smes/it01234567890").json() == api.get(f"/smes/{alliance.sme_id}").json()


class TestAnyCaseInBodies:
    def test_a_transfer_with_codes_in_lower_case(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """Partner and category codes and the currency in lower case: recorded and shown in capitals."""
        body = transfer_body(
            from_partner="nidv",
            from_category="personnel",
            to_partner="Nidv",
            to_category="fstp",
            amount=money("5.00", "eur"),
        )
        data = api.ok(api.post("/budget/transfers", body, tokens.coordinator))
        assert (data["from_partner"], data["from_category"], data["to_partner"], data["to_category"]) == (
            "NIDV",
            "PERSONNEL",
            "NIDV",
            "FSTP",
        )
        assert data["amount"] == money("5.00")
        assert api.line("NIDV", "FSTP")["allocated"] == money("20005.00")

    def test_an_unknown_partner_in_a_body_is_named_in_capitals(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """A transfer to 'acme': 404 naming ACME and the partners there are; nothing recorded."""
        details = rejected_payload(api, "/budget/transfers", transfer_body(to_partner="acme"), tokens.coordinator, 404)
        assert details["detail"] == f"partner 'ACME' is not in the grant; {PARTNERS}"

    def test_a_cost_a_claim_and_a_rate_in_lower_case(self, api: Api, alliance: Alliance) -> None:
        """An own cost for 'pointex' in 'travel' and 'eur'; a claim line of cost type 'travel'
        in 'jpy'; a rate for 'usd': each recorded with its codes in capitals."""
        cost = api.ok(
            api.post(
                "/costs", cost_body(partner="pointex", category="travel", amount=money("1.00", "eur")), api.pointex
            )
        )
        assert (cost["partner"], cost["category"], cost["amount"]) == ("POINTEX", "TRAVEL", money("1.00"))
        claim = api.submit(alliance, expense("18200", "jpy", "JAL-1", "travel"))
        line = api.claim(claim["id"])["lines"][0]
        assert (line["cost_type"], line["amount"]) == ("TRAVEL", money("18200", "JPY"))
        rate = api.ok(
            api.post("/exchange-rates", {"currency": "usd", "month": JPY_MONTH, "rate": "1.0987"}, api.pointex)
        )
        assert rate["currency"] == "USD"

    def test_a_mission_opened_in_lower_case(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """A mission 'can-2023' of 'pointex' with cost type 'travel': shown as CAN-2023, POINTEX,
        TRAVEL, and found by its code in any case."""
        body = mission_body(
            code="can-2023",
            responsible_partner="pointex",
            eligible_cost_types=["travel"],
            cap_per_sme=money("2000", "eur"),
        )
        data = api.ok(api.post("/missions", body, tokens.coordinator))
        assert (data["code"], data["responsible_partner"], data["eligible_cost_types"]) == (
            "CAN-2023",
            "POINTEX",
            ["TRAVEL"],
        )
        assert api.get("/missions/Can-2023").json()["id"] == data["id"]

    def test_a_budget_naming_one_partner_twice_in_two_cases_is_422(self, api: Api, tokens: Tokens) -> None:
        """A grant whose budget names 'pointex' and 'POINTEX' would lose one of them: 422, nothing
        recorded; in one case alone, lower-case codes sign the grant in capitals."""
        body = grant_body()
        body["budget"]["pointex"] = body["budget"]["POINTEX"]
        details = rejected_payload(api, "/grant", body, tokens.coordinator, 422)
        assert "'POINTEX' and 'pointex' are the same code; give it once" in details["detail"]
        lower = grant_body(coordinator="techtera")
        lower["budget"] = {p.lower(): {c.lower(): m for c, m in lines.items()} for p, lines in lower["budget"].items()}
        api.ok(api.post("/grant", lower, tokens.coordinator))
        assert api.line("POINTEX", "FSTP")["allocated"] == money("20000.00")
