"""The HTTP routes, one class per resource, on a temporary SQLite store.

Every write is checked for: success (status, body, the log position, and a GET right after that
shows the effect), 401 without a valid token, 403 for the wrong role or partner, 404 for unknown
ids, 409 for refusals by a rule of the grant (the problem detail names the numbers), 422 for
invalid input, and that a refused request records nothing. Money in every response is checked
by the driver (tests.api.conftest.check_money): a decimal string beside its currency.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from api.main import PREFIX, create_app
from api.security import ServiceStore
from api.security import idempotency as idempotency_table
from api.settings import Settings
from tests.api.conftest import (
    JPY_MONTH,
    JPY_RATE,
    JSON,
    Alliance,
    Api,
    Tokens,
    bearer,
    check_money,
    checked,
    expense,
    grant_body,
    make_tokens,
    mission_body,
    money,
    sme_body,
)

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def transfer_body(**changes: Any) -> JSON:
    body: JSON = {
        "from_partner": "NIDV",
        "from_category": "PERSONNEL",
        "to_partner": "NIDV",
        "to_category": "FSTP",
        "amount": money("5000.00"),
        "decision_ref": "SC-2022-03",
        "reason": "more SMEs than planned for the Canada mission",
        "on": "2022-11-15",
    }
    body.update(changes)
    return body


def cost_body(**changes: Any) -> JSON:
    body: JSON = {
        "partner": "POINTEX",
        "category": "TRAVEL",
        "amount": money("412.80"),
        "document_ref": "INV-2023-118",
        "description": "staff travel to Tokyo",
        "on": "2023-03-20",
    }
    body.update(changes)
    return body


def rate_body(**changes: Any) -> JSON:
    body: JSON = {"currency": "USD", "month": "2023-03", "rate": "1.0987"}
    body.update(changes)
    return body


def problem(response: Any, status: int) -> JSON:
    """The problem details of a refused request, checked for their shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: JSON = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body


def field_errors(response: Any) -> dict[str, str]:
    """The field errors of a 422 for invalid input: field -> error type."""
    body = problem(response, 422)
    return {error["field"]: error["type"] for error in body["errors"]}


def rejected_payload(api: Api, path: str, body: JSON, token: str, status: int) -> JSON:
    """Send a request that must be refused; prove it recorded nothing; its problem details."""
    before = api.event_count()
    details = problem(api.post(path, body, token), status)
    assert api.event_count() == before, "a refused request recorded events"
    return details


# --- writes in general: authentication and money as JSON floats --------------------------
ANY_ID = str(uuid.uuid4())
CLAIM_BODY: JSON = {"sme_id": ANY_ID, "mission_id": ANY_ID, "lines": [expense()], "on": "2023-04-02"}
WRITES = [
    pytest.param("/grant", grant_body(), id="grant"),
    pytest.param("/budget/transfers", transfer_body(), id="transfer"),
    pytest.param("/missions", mission_body(), id="mission"),
    pytest.param(f"/missions/{ANY_ID}/selections", {"sme_id": ANY_ID, "on": "2022-12-06"}, id="selection"),
    pytest.param("/smes", sme_body(), id="sme"),
    pytest.param("/exchange-rates", rate_body(), id="rate"),
    pytest.param("/claims", CLAIM_BODY, id="claim"),
    pytest.param(f"/claims/{ANY_ID}/approve", {"on": "2023-04-10"}, id="approve"),
    pytest.param(f"/claims/{ANY_ID}/reject", {"reason": "no receipts", "on": "2023-04-10"}, id="reject"),
    pytest.param(f"/claims/{ANY_ID}/withdraw", {"reason": "SME asked", "on": "2023-04-10"}, id="withdraw"),
    pytest.param(
        f"/claims/{ANY_ID}/payments",
        {"amount": money("10.00"), "bank_reference": "SEPA-1", "on": "2023-04-20"},
        id="payment",
    ),
    pytest.param(f"/payments/{ANY_ID}/reversal", {"reason": "bank return", "on": "2023-05-02"}, id="reversal"),
    pytest.param(f"/claims/{ANY_ID}/revocation", {"reason": "wrong rate", "on": "2023-04-12"}, id="revocation"),
    pytest.param(f"/claims/{ANY_ID}/settlement", {"reason": "SME agreed", "on": "2023-04-21"}, id="settlement"),
    pytest.param("/costs", cost_body(), id="cost"),
]

FLOAT_MONEY = [
    pytest.param("/grant", grant_body(total={"amount": 500000.0, "currency": "EUR"}), "body.total.amount", id="grant"),
    pytest.param(
        "/budget/transfers",
        transfer_body(amount={"amount": 5000.5, "currency": "EUR"}),
        "body.amount.amount",
        id="transfer",
    ),
    pytest.param("/missions", mission_body(reimbursement_rate=0.7), "body.reimbursement_rate", id="mission-rate"),
    pytest.param(
        "/missions",
        mission_body(cap_per_sme={"amount": 2000.0, "currency": "EUR"}),
        "body.cap_per_sme.amount",
        id="mission-cap",
    ),
    pytest.param("/exchange-rates", rate_body(rate=1.0987), "body.rate", id="rate"),
    pytest.param(
        "/claims",
        {**CLAIM_BODY, "lines": [{**expense(), "amount": {"amount": 1000.1, "currency": "EUR"}}]},
        "body.lines.0.amount.amount",
        id="claim",
    ),
    pytest.param(
        f"/claims/{ANY_ID}/approve",
        {"on": "2023-04-10", "decisions": [{"line_no": 1, "accepted": {"amount": 10.1, "currency": "EUR"}}]},
        "body.decisions.0.accepted.amount",
        id="approve",
    ),
    pytest.param(
        f"/claims/{ANY_ID}/payments",
        {"amount": {"amount": 10.1, "currency": "EUR"}, "bank_reference": "SEPA-1", "on": "2023-04-20"},
        "body.amount.amount",
        id="payment",
    ),
    pytest.param("/costs", cost_body(amount={"amount": 412.8, "currency": "EUR"}), "body.amount.amount", id="cost"),
]


class TestWritesInGeneral:
    @pytest.mark.parametrize(("path", "body"), WRITES)
    def test_a_write_without_a_valid_token_is_401_and_records_nothing(
        self, api: Api, store: ServiceStore, path: str, body: JSON
    ) -> None:
        """No token, another scheme, an unknown token and a revoked token: 401 with a
        WWW-Authenticate challenge, and nothing is recorded."""
        revoked = store.create_token(name="rob.revoked", role="officer", partner="POINTEX")
        store.revoke_token("rob.revoked")
        for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, bearer("glt_not-a-token"), bearer(revoked)):
            response = checked(api.client.post(PREFIX + path, json=body, headers=headers))
            details = problem(response, 401)
            assert response.headers["WWW-Authenticate"] == "Bearer"
            assert "token" in details["detail"]
        assert api.event_count() == 0

    @pytest.mark.parametrize(("path", "body", "field"), FLOAT_MONEY)
    def test_a_json_float_for_money_is_422_naming_the_field(
        self, api: Api, tokens: Tokens, path: str, body: JSON, field: str
    ) -> None:
        """A binary float can't hold every cent, so an amount or rate sent as a JSON number is
        refused with a field error that names the field, and nothing is recorded."""
        writer = tokens.coordinator if path in {"/grant", "/budget/transfers", "/missions"} else tokens.pointex
        response = api.post(path, body, writer)
        errors = field_errors(response)
        assert errors == {field: "value_error"}
        assert "decimal strings" in response.json()["detail"]
        assert api.event_count() == 0

    def test_a_body_that_is_not_json_is_422(self, api: Api, tokens: Tokens) -> None:
        """A body that is not JSON at all is invalid input, not a server error."""
        response = api.client.post(
            PREFIX + "/smes",
            content=b"not json",
            headers={**bearer(tokens.pointex), "Content-Type": "application/json"},
        )
        problem(response, 422)


# --- the grant ------------------------------------------------------------------------------
class TestGrant:
    def test_signing_opens_every_line_and_the_budget_shows_it(self, api: Api, tokens: Tokens) -> None:
        """The coordinator signs: 201 with the position, 6 partners x 7 categories of lines summing
        to EUR 500,000.00, and GET /budget right after shows the same books."""
        response = api.post("/grant", grant_body(), tokens.coordinator)
        assert response.status_code == 201
        body = response.json()
        assert body["position"] >= 43
        data = body["data"]
        assert data["code"] == "EU-ALLIANCE"
        assert data["total"] == money("500000.00")
        assert data["eu_cap"] == money("450000.00")
        assert data["funding_rate"] == "0.90"
        assert len(data["lines"]) == 42
        assert data["totals"]["allocated"] == money("500000.00")
        assert data["totals"]["remaining"] == money("500000.00")
        assert api.budget() == data
        signed = api.events(event_type="Signed")
        assert [(e["aggregate_type"], e["actor_id"], e["role"]) for e in signed] == [
            ("Grant", "claire.coordinator", "coordinator")
        ]

    def test_the_budget_is_404_before_the_grant_is_signed(self, api: Api) -> None:
        """Nothing to show before the agreement is signed in: a 404 problem, not an empty 200."""
        problem(api.get("/budget"), 404)

    def test_signing_the_same_agreement_again_records_nothing(self, api: Api, tokens: Tokens) -> None:
        """A repeated signature (a client retry) answers 201 again and records no new event."""
        api.ok(api.post("/grant", grant_body(), tokens.coordinator))
        before = api.event_count()
        api.ok(api.post("/grant", grant_body(), tokens.coordinator))
        assert api.event_count() == before

    def test_a_different_agreement_is_409(self, api: Api, tokens: Tokens) -> None:
        """A ledger keeps one grant: another agreement is refused and the books are unchanged."""
        api.ok(api.post("/grant", grant_body(), tokens.coordinator))
        other = grant_body(code="OTHER", total=money("600000.00"))
        details = rejected_payload(api, "/grant", other, tokens.coordinator, 409)
        assert "EU-ALLIANCE" in details["detail"]
        assert api.budget()["code"] == "EU-ALLIANCE"

    def test_lines_that_do_not_sum_to_the_total_are_422_with_the_numbers(self, api: Api, tokens: Tokens) -> None:
        """One cent too much in a line: refused, the detail names both sums and the difference."""
        body = grant_body()
        body["budget"]["TECHTERA"]["PERSONNEL"] = money("52333.34")
        details = rejected_payload(api, "/grant", body, tokens.coordinator, 422)
        assert "EUR 500,000.01" in details["detail"]
        assert "EUR 500,000.00" in details["detail"]
        assert "EUR -0.01" in details["detail"]
        problem(api.get("/budget"), 404)

    @pytest.mark.parametrize("who", ["pointex", "auditor"])
    def test_only_the_coordinator_signs(self, api: Api, tokens: Tokens, who: str) -> None:
        """An officer or an auditor may not sign in the grant: 403, nothing recorded."""
        details = rejected_payload(api, "/grant", grant_body(), getattr(tokens, who), 403)
        assert "coordinator" in details["detail"]

    def test_invalid_agreements_are_422(self, api: Api, tokens: Tokens) -> None:
        """Unknown currency, too many decimals, a missing field and an unknown field: 422."""
        unknown_currency = problem(
            api.post("/grant", grant_body(total=money("500000", "XYZ")), tokens.coordinator), 422
        )
        assert "XYZ" in unknown_currency["detail"]
        too_precise = problem(api.post("/grant", grant_body(total=money("500000.001")), tokens.coordinator), 422)
        assert "500000.001" in too_precise["detail"]
        missing = grant_body()
        del missing["signed_on"]
        assert field_errors(api.post("/grant", missing, tokens.coordinator)) == {"body.signed_on": "missing"}
        extra = grant_body(surprise="yes")
        assert field_errors(api.post("/grant", extra, tokens.coordinator)) == {"body.surprise": "extra_forbidden"}
        malformed = grant_body(total=money("500000.00", "EURO"))
        assert "body.total.currency" in field_errors(api.post("/grant", malformed, tokens.coordinator))
        assert api.event_count() == 0


# --- budget transfers -----------------------------------------------------------------------
class TestTransfers:
    def test_a_transfer_moves_money_and_the_total_stays(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """201 with the transfer; GET /budget right after: NIDV PERSONNEL -5000, NIDV FSTP +5000,
        and the grant's total still EUR 500,000.00."""
        response = api.post("/budget/transfers", transfer_body(), tokens.coordinator)
        data = api.ok(response)
        assert data["amount"] == money("5000.00")
        assert (data["from_partner"], data["from_category"], data["to_partner"], data["to_category"]) == (
            "NIDV",
            "PERSONNEL",
            "NIDV",
            "FSTP",
        )
        assert data["decision_ref"] == "SC-2022-03"
        uuid.UUID(data["id"])
        assert api.line("NIDV", "PERSONNEL")["allocated"] == money("47333.33")
        assert api.line("NIDV", "FSTP")["allocated"] == money("25000.00")
        assert api.budget()["totals"]["allocated"] == money("500000.00")
        moved = api.events(event_type="TransferredOut")
        assert moved[-1]["payload"]["amount"] == money("5000.00")

    def test_a_client_chosen_id_is_kept_and_a_repeat_records_nothing(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """The transfer keeps the client's id; the same transfer again records nothing, and the same
        id with other content is a 409 conflict."""
        transfer_id = str(uuid.uuid4())
        assert api.ok(api.post("/budget/transfers", transfer_body(id=transfer_id), tokens.coordinator))["id"] == (
            transfer_id
        )
        before = api.event_count()
        api.ok(api.post("/budget/transfers", transfer_body(id=transfer_id), tokens.coordinator))
        assert api.event_count() == before
        other = transfer_body(id=transfer_id, amount=money("1.00"))
        rejected_payload(api, "/budget/transfers", other, tokens.coordinator, 409)
        assert api.line("NIDV", "FSTP")["allocated"] == money("25000.00")

    def test_moving_more_than_is_free_is_409_with_the_numbers(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """A line cannot give more than it has: refused, detail names the amount and the limit."""
        body = transfer_body(from_partner="POINTEX", from_category="FSTP", to_partner="NTT", amount=money("20000.01"))
        details = rejected_payload(api, "/budget/transfers", body, tokens.coordinator, 409)
        assert "EUR 20,000.01" in details["detail"]
        assert "at most EUR 20,000.00" in details["detail"]
        assert api.line("POINTEX", "FSTP")["allocated"] == money("20000.00")

    @pytest.mark.parametrize("who", ["pointex", "auditor"])
    def test_only_the_coordinator_transfers(self, api: Api, tokens: Tokens, alliance: Alliance, who: str) -> None:
        """Officers and auditors may not move budget: 403, nothing recorded."""
        rejected_payload(api, "/budget/transfers", transfer_body(), getattr(tokens, who), 403)

    def test_an_unknown_partner_is_404(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """A partner that is not in the grant: 404 naming the partners that are."""
        details = rejected_payload(api, "/budget/transfers", transfer_body(to_partner="ACME"), tokens.coordinator, 404)
        assert "ACME" in details["detail"]
        assert "TECHTERA" in details["detail"]

    def test_invalid_transfers_are_422(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """An unknown category, the same line twice, a non-EUR amount, a missing decision
        reference: 422, nothing recorded."""
        for body in (
            transfer_body(to_category="SNACKS"),
            transfer_body(to_category="PERSONNEL"),
            transfer_body(amount=money("-5.00")),
        ):
            rejected_payload(api, "/budget/transfers", body, tokens.coordinator, 422)
        missing = transfer_body()
        del missing["decision_ref"]
        assert field_errors(api.post("/budget/transfers", missing, tokens.coordinator)) == {
            "body.decision_ref": "missing"
        }


# --- missions -------------------------------------------------------------------------------
USA = {
    "code": "USA-2022",
    "country": "US",
    "city": "Washington",
    "start": "2022-10-10",
    "end": "2022-10-12",
    "responsible_partner": "NTT",
}


class TestMissions:
    def test_opening_a_mission_shows_it(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """201 with the mission (rate, cap per SME as money, the closed list of cost types); GET
        /missions/{id} and GET /missions show it right after."""
        data = api.ok(api.post("/missions", mission_body(**USA), tokens.coordinator))
        assert data["code"] == "USA-2022"
        assert data["responsible_partner"] == "NTT"
        assert data["reimbursement_rate"] == "0.70"
        assert data["cap_per_sme"] == money("2000.00")
        assert data["eligible_cost_types"] == ["ACCOMMODATION", "REGISTRATION_FEE", "STAND", "TRAVEL"]
        assert data["smes_selected"] == 0
        assert data["requested"] == money("0.00")
        response = api.get(f"/missions/{data['id']}")
        assert response.status_code == 200
        assert response.json() == data
        listed = api.get("/missions").json()
        assert [m["code"] for m in listed] == ["USA-2022", "JPN-2023"]

    def test_opening_the_same_mission_again_records_nothing(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """A mission's id follows from its code: the same mission again is the same id, no event."""
        before = api.event_count()
        data = api.ok(api.post("/missions", mission_body(), tokens.coordinator))
        assert data["id"] == alliance.mission_id
        assert api.event_count() == before

    @pytest.mark.parametrize("who", ["pointex", "auditor"])
    def test_only_the_coordinator_opens_missions(self, api: Api, tokens: Tokens, alliance: Alliance, who: str) -> None:
        """Officers and auditors may not open a mission: 403, nothing recorded."""
        rejected_payload(api, "/missions", mission_body(**USA), getattr(tokens, who), 403)

    def test_a_mission_outside_the_action_period_is_409(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """A mission after the grant ends is refused by a rule, naming its date and the period."""
        late = mission_body(**{**USA, "start": "2023-09-10", "end": "2023-09-12"})
        details = rejected_payload(api, "/missions", late, tokens.coordinator, 409)
        assert "2023-09-10" in details["detail"]
        assert "2021-09-01 to 2023-08-31" in details["detail"]

    def test_an_unknown_responsible_partner_is_404(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """The responsible partner must be one of the grant's partners."""
        details = rejected_payload(
            api, "/missions", mission_body(**{**USA, "responsible_partner": "ACME"}), tokens.coordinator, 404
        )
        assert "ACME" in details["detail"]

    def test_invalid_missions_are_422(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """Ending before it starts, a lowercase country, no cost types, an unknown field: 422."""
        rejected_payload(
            api,
            "/missions",
            mission_body(**{**USA, "start": "2022-10-12", "end": "2022-10-10"}),
            tokens.coordinator,
            422,
        )
        assert "body.country" in field_errors(api.post("/missions", mission_body(country="jp"), tokens.coordinator))
        assert "body.eligible_cost_types" in field_errors(
            api.post("/missions", mission_body(**USA, eligible_cost_types=[]), tokens.coordinator)
        )
        assert field_errors(api.post("/missions", mission_body(**USA, budget="x"), tokens.coordinator)) == {
            "body.budget": "extra_forbidden"
        }

    def test_an_unknown_mission_is_404(self, api: Api, alliance: Alliance) -> None:
        """GET of an id that is no mission: 404; of a code that is no mission's (a mission may
        be named by its code): 404 naming the missions there are."""
        problem(api.get(f"/missions/{UNKNOWN}"), 404)
        problem(api.get(f"/missions/{alliance.sme_id}"), 404)
        assert "the missions are JPN-2023" in problem(api.get("/missions/japan"), 404)["detail"]

    def test_reading_missions_needs_a_token(self, api: Api, alliance: Alliance) -> None:
        """Reads are for signed-in users only."""
        problem(api.client.get(f"{PREFIX}/missions"), 401)
        problem(api.client.get(f"{PREFIX}/missions/{alliance.mission_id}"), 401)


# --- SMEs -----------------------------------------------------------------------------------
class TestSmes:
    def test_registering_an_sme_shows_it(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """201 with the SME and its EUR 60,000.00 cap over the grant; GET /smes/{id} and GET /smes
        show it right after."""
        data = api.ok(api.post("/smes", sme_body("FR12345678901", country="FR"), tokens.pointex))
        assert (data["legal_name"], data["country"], data["identifier"]) == (
            "Tessuti Avanzati FR12345678901 S.r.l.",
            "FR",
            "FR12345678901",
        )
        assert data["missions"] == []
        assert data["approved"] == money("0.00")
        assert data["remaining_overall"] == money("60000.00")
        assert api.get(f"/smes/{data['id']}").json() == data
        assert data["id"] in {s["id"] for s in api.get("/smes").json()["data"]}

    def test_the_coordinator_may_register_and_choose_the_id(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """The coordinator registers too; a client-chosen id is kept."""
        sme_id = str(uuid.uuid4())
        data = api.ok(api.post("/smes", sme_body("DE123456789", id=sme_id), tokens.coordinator))
        assert data["id"] == sme_id
        assert api.get(f"/smes/{sme_id}").status_code == 200

    def test_an_identifier_registers_once(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """The same VAT number again under another id: 409 naming the SME that has it."""
        details = rejected_payload(api, "/smes", sme_body(), tokens.ntt, 409)
        assert "IT01234567890" in details["detail"]
        assert alliance.sme_id in details["detail"]
        assert api.get("/smes").json()["count"] == 1

    def test_an_auditor_may_not_register(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """Auditors only read: 403, nothing recorded."""
        rejected_payload(api, "/smes", sme_body("NL123456789B01", country="NL"), tokens.auditor, 403)

    def test_invalid_smes_are_422(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """A missing legal name, a country that is no ISO code, an unknown field: 422."""
        missing = sme_body("IT999")
        del missing["legal_name"]
        assert field_errors(api.post("/smes", missing, tokens.pointex)) == {"body.legal_name": "missing"}
        assert "body.country" in field_errors(api.post("/smes", sme_body("IT998", country="Italy"), tokens.pointex))
        assert field_errors(api.post("/smes", sme_body("IT997", vat="x"), tokens.pointex)) == {
            "body.vat": "extra_forbidden"
        }
        assert api.get("/smes").json()["count"] == 1

    def test_an_unknown_sme_is_404(self, api: Api, alliance: Alliance) -> None:
        """GET of an id that is no SME: 404."""
        details = problem(api.get(f"/smes/{UNKNOWN}"), 404)
        assert UNKNOWN in details["detail"]


# --- selections -----------------------------------------------------------------------------
class TestSelections:
    def test_selecting_an_sme_shows_the_mission_and_its_cap(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """201 with the SME now on the mission, its full cap remaining; the mission counts two SMEs."""
        sme = api.ok(api.post("/smes", sme_body("IT22222222222"), tokens.pointex))
        body = {"sme_id": sme["id"], "on": "2022-12-06"}
        data = api.ok(api.post(f"/missions/{alliance.mission_id}/selections", body, tokens.pointex))
        assert data["id"] == sme["id"]
        [on_mission] = data["missions"]
        assert on_mission["mission_id"] == alliance.mission_id
        assert on_mission["mission_code"] == "JPN-2023"
        assert on_mission["cap"] == money("2000.00")
        assert on_mission["remaining_cap"] == money("2000.00")
        assert api.get(f"/smes/{sme['id']}").json() == data
        assert api.get(f"/missions/{alliance.mission_id}").json()["smes_selected"] == 2

    def test_selecting_again_records_nothing(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """A repeated selection answers 201 and records no event."""
        before = api.event_count()
        body = {"sme_id": alliance.sme_id, "on": "2022-12-06"}
        api.ok(api.post(f"/missions/{alliance.mission_id}/selections", body, tokens.pointex))
        assert api.event_count() == before

    @pytest.mark.parametrize("who", ["ntt", "coordinator", "auditor"])
    def test_only_officers_of_the_responsible_partner_select(
        self, api: Api, tokens: Tokens, alliance: Alliance, who: str
    ) -> None:
        """An officer of another partner, the coordinator or an auditor: 403, nothing recorded."""
        sme = api.ok(api.post("/smes", sme_body("IT33333333333"), tokens.pointex))
        body = {"sme_id": sme["id"], "on": "2022-12-06"}
        details = rejected_payload(api, f"/missions/{alliance.mission_id}/selections", body, getattr(tokens, who), 403)
        # the coordinator and auditors are refused by role before any lookup; NTT by partner after it
        assert ("JPN-2023" if who == "ntt" else "only an officer may") in details["detail"]
        assert api.get(f"/smes/{sme['id']}").json()["missions"] == []

    def test_an_unknown_mission_or_sme_is_404(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """Selecting for a mission that does not exist, or an SME that does not: 404."""
        body = {"sme_id": alliance.sme_id, "on": "2022-12-06"}
        rejected_payload(api, f"/missions/{UNKNOWN}/selections", body, tokens.pointex, 404)
        unknown_sme = {"sme_id": UNKNOWN, "on": "2022-12-06"}
        rejected_payload(api, f"/missions/{alliance.mission_id}/selections", unknown_sme, tokens.pointex, 404)

    def test_invalid_selections_are_422(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """A missing SME id, an SME id that is no UUID, a malformed mission id: 422."""
        path = f"/missions/{alliance.mission_id}/selections"
        assert field_errors(api.post(path, {"on": "2022-12-06"}, tokens.pointex)) == {"body.sme_id": "missing"}
        assert "body.sme_id" in field_errors(api.post(path, {"sme_id": "x", "on": "2022-12-06"}, tokens.pointex))
        body = {"sme_id": alliance.sme_id, "on": "2022-12-06"}
        assert "path.mission_id" in field_errors(api.post("/missions/japan/selections", body, tokens.pointex))


# --- exchange rates -------------------------------------------------------------------------
class TestExchangeRates:
    def test_recording_a_rate_makes_foreign_claims_convert(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """201 with the rate as a decimal string; right after, a USD claim converts with it
        (EUR = USD / rate: 109.87 / 1.0987 = 100.00, reimbursed at 70% = 70.00)."""
        data = api.ok(api.post("/exchange-rates", rate_body(), tokens.pointex))
        assert data == {
            "id": data["id"],
            "currency": "USD",
            "month": "2023-03",
            "rate": "1.0987",
            "source": "InforEuro",
            "history_url": f"/api/v1/audit/entities/{data['id']}",
        }
        recorded = api.events(aggregate_type="ExchangeRate", event_type="Recorded")
        assert [e["payload"]["rate"] for e in recorded] == [JPY_RATE, "1.0987"]
        claim = api.submit(alliance, expense("109.87", "USD", "USD-1"))
        assert claim["requested"] == money("70.00")

    def test_the_coordinator_and_any_officer_may_record_rates(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """Rates are shared by the consortium: NTT's officer and the coordinator record them too."""
        api.ok(api.post("/exchange-rates", rate_body(), tokens.ntt))
        api.ok(api.post("/exchange-rates", rate_body(currency="CAD", rate="1.4795"), tokens.coordinator))

    def test_the_same_rate_again_records_nothing_and_another_is_409(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """A rate is recorded once: the same again is harmless, a different one is refused naming
        the rate already recorded (a correction needs a reason)."""
        before = api.event_count()
        same = api.ok(api.post("/exchange-rates", rate_body(currency="JPY", rate=JPY_RATE), tokens.pointex))
        assert same["rate"] == JPY_RATE
        assert api.event_count() == before
        details = rejected_payload(
            api, "/exchange-rates", rate_body(currency="JPY", rate="150.00"), tokens.pointex, 409
        )
        assert JPY_RATE in details["detail"]
        assert "JPY" in details["detail"]
        assert JPY_MONTH in details["detail"]

    def test_an_auditor_may_not_record_rates(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """Auditors only read: 403, nothing recorded."""
        rejected_payload(api, "/exchange-rates", rate_body(), tokens.auditor, 403)

    def test_invalid_rates_are_422(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """An unknown currency, EUR itself, a malformed month, a rate that is no number, a missing
        rate: 422, nothing recorded."""
        details = rejected_payload(api, "/exchange-rates", rate_body(currency="XYZ"), tokens.pointex, 422)
        assert "XYZ" in details["detail"]
        rejected_payload(api, "/exchange-rates", rate_body(currency="EUR", rate="1"), tokens.pointex, 422)
        assert "body.month" in field_errors(api.post("/exchange-rates", rate_body(month="2023-3"), tokens.pointex))
        assert "body.rate" in field_errors(api.post("/exchange-rates", rate_body(rate="cheap"), tokens.pointex))
        missing = rate_body()
        del missing["rate"]
        assert field_errors(api.post("/exchange-rates", missing, tokens.pointex)) == {"body.rate": "missing"}


# --- claims ---------------------------------------------------------------------------------
class TestSubmitClaims:
    def test_a_claim_in_yen_is_recorded_and_pending(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """201 with the claim: JPY 182000 at 144.83 = EUR 1256.65, 70% = EUR 879.66 requested.
        GET /claims/{id} shows it, and POINTEX's FSTP line shows it pending."""
        body = api.claim_body(alliance, expense("182000", "JPY", "JAL-7781"))
        response = api.post("/claims", body, tokens.pointex)
        data = api.ok(response)
        assert data["state"] == "submitted"
        assert data["partner"] == "POINTEX"
        assert data["requested"] == money("879.66")
        assert data["approved"] is None
        assert data["lines"][0]["amount"] == money("182000", "JPY")
        assert data["lines"][0]["receipt_ref"] == "JAL-7781"
        assert api.claim(data["id"]) == data
        line = api.line("POINTEX", "FSTP")
        assert line["pending"] == money("879.66")
        assert line["committed"] == money("0.00")
        assert line["remaining"] == money("20000.00")

    def test_a_client_chosen_id_is_kept_and_a_repeat_records_nothing(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """The client's id is the claim's; the same claim again records nothing; the same id
        with other content is a 409 conflict."""
        claim_id = str(uuid.uuid4())
        body = {**api.claim_body(alliance), "id": claim_id}
        assert api.ok(api.post("/claims", body, tokens.pointex))["id"] == claim_id
        before = api.event_count()
        assert api.ok(api.post("/claims", body, tokens.pointex))["id"] == claim_id
        assert api.event_count() == before
        other = {**body, "lines": [expense("999.00", receipt="R-OTHER")]}
        details = rejected_payload(api, "/claims", other, tokens.pointex, 409)
        assert claim_id in details["detail"]

    @pytest.mark.parametrize("who", ["ntt", "coordinator", "auditor"])
    def test_only_officers_of_the_mission_partner_record_claims(
        self, api: Api, tokens: Tokens, alliance: Alliance, who: str
    ) -> None:
        """An officer of NTT, the coordinator, an auditor: 403, no claim and no pending amount."""
        details = rejected_payload(api, "/claims", api.claim_body(alliance), getattr(tokens, who), 403)
        # the coordinator and auditors are refused by role before any lookup; NTT by partner after it
        assert ("JPN-2023" if who == "ntt" else "only an officer may") in details["detail"]
        assert api.get("/claims").json()["count"] == 0
        assert api.line("POINTEX", "FSTP")["pending"] == money("0.00")

    def test_an_unknown_mission_or_sme_is_404(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """A claim on a mission or for an SME the ledger does not know: 404."""
        body = api.claim_body(alliance)
        rejected_payload(api, "/claims", {**body, "mission_id": UNKNOWN}, tokens.pointex, 404)
        rejected_payload(api, "/claims", {**body, "sme_id": UNKNOWN}, tokens.pointex, 404)

    def test_a_missing_exchange_rate_is_a_clear_error(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """No USD rate for March 2023 is recorded: refused by a rule (409, not 404: nothing the
        claim names is unknown), naming the currency and the month and how to record the rate
        (never a guessed rate)."""
        details = rejected_payload(
            api, "/claims", api.claim_body(alliance, expense("100.00", "USD", "USD-1")), tokens.pointex, 409
        )
        assert details["title"] == "Exchange rate missing"
        assert "no USD exchange rate is recorded for 2023-03" in details["detail"]
        assert "import-rates or POST /exchange-rates" in details["detail"]

    def test_refusals_by_the_rules_are_409(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """An SME not selected, an ineligible cost type, an expense outside the action period: 409
        naming what broke the rule, nothing recorded."""
        other = api.ok(api.post("/smes", sme_body("IT44444444444"), tokens.pointex))
        not_selected = rejected_payload(
            api, "/claims", api.claim_body(alliance, sme_id=other["id"]), tokens.pointex, 409
        )
        assert "not selected" in not_selected["detail"]
        meals = rejected_payload(
            api, "/claims", api.claim_body(alliance, expense(cost_type="MEALS")), tokens.pointex, 409
        )
        assert "MEALS" in meals["detail"]
        late = rejected_payload(
            api, "/claims", api.claim_body(alliance, expense(day="2023-09-01")), tokens.pointex, 409
        )
        assert "2023-09-01" in late["detail"]
        assert api.get("/claims").json()["count"] == 0

    def test_a_receipt_is_declared_once_in_the_whole_ledger(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """A receipt already on a claim is refused on another (409 naming the receipt and the claim
        that holds it); twice in one claim is invalid input (422)."""
        first = api.submit(alliance, expense(receipt="JAL-7781"))
        details = rejected_payload(
            api, "/claims", api.claim_body(alliance, expense("50.00", receipt="JAL-7781")), tokens.pointex, 409
        )
        assert "JAL-7781" in details["detail"]
        assert first["id"] in details["detail"]
        twice = api.claim_body(alliance, expense(receipt="R-9"), expense("5.00", receipt="R-9"))
        assert "R-9" in rejected_payload(api, "/claims", twice, tokens.pointex, 422)["detail"]
        assert api.get("/claims").json()["count"] == 1

    def test_invalid_claims_are_422(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """Too many decimals (EUR and JPY), an unknown currency, no lines, a missing field, an
        unknown field, a negative amount: 422, nothing recorded."""
        cents = rejected_payload(api, "/claims", api.claim_body(alliance, expense("100.001")), tokens.pointex, 422)
        assert "100.001" in cents["detail"]
        yen = rejected_payload(api, "/claims", api.claim_body(alliance, expense("1000.5", "JPY")), tokens.pointex, 422)
        assert "JPY amounts allow 0" in yen["detail"]
        currency = rejected_payload(
            api, "/claims", api.claim_body(alliance, expense("10.00", "XYZ")), tokens.pointex, 422
        )
        assert "XYZ" in currency["detail"]
        rejected_payload(api, "/claims", api.claim_body(alliance, expense("-10.00")), tokens.pointex, 422)
        assert "body.lines" in field_errors(
            api.post("/claims", {**api.claim_body(alliance), "lines": []}, tokens.pointex)
        )
        missing = api.claim_body(alliance)
        del missing["sme_id"]
        assert field_errors(api.post("/claims", missing, tokens.pointex)) == {"body.sme_id": "missing"}
        extra = {**api.claim_body(alliance), "approved": money("1.00")}
        assert field_errors(api.post("/claims", extra, tokens.pointex)) == {"body.approved": "extra_forbidden"}
        assert api.get("/claims").json()["count"] == 0


class TestApprove:
    def test_approving_commits_the_amount_on_the_fstp_line(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """200 with the approved claim, the rate used stored on its line; right after, POINTEX's
        FSTP line shows it committed (no longer pending) and the SME's support grows."""
        claim = api.submit(alliance, expense("182000", "JPY", "JAL-7781"))
        response = api.post(f"/claims/{claim['id']}/approve", {"on": "2023-04-10", "reason": "ok"}, tokens.pointex)
        data = api.ok(response, 200)
        assert data["state"] == "approved"
        assert data["approved"] == money("879.66")
        assert data["eligible_eur"] == money("1256.65")
        assert data["decided_on"] == "2023-04-10"
        [line] = data["lines"]
        assert (line["rate"], line["rate_month"], line["rate_source"]) == (JPY_RATE, JPY_MONTH, "InforEuro")
        assert line["eur"] == money("1256.65")
        assert api.claim(claim["id"]) == data
        fstp = api.line("POINTEX", "FSTP")
        assert (fstp["pending"], fstp["committed"], fstp["remaining"]) == (
            money("0.00"),
            money("879.66"),
            money("19120.34"),
        )
        sme = api.get(f"/smes/{alliance.sme_id}").json()
        assert sme["approved"] == money("879.66")
        assert sme["missions"][0]["remaining_cap"] == money("1120.34")

    def test_a_partial_approval_keeps_the_reason_per_line(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """Accepting JPY 150000 of 182000 (VAT recoverable): EUR 1035.70 eligible, 70% = 724.99."""
        claim = api.submit(alliance, expense("182000", "JPY", "JAL-7781"))
        decisions = [{"line_no": 1, "accepted": money("150000", "JPY"), "reason": "recoverable VAT"}]
        data = api.approve(claim["id"], decisions=decisions)
        assert data["approved"] == money("724.99")
        assert data["lines"][0]["accepted"] == money("150000", "JPY")
        assert data["lines"][0]["reason"] == "recoverable VAT"
        assert api.line("POINTEX", "FSTP")["committed"] == money("724.99")

    def test_the_cap_per_sme_limits_and_then_refuses(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """EUR 2,000 per SME on the mission: a second claim is capped at what remains (saying why),
        a third is refused with 409 naming the cap and the claim's amount."""
        first = api.submit(alliance, expense("2000.00", receipt="R-1"))
        assert api.approve(first["id"])["approved"] == money("1400.00")
        second = api.submit(alliance, expense("2000.00", receipt="R-2"))
        capped = api.approve(second["id"])
        assert capped["approved"] == money("600.00")
        assert "EUR 2,000.00" in capped["capped_by"]
        third = api.submit(alliance, expense("100.00", receipt="R-3"))
        details = rejected_payload(api, f"/claims/{third['id']}/approve", {"on": "2023-04-10"}, tokens.pointex, 409)
        assert "EUR 2,000.00" in details["detail"]
        assert "EUR 70.00" in details["detail"]
        assert api.claim(third["id"])["state"] == "submitted"

    def test_approval_beyond_the_fstp_budget_is_409_with_the_numbers(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """After moving 19,000 out of POINTEX's FSTP line, an approval of 1,400 does not fit in the
        1,000 left: 409 naming both, and the budget is unchanged."""
        move = transfer_body(
            from_partner="POINTEX", from_category="FSTP", to_partner="POINTEX", to_category="PERSONNEL"
        )
        api.ok(api.post("/budget/transfers", {**move, "amount": money("19000.00")}, tokens.coordinator))
        claim = api.submit(alliance, expense("2000.00"))
        before = api.budget()
        details = rejected_payload(api, f"/claims/{claim['id']}/approve", {"on": "2023-04-10"}, tokens.pointex, 409)
        assert "EUR 1,000.00" in details["detail"]
        assert "EUR 1,400.00" in details["detail"]
        assert api.budget() == before
        assert api.claim(claim["id"])["state"] == "submitted"

    def test_approving_twice_is_409(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """A claim is decided once: the second approval is refused, nothing committed twice."""
        claim = api.submit(alliance)
        api.approve(claim["id"])
        details = rejected_payload(api, f"/claims/{claim['id']}/approve", {"on": "2023-04-11"}, tokens.pointex, 409)
        assert "approved" in details["detail"]
        assert api.line("POINTEX", "FSTP")["committed"] == money("700.00")

    @pytest.mark.parametrize("who", ["ntt", "coordinator", "auditor"])
    def test_only_officers_of_the_partner_charged_approve(
        self, api: Api, tokens: Tokens, alliance: Alliance, who: str
    ) -> None:
        """Approving a claim charged to POINTEX: NTT's officer, the coordinator and an auditor get
        403, and the claim stays submitted."""
        claim = api.submit(alliance)
        details = rejected_payload(
            api, f"/claims/{claim['id']}/approve", {"on": "2023-04-10"}, getattr(tokens, who), 403
        )
        assert "approve" in details["detail"]
        assert api.claim(claim["id"])["state"] == "submitted"

    def test_an_unknown_claim_is_404(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """Approving a claim that does not exist: 404 naming the id."""
        details = rejected_payload(api, f"/claims/{UNKNOWN}/approve", {"on": "2023-04-10"}, tokens.pointex, 404)
        assert UNKNOWN in details["detail"]

    def test_invalid_approvals_are_422(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """A decision for a line the claim does not have, a date before the submission, a missing
        date, accepting in another currency: 422, the claim stays submitted."""
        claim = api.submit(alliance)
        path = f"/claims/{claim['id']}/approve"
        wrong_line = {"on": "2023-04-10", "decisions": [{"line_no": 2, "accepted": money("10.00")}]}
        assert "line 2" in rejected_payload(api, path, wrong_line, tokens.pointex, 422)["detail"]
        early = rejected_payload(api, path, {"on": "2023-04-01"}, tokens.pointex, 422)
        assert "2023-04-01" in early["detail"]
        other_currency = {"on": "2023-04-10", "decisions": [{"line_no": 1, "accepted": money("10.00", "USD")}]}
        rejected_payload(api, path, other_currency, tokens.pointex, 422)
        assert field_errors(api.post(path, {}, tokens.pointex)) == {"body.on": "missing"}
        assert api.claim(claim["id"])["state"] == "submitted"


class TestRejectAndWithdraw:
    def test_rejecting_frees_the_pending_amount_and_the_receipts(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """200 with the rejected claim and its reason; nothing pending any more; its receipt may be
        declared again on a new claim."""
        claim = api.submit(alliance, expense(receipt="JAL-1"))
        body = {"reason": "boarding pass missing", "on": "2023-04-10"}
        data = api.ok(api.post(f"/claims/{claim['id']}/reject", body, tokens.pointex), 200)
        assert data["state"] == "rejected"
        assert data["reason"] == "boarding pass missing"
        assert api.claim(claim["id"])["state"] == "rejected"
        assert api.line("POINTEX", "FSTP")["pending"] == money("0.00")
        assert api.submit(alliance, expense(receipt="JAL-1"))["state"] == "submitted"

    def test_withdrawing_frees_the_pending_amount(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """200 with the withdrawn claim; GET shows it withdrawn and nothing pending."""
        claim = api.submit(alliance)
        body = {"reason": "the SME cancelled its trip", "on": "2023-04-10"}
        data = api.ok(api.post(f"/claims/{claim['id']}/withdraw", body, tokens.pointex), 200)
        assert data["state"] == "withdrawn"
        assert api.claim(claim["id"])["history"][-1]["event_type"] == "Withdrawn"
        assert api.line("POINTEX", "FSTP")["pending"] == money("0.00")

    @pytest.mark.parametrize("verb", ["reject", "withdraw"])
    def test_only_a_submitted_claim_can_be_closed(
        self, api: Api, tokens: Tokens, alliance: Alliance, verb: str
    ) -> None:
        """Rejecting or withdrawing an approved claim: 409, it stays approved and committed."""
        claim = api.submit(alliance)
        api.approve(claim["id"])
        details = rejected_payload(
            api, f"/claims/{claim['id']}/{verb}", {"reason": "late", "on": "2023-04-12"}, tokens.pointex, 409
        )
        assert "approved" in details["detail"]
        assert api.line("POINTEX", "FSTP")["committed"] == money("700.00")

    @pytest.mark.parametrize("verb", ["reject", "withdraw"])
    @pytest.mark.parametrize("who", ["ntt", "coordinator", "auditor"])
    def test_only_officers_of_the_partner_charged_close_claims(
        self, api: Api, tokens: Tokens, alliance: Alliance, verb: str, who: str
    ) -> None:
        """Someone other than POINTEX's officer: 403, the claim stays submitted."""
        claim = api.submit(alliance)
        body = {"reason": "no", "on": "2023-04-10"}
        rejected_payload(api, f"/claims/{claim['id']}/{verb}", body, getattr(tokens, who), 403)
        assert api.claim(claim["id"])["state"] == "submitted"

    @pytest.mark.parametrize("verb", ["reject", "withdraw"])
    def test_unknown_claims_are_404_and_a_reason_is_required(
        self, api: Api, tokens: Tokens, alliance: Alliance, verb: str
    ) -> None:
        """An unknown claim is 404; no reason or an empty one is 422."""
        rejected_payload(api, f"/claims/{UNKNOWN}/{verb}", {"reason": "x", "on": "2023-04-10"}, tokens.pointex, 404)
        claim = api.submit(alliance)
        path = f"/claims/{claim['id']}/{verb}"
        assert field_errors(api.post(path, {"on": "2023-04-10"}, tokens.pointex)) == {"body.reason": "missing"}
        assert "body.reason" in field_errors(api.post(path, {"reason": "", "on": "2023-04-10"}, tokens.pointex))
        assert api.claim(claim["id"])["state"] == "submitted"


# --- payments and reversals -------------------------------------------------------------------
class TestPayments:
    def test_paying_an_approved_claim_moves_it_to_paid(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """201 with the payment; GET /payments/{id} shows it, the claim is paid and names it, and
        the FSTP line shows the amount paid, no longer committed."""
        claim = api.submit(alliance)
        api.approve(claim["id"])
        body = {"amount": money("700.00"), "bank_reference": "SEPA-2023-0412", "on": "2023-04-20"}
        data = api.ok(api.post(f"/claims/{claim['id']}/payments", body, tokens.pointex))
        assert data["claim_id"] == claim["id"]
        assert data["amount"] == money("700.00")
        assert data["bank_reference"] == "SEPA-2023-0412"
        assert data["value_date"] == "2023-04-20"
        assert data["reversed"] is False
        assert api.get(f"/payments/{data['id']}").json() == data
        paid = api.claim(claim["id"])
        assert (paid["state"], paid["paid"], paid["payment_id"]) == ("paid", money("700.00"), data["id"])
        fstp = api.line("POINTEX", "FSTP")
        assert (fstp["committed"], fstp["paid"], fstp["remaining"]) == (
            money("0.00"),
            money("700.00"),
            money("19300.00"),
        )
        assert api.budget()["eu_contribution"] == money("630.00")

    def test_paying_more_than_approved_is_409_with_the_numbers(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """One cent over the approved EUR 700.00: refused naming both amounts, nothing paid."""
        claim = api.submit(alliance)
        api.approve(claim["id"])
        body = {"amount": money("700.01"), "bank_reference": "SEPA-1", "on": "2023-04-20"}
        details = rejected_payload(api, f"/claims/{claim['id']}/payments", body, tokens.pointex, 409)
        assert "EUR 700.01" in details["detail"]
        assert "EUR 700.00" in details["detail"]
        assert api.claim(claim["id"])["state"] == "approved"
        assert api.line("POINTEX", "FSTP")["paid"] == money("0.00")

    def test_a_claim_is_paid_once_and_only_when_approved(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """A second payment of a paid claim, and a payment of a claim still submitted: 409."""
        submitted = api.submit(alliance, expense(receipt="R-1"))
        body = {"amount": money("10.00"), "bank_reference": "SEPA-1", "on": "2023-04-20"}
        assert (
            "submitted"
            in rejected_payload(api, f"/claims/{submitted['id']}/payments", body, tokens.pointex, 409)["detail"]
        )
        claim = api.submit(alliance, expense(receipt="R-2"))
        api.approve(claim["id"])
        api.pay(claim["id"], "700.00")
        again = {**body, "bank_reference": "SEPA-2"}
        details = rejected_payload(api, f"/claims/{claim['id']}/payments", again, tokens.pointex, 409)
        assert "already paid" in details["detail"]
        assert "EUR 700.00" in details["detail"]

    @pytest.mark.parametrize("who", ["ntt", "coordinator", "auditor"])
    def test_only_officers_of_the_partner_charged_pay(
        self, api: Api, tokens: Tokens, alliance: Alliance, who: str
    ) -> None:
        """Someone other than POINTEX's officer: 403, the claim stays approved."""
        claim = api.submit(alliance)
        api.approve(claim["id"])
        body = {"amount": money("700.00"), "bank_reference": "SEPA-1", "on": "2023-04-20"}
        rejected_payload(api, f"/claims/{claim['id']}/payments", body, getattr(tokens, who), 403)
        assert api.claim(claim["id"])["state"] == "approved"

    def test_unknown_claims_and_payments_are_404(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """Paying a claim that does not exist, reading a payment that does not: 404."""
        body = {"amount": money("10.00"), "bank_reference": "SEPA-1", "on": "2023-04-20"}
        rejected_payload(api, f"/claims/{UNKNOWN}/payments", body, tokens.pointex, 404)
        problem(api.get(f"/payments/{UNKNOWN}"), 404)

    def test_invalid_payments_are_422(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """A payment in USD, too many decimals, before the approval, without a bank reference:
        422, the claim stays approved."""
        claim = api.submit(alliance)
        api.approve(claim["id"])
        path = f"/claims/{claim['id']}/payments"
        body = {"amount": money("700.00"), "bank_reference": "SEPA-1", "on": "2023-04-20"}
        rejected_payload(api, path, {**body, "amount": money("700.00", "USD")}, tokens.pointex, 422)
        rejected_payload(api, path, {**body, "amount": money("699.999")}, tokens.pointex, 422)
        early = rejected_payload(api, path, {**body, "on": "2023-04-09"}, tokens.pointex, 422)
        assert "2023-04-09" in early["detail"]
        missing = {k: v for k, v in body.items() if k != "bank_reference"}
        assert field_errors(api.post(path, missing, tokens.pointex)) == {"body.bank_reference": "missing"}
        assert api.claim(claim["id"])["state"] == "approved"


class TestReversal:
    def paid(self, api: Api, alliance: Alliance) -> tuple[str, str]:
        claim = api.submit(alliance)
        api.approve(claim["id"])
        payment = api.pay(claim["id"], "700.00")
        return claim["id"], payment["id"]

    def test_a_bank_return_makes_the_claim_approved_unpaid_again(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """200 with the reversed payment; the claim is approved again with nothing paid, the amount
        is committed again, and it can be paid anew (not before the bank return)."""
        claim_id, payment_id = self.paid(api, alliance)
        body = {"reason": "bank return: account closed", "on": "2023-05-02"}
        data = api.ok(api.post(f"/payments/{payment_id}/reversal", body, tokens.pointex), 200)
        assert data["reversed"] is True
        assert data["reversal_reason"] == "bank return: account closed"
        assert api.get(f"/payments/{payment_id}").json() == data
        claim = api.claim(claim_id)
        assert (claim["state"], claim["paid"], claim["outstanding"]) == ("approved", money("0.00"), money("700.00"))
        assert claim["history"][-1]["event_type"] == "PaymentReversed"
        fstp = api.line("POINTEX", "FSTP")
        assert (fstp["committed"], fstp["paid"]) == (money("700.00"), money("0.00"))
        again = api.pay(claim_id, "700.00", reference="SEPA-NEW-IBAN", on="2023-05-02")
        assert again["id"] != payment_id

    def test_reversing_twice_is_409(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """A payment is reversed once: the second time is refused naming the payment and amount."""
        _, payment_id = self.paid(api, alliance)
        body = {"reason": "bank return", "on": "2023-05-02"}
        api.ok(api.post(f"/payments/{payment_id}/reversal", body, tokens.pointex), 200)
        details = rejected_payload(api, f"/payments/{payment_id}/reversal", body, tokens.pointex, 409)
        assert payment_id in details["detail"]
        assert "EUR 700.00" in details["detail"]

    def test_a_reversal_is_recorded_even_when_the_line_was_emptied_since(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """EUR 500 paid of 700 approved (200 still committed), then the 19,300 left moved out of
        the FSTP line: the bank return commits again only the 500 it paid, so committed + paid
        stays 700 and it is recorded (a bank return that happened is never refused)."""
        claim = api.submit(alliance)
        api.approve(claim["id"])
        payment = api.pay(claim["id"], "500.00")
        move = transfer_body(
            from_partner="POINTEX", from_category="FSTP", to_partner="POINTEX", to_category="PERSONNEL"
        )
        api.ok(api.post("/budget/transfers", {**move, "amount": money("19300.00")}, tokens.coordinator))
        body = {"reason": "bank return", "on": "2023-05-02"}
        api.ok(api.post(f"/payments/{payment['id']}/reversal", body, tokens.pointex), 200)
        fstp = api.line("POINTEX", "FSTP")
        assert (fstp["allocated"], fstp["committed"], fstp["paid"], fstp["remaining"]) == (
            money("700.00"),
            money("700.00"),
            money("0.00"),
            money("0.00"),
        )
        assert api.claim(claim["id"])["state"] == "approved"

    @pytest.mark.parametrize("who", ["ntt", "coordinator", "auditor"])
    def test_only_officers_of_the_partner_charged_reverse(
        self, api: Api, tokens: Tokens, alliance: Alliance, who: str
    ) -> None:
        """Someone other than POINTEX's officer: 403, the payment stands."""
        claim_id, payment_id = self.paid(api, alliance)
        body = {"reason": "bank return", "on": "2023-05-02"}
        rejected_payload(api, f"/payments/{payment_id}/reversal", body, getattr(tokens, who), 403)
        assert api.claim(claim_id)["state"] == "paid"

    def test_unknown_payments_are_404_and_invalid_reversals_422(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """An unknown payment: 404. A reversal before the value date or without a reason: 422."""
        rejected_payload(api, f"/payments/{UNKNOWN}/reversal", {"reason": "x", "on": "2023-05-02"}, tokens.pointex, 404)
        claim_id, payment_id = self.paid(api, alliance)
        path = f"/payments/{payment_id}/reversal"
        early = rejected_payload(api, path, {"reason": "bank return", "on": "2023-04-19"}, tokens.pointex, 422)
        assert "2023-04-19" in early["detail"]
        assert field_errors(api.post(path, {"on": "2023-05-02"}, tokens.pointex)) == {"body.reason": "missing"}
        assert api.claim(claim_id)["state"] == "paid"


# --- partners' own costs ----------------------------------------------------------------------
class TestCosts:
    def test_a_cost_is_charged_to_the_partners_line(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """201 with the cost; right after, POINTEX's TRAVEL line shows it as own costs, less
        remaining; its INDIRECT line is used by 7% of it (28.896 -> 28.90) and the EU contribution
        is 90% of each: 371.52 + 26.01."""
        data = api.ok(api.post("/costs", cost_body(), tokens.pointex))
        assert (data["partner"], data["category"], data["document_ref"]) == ("POINTEX", "TRAVEL", "INV-2023-118")
        assert data["amount"] == money("412.80")
        assert data["eur"] == money("412.80")
        assert data["cost_date"] == "2023-03-20"
        travel = api.line("POINTEX", "TRAVEL")
        assert (travel["own_costs"], travel["remaining"]) == (money("412.80"), money("9587.20"))
        indirect = api.line("POINTEX", "INDIRECT")
        assert indirect["own_costs"] == money("28.90")
        assert Decimal(indirect["remaining"]["amount"]) == Decimal(indirect["allocated"]["amount"]) - Decimal("28.90")
        assert api.budget()["eu_contribution"] == money("397.53")
        [recorded] = api.events(aggregate_type="Cost")
        assert recorded["aggregate_id"] == data["id"]
        assert recorded["actor_id"] == "paola.pointex"

    def test_a_foreign_cost_converts_at_the_months_rate(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """JPY 50000 in March 2023 at 144.83: EUR 345.23, kept beside the original amount."""
        data = api.ok(api.post("/costs", cost_body(amount=money("50000", "JPY")), tokens.pointex))
        assert data["amount"] == money("50000", "JPY")
        assert data["eur"] == money("345.23")
        assert api.line("POINTEX", "TRAVEL")["own_costs"] == money("345.23")

    @pytest.mark.parametrize("who", ["ntt", "coordinator", "auditor"])
    def test_only_the_partners_own_officers_record_its_costs(
        self, api: Api, tokens: Tokens, alliance: Alliance, who: str
    ) -> None:
        """A cost of POINTEX recorded by NTT's officer, the coordinator or an auditor: 403."""
        details = rejected_payload(api, "/costs", cost_body(), getattr(tokens, who), 403)
        # the coordinator and auditors are refused by role before any lookup; NTT by partner after it
        assert ("POINTEX" if who == "ntt" else "only an officer may") in details["detail"]
        assert api.line("POINTEX", "TRAVEL")["own_costs"] == money("0.00")

    def test_refusals_by_the_rules(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """A document declared twice (409 naming it), a date outside the period (409), a foreign
        cost without its month's rate (409, a rule, naming currency and month): nothing recorded."""
        api.ok(api.post("/costs", cost_body(), tokens.pointex))
        twice = rejected_payload(api, "/costs", cost_body(amount=money("1.00")), tokens.pointex, 409)
        assert "INV-2023-118" in twice["detail"]
        late = rejected_payload(api, "/costs", cost_body(document_ref="INV-9", on="2023-09-01"), tokens.pointex, 409)
        assert "2023-09-01" in late["detail"]
        no_rate = rejected_payload(
            api, "/costs", cost_body(document_ref="INV-10", amount=money("10.00", "CAD")), tokens.pointex, 409
        )
        assert "CAD" in no_rate["detail"]
        assert api.line("POINTEX", "TRAVEL")["own_costs"] == money("412.80")

    def test_invalid_costs_are_422(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """FSTP and INDIRECT are not own-cost categories, an unknown category, too many decimals,
        an unknown currency, a missing document: 422, nothing recorded."""
        for body in (
            cost_body(category="FSTP"),
            cost_body(category="INDIRECT"),
            cost_body(category="SNACKS"),
            cost_body(amount=money("412.801")),
            cost_body(amount=money("412.80", "XYZ")),
        ):
            rejected_payload(api, "/costs", body, tokens.pointex, 422)
        missing = cost_body()
        del missing["document_ref"]
        assert field_errors(api.post("/costs", missing, tokens.pointex)) == {"body.document_ref": "missing"}
        assert api.budget()["totals"]["own_costs"] == money("0.00")


# --- budget reads -----------------------------------------------------------------------------
class TestBudgetReads:
    def story(self, api: Api, alliance: Alliance) -> tuple[int, str]:
        """A claim submitted on 2 April (at log position P) and approved on 10 April 2023."""
        claim = api.submit(alliance)
        position = api.events(aggregate_id=claim["id"])[-1]["position"]
        api.approve(claim["id"])
        return position, claim["id"]

    def test_now_every_line_and_the_totals(self, api: Api, alliance: Alliance) -> None:
        """The books now: 42 lines, totals over all of them, no position or date given."""
        self.story(api, alliance)
        budget = api.budget()
        assert (budget["position"], budget["effective_on"]) == (None, None)
        assert len(budget["lines"]) == 42
        assert budget["totals"]["allocated"] == money("500000.00")
        assert budget["totals"]["committed"] == money("700.00")
        assert budget["totals"]["remaining"] == money("499300.00")

    def test_as_recorded_up_to_a_position(self, api: Api, alliance: Alliance) -> None:
        """?position= shows the books as they stood: the claim pending, not yet committed."""
        position, _ = self.story(api, alliance)
        then = api.line("POINTEX", "FSTP", position=position)
        assert (then["pending"], then["committed"]) == (money("700.00"), money("0.00"))
        assert api.budget(position=position)["position"] == position
        now = api.line("POINTEX", "FSTP")
        assert (now["pending"], now["committed"]) == (money("0.00"), money("700.00"))
        problem(api.get("/budget", position=0), 404)

    def test_as_effective_on_a_business_date(self, api: Api, alliance: Alliance) -> None:
        """?effective= shows the books by business date: on 5 April the claim was pending, on
        10 April committed; before the signature there is no grant (404)."""
        self.story(api, alliance)
        april_5 = api.line("POINTEX", "FSTP", effective="2023-04-05")
        assert (april_5["pending"], april_5["committed"]) == (money("700.00"), money("0.00"))
        assert api.budget(effective="2023-04-05")["effective_on"] == "2023-04-05"
        april_10 = api.line("POINTEX", "FSTP", effective="2023-04-10")
        assert (april_10["pending"], april_10["committed"]) == (money("0.00"), money("700.00"))
        problem(api.get("/budget", effective="2021-08-31"), 404)

    def test_as_recorded_by_a_day(self, api: Api, alliance: Alliance) -> None:
        """?as_of= a day: by the end of today everything recorded shows; by yesterday nothing was."""
        self.story(api, alliance)
        today = datetime.now(UTC).date()
        assert api.line("POINTEX", "FSTP", as_of=today.isoformat())["committed"] == money("700.00")
        problem(api.get("/budget", as_of=(today - timedelta(days=1)).isoformat()), 404)

    def test_invalid_points_in_time_are_422(self, api: Api, alliance: Alliance) -> None:
        """Two points at once, a negative position, a date that is no date: 422."""
        details = problem(api.get("/budget", position=10, effective="2023-04-05"), 422)
        assert "not several" in details["detail"]
        assert "query.position" in field_errors(api.get("/budget", position=-1))
        assert "query.as_of" in field_errors(api.get("/budget", as_of="yesterday"))

    def test_one_partners_budget(self, api: Api, alliance: Alliance) -> None:
        """/partners/POINTEX/budget: only POINTEX's seven lines, totals over them; also as of a
        position; an unknown partner is 404."""
        position, _ = self.story(api, alliance)
        budget = api.get("/partners/POINTEX/budget").json()
        assert {line["partner"] for line in budget["lines"]} == {"POINTEX"}
        assert len(budget["lines"]) == 7
        assert budget["totals"]["allocated"] == money("83333.33")
        assert budget["totals"]["committed"] == money("700.00")
        then = api.get("/partners/POINTEX/budget", position=position).json()
        assert (then["totals"]["pending"], then["totals"]["committed"]) == (money("700.00"), money("0.00"))
        assert api.get("/partners/NTT/budget").json()["totals"]["committed"] == money("0.00")
        details = problem(api.get("/partners/ACME/budget"), 404)
        assert "ACME" in details["detail"]

    def test_budget_reads_need_a_token_and_any_role_may_read(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """401 without a token; the coordinator, an auditor and any officer read the books."""
        problem(api.client.get(f"{PREFIX}/budget"), 401)
        problem(api.client.get(f"{PREFIX}/partners/POINTEX/budget"), 401)
        for token in (tokens.coordinator, tokens.auditor, tokens.pointex, tokens.ntt):
            assert api.get("/budget", token).status_code == 200


# --- claim reads -----------------------------------------------------------------------------
class TestClaimList:
    def story(self, api: Api, alliance: Alliance) -> tuple[str, list[str]]:
        """Three claims of one SME and one of another: approved, submitted, rejected; paid."""
        other = api.new_sme("IT55555555555", alliance.mission_id)
        first = api.submit(alliance, expense(receipt="R-1"))
        api.approve(first["id"])
        second = api.submit(alliance, expense("10.00", receipt="R-2"))
        third = api.submit(alliance, expense("10.00", receipt="R-3"))
        reject = {"reason": "duplicate", "on": "2023-04-10"}
        api.ok(api.post(f"/claims/{third['id']}/reject", reject, api.pointex), 200)
        fourth = api.submit(alliance, expense(receipt="R-4"), sme_id=other)
        api.approve(fourth["id"])
        api.pay(fourth["id"], "700.00")
        return other, [first["id"], second["id"], third["id"], fourth["id"]]

    def test_claims_in_recording_order_with_the_count(self, api: Api, alliance: Alliance) -> None:
        """Every claim, in the order recorded, with the count of all that match; no lines or
        history in the list."""
        _, ids = self.story(api, alliance)
        page = api.get("/claims").json()
        assert page["count"] == 4
        assert [c["id"] for c in page["data"]] == ids
        assert [c["state"] for c in page["data"]] == ["approved", "submitted", "rejected", "paid"]
        assert all(c["lines"] is None and c["history"] is None for c in page["data"])

    def test_filters(self, api: Api, alliance: Alliance) -> None:
        """By state, SME, mission and partner charged; a partner with no claims matches nothing
        (an unknown mission is a 422: tests/api/test_codes.py)."""
        other, ids = self.story(api, alliance)
        assert [c["id"] for c in api.get("/claims", state="approved").json()["data"]] == [ids[0]]
        assert [c["id"] for c in api.get("/claims", state="paid").json()["data"]] == [ids[3]]
        assert [c["id"] for c in api.get("/claims", sme=other).json()["data"]] == [ids[3]]
        assert api.get("/claims", sme=alliance.sme_id).json()["count"] == 3
        assert api.get("/claims", mission=alliance.mission_id).json()["count"] == 4
        assert "query.mission" in field_errors(api.get("/claims", mission=UNKNOWN))
        assert api.get("/claims", partner="POINTEX").json()["count"] == 4
        assert api.get("/claims", partner="NTT").json()["count"] == 0
        both = api.get("/claims", sme=alliance.sme_id, state="submitted").json()
        assert [c["id"] for c in both["data"]] == [ids[1]]

    def test_pagination(self, api: Api, alliance: Alliance) -> None:
        """offset and limit page through the matches; count is always the total."""
        _, ids = self.story(api, alliance)
        first = api.get("/claims", limit=3).json()
        second = api.get("/claims", limit=3, offset=3).json()
        assert [c["id"] for c in first["data"]] == ids[:3]
        assert [c["id"] for c in second["data"]] == ids[3:]
        assert first["count"] == second["count"] == 4
        assert api.get("/claims", offset=10).json() == {"data": [], "count": 4}

    def test_invalid_queries_are_422_and_reads_need_a_token(self, api: Api, alliance: Alliance) -> None:
        """A zero or too large limit, a negative offset, a mission that is no mission's id or
        code: 422; no token: 401."""
        assert "query.limit" in field_errors(api.get("/claims", limit=0))
        assert "query.limit" in field_errors(api.get("/claims", limit=501))
        assert "query.offset" in field_errors(api.get("/claims", offset=-1))
        assert "query.mission" in field_errors(api.get("/claims", mission="japan"))
        problem(api.client.get(f"{PREFIX}/claims"), 401)


class TestClaimDetail:
    def test_one_claim_with_its_lines_and_history(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """GET /claims/{id}: lines with the rate used, and every event in order with who did it,
        its business date and amount."""
        claim = api.submit(alliance, expense("182000", "JPY", "JAL-7781"), expense("300.00", receipt="HOTEL-1"))
        api.approve(claim["id"], reason="receipts checked")
        api.pay(claim["id"], "1089.66")
        detail = api.claim(claim["id"])
        assert detail["state"] == "paid"
        assert [line["line_no"] for line in detail["lines"]] == [1, 2]
        assert detail["lines"][0]["rate"] == JPY_RATE
        assert detail["lines"][1]["rate"] == "1"
        history = detail["history"]
        assert [h["event_type"] for h in history] == ["Submitted", "Approved", "ReimbursementPaid"]
        assert [h["version"] for h in history] == [1, 2, 3]
        assert [h["effective_date"] for h in history] == ["2023-04-02", "2023-04-10", "2023-04-20"]
        assert {(h["actor_id"], h["role"]) for h in history} == {("paola.pointex", "officer")}
        assert history[1]["reason"] == "receipts checked"
        assert history[2]["amount"] == money("1089.66")
        assert history == sorted(history, key=lambda h: h["position"])

    def test_unknown_and_malformed_ids(self, api: Api, alliance: Alliance) -> None:
        """An unknown claim is 404, an id that is no UUID 422, no token 401."""
        assert UNKNOWN in problem(api.get(f"/claims/{UNKNOWN}"), 404)["detail"]
        assert "path.claim_id" in field_errors(api.get("/claims/first"))
        problem(api.client.get(f"{PREFIX}/claims/{UNKNOWN}"), 401)


# --- the audit trail -------------------------------------------------------------------------
class TestAuditEvents:
    def story(self, api: Api, alliance: Alliance) -> str:
        claim = api.submit(alliance)
        api.approve(claim["id"], reason="ok")
        claim_id: str = claim["id"]
        return claim_id

    def test_every_event_says_who_when_and_what(self, api: Api, alliance: Alliance) -> None:
        """In log order, each row names the actor, role, partner, recorded and effective dates,
        the record and the event."""
        self.story(api, alliance)
        events = api.events()
        positions = [e["position"] for e in events]
        assert positions == sorted(positions)
        assert len(set(positions)) == len(positions)
        approved = next(e for e in events if e["event_type"] == "Approved")
        assert (approved["actor_id"], approved["role"], approved["partner"]) == ("paola.pointex", "officer", "POINTEX")
        assert approved["effective_date"] == "2023-04-10"
        assert approved["reason"] == "ok"
        assert approved["aggregate_type"] == "Claim"
        assert approved["payload"]["approved"] == money("700.00")
        datetime.fromisoformat(approved["recorded_at"])

    def test_filters(self, api: Api, alliance: Alliance) -> None:
        """By record, record type, actor, event type and effective dates."""
        claim_id = self.story(api, alliance)
        assert [e["event_type"] for e in api.events(aggregate_id=claim_id)] == ["Submitted", "Approved"]
        assert {e["aggregate_type"] for e in api.events(aggregate_type="Mission")} == {"Mission"}
        assert len(api.events(aggregate_type="BudgetLine", event_type="Opened")) == 42
        coordinator = api.events(actor="claire.coordinator")
        assert {e["actor_id"] for e in coordinator} == {"claire.coordinator"}
        assert len(coordinator) == 44  # the grant, 42 budget lines, the mission
        assert [e["aggregate_type"] for e in api.events(event_type="Committed")] == ["BudgetLine"]
        april = api.events(effective_from="2023-04-01", effective_to="2023-04-30")
        assert {e["effective_date"][:7] for e in april} == {"2023-04"}
        assert {e["event_type"] for e in april} >= {"Submitted", "Approved", "Committed"}
        assert api.events(actor="nobody") == []

    def test_paging_on_with_after(self, api: Api, alliance: Alliance) -> None:
        """?limit= cuts a page, ?after=<last position seen> continues exactly where it stopped."""
        self.story(api, alliance)
        everything = api.events()
        first = api.get("/audit/events", limit=10).json()
        rest = api.get("/audit/events", after=first[-1]["position"], limit=1000).json()
        assert first + rest == everything

    def test_invalid_queries_are_422_and_reads_need_a_token(self, api: Api, alliance: Alliance) -> None:
        """limit above 1000, a negative position, a record id that is no UUID: 422; no token: 401."""
        assert "query.limit" in field_errors(api.get("/audit/events", limit=1001))
        assert "query.after" in field_errors(api.get("/audit/events", after=-1))
        assert "query.aggregate_id" in field_errors(api.get("/audit/events", aggregate_id="claim-1"))
        problem(api.client.get(f"{PREFIX}/audit/events"), 401)


# --- idempotency -----------------------------------------------------------------------------
class TestIdempotency:
    def test_the_same_key_and_body_replays_the_first_response(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """A retried POST with the same Idempotency-Key and body: the first response again (status
        and body), marked Idempotent-Replayed, and nothing new recorded."""
        body = api.claim_body(alliance)
        first = api.post("/claims", body, tokens.pointex, key="claim-2023-04-02-a")
        assert first.status_code == 201
        assert "Idempotent-Replayed" not in first.headers
        before = api.event_count()
        again = api.post("/claims", body, tokens.pointex, key="claim-2023-04-02-a")
        assert again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert api.event_count() == before
        assert api.get("/claims").json()["count"] == 1

    def test_a_replayed_decision_keeps_its_status(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """An approval retried with its key answers 200 again (not 409 'already approved')."""
        claim = api.submit(alliance)
        path = f"/claims/{claim['id']}/approve"
        first = api.post(path, {"on": "2023-04-10"}, tokens.pointex, key="approve-1")
        again = api.post(path, {"on": "2023-04-10"}, tokens.pointex, key="approve-1")
        assert (first.status_code, again.status_code) == (200, 200)
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert api.line("POINTEX", "FSTP")["committed"] == money("700.00")

    def test_the_same_key_with_another_body_is_422(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """A key names one request: reusing it for another body (or another path) is refused and
        records nothing."""
        body = api.claim_body(alliance)
        api.ok(api.post("/claims", body, tokens.pointex, key="k-1"))
        before = api.event_count()
        other = api.claim_body(alliance, expense("20.00", receipt="R-OTHER"))
        details = problem(api.post("/claims", other, tokens.pointex, key="k-1"), 422)
        assert "k-1" in details["detail"]
        problem(api.post("/smes", sme_body("IT66666666666"), tokens.pointex, key="k-1"), 422)
        assert api.event_count() == before
        assert api.get("/claims").json()["count"] == 1

    def test_keys_are_per_user(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """Another user's request with the same key is a request of its own, not a replay."""
        api.ok(api.post("/exchange-rates", rate_body(), tokens.pointex, key="rate-usd"))
        response = api.post("/exchange-rates", rate_body(currency="CAD", rate="1.4795"), tokens.ntt, key="rate-usd")
        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response.headers
        assert response.json()["data"]["currency"] == "CAD"

    def test_a_retried_claim_without_an_id_is_recorded_once(
        self, api: Api, store: ServiceStore, tokens: Tokens, alliance: Alliance
    ) -> None:
        """Without a client id, the claim's id follows from the key: even if the stored first
        response is lost, the retry finds the same claim and records nothing new."""
        body = api.claim_body(alliance)
        first = api.ok(api.post("/claims", body, tokens.pointex, key="lost-response"))
        with store.db.writing() as conn:
            conn.execute(delete(idempotency_table))
        before = api.event_count()
        retry = api.post("/claims", body, tokens.pointex, key="lost-response")
        assert retry.status_code == 201
        assert "Idempotent-Replayed" not in retry.headers
        assert retry.json()["data"]["id"] == first["id"]
        assert api.event_count() == before
        assert api.get("/claims").json()["count"] == 1

    def test_a_refused_request_is_not_remembered(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """Only successes are kept: after a refusal (no USD rate yet), the same request with the
        same key runs again once its cause is fixed."""
        body = api.claim_body(alliance, expense("109.87", "USD", "USD-1"))
        problem(api.post("/claims", body, tokens.pointex, key="usd-claim"), 409)
        api.ok(api.post("/exchange-rates", rate_body(), tokens.pointex))
        retry = api.post("/claims", body, tokens.pointex, key="usd-claim")
        assert retry.status_code == 201
        assert "Idempotent-Replayed" not in retry.headers
        assert retry.json()["data"]["requested"] == money("70.00")

    def test_an_overlong_key_is_422(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """A key longer than 200 characters is refused before anything runs."""
        details = problem(api.post("/smes", sme_body("IT77777777777"), tokens.pointex, key="k" * 201), 422)
        assert "200" in details["detail"]
        assert api.get("/smes").json()["count"] == 1

    def test_keys_survive_a_restart(self, settings: Settings) -> None:
        """A new app on the same files replays the response remembered before the restart, and
        the claim is still recorded once."""
        app = create_app(settings)
        with TestClient(app) as client:
            tokens = make_tokens(app.state.store)
            api = Api(client, tokens)
            alliance = api.sign_alliance()
            body = api.claim_body(alliance)
            first = api.post("/claims", body, tokens.pointex, key="before-restart")
            assert first.status_code == 201
        restarted = create_app(settings)
        with TestClient(restarted) as client:
            api = Api(client, tokens)
            before = api.event_count()
            again = api.post("/claims", body, tokens.pointex, key="before-restart")
            assert again.status_code == 201
            assert again.headers["Idempotent-Replayed"] == "true"
            assert again.json() == first.json()
            assert api.event_count() == before
            assert api.get("/claims").json()["count"] == 1
            store: ServiceStore = restarted.state.store
            with store.db.reading() as conn:
                assert conn.execute(select(func.count()).select_from(idempotency_table)).scalar_one() == 1


# --- money in responses ----------------------------------------------------------------------
def _no_float(text: str) -> Any:
    raise AssertionError(f"a JSON float in a response: {text}")


class TestMoneyInResponses:
    def test_every_amount_is_a_decimal_string_with_its_currency(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """After a story that touches every resource, no read has a JSON float anywhere, and every
        amount is a decimal string beside its currency (foreign ones in their own decimals)."""
        claim = api.submit(alliance, expense("182000", "JPY", "JAL-7781"))
        api.approve(claim["id"])
        payment = api.pay(claim["id"], "879.66")
        api.ok(api.post("/costs", cost_body(), tokens.pointex))
        reads = [
            "/budget",
            "/partners/POINTEX/budget",
            "/missions",
            f"/missions/{alliance.mission_id}",
            "/smes",
            f"/smes/{alliance.sme_id}",
            "/claims",
            f"/claims/{claim['id']}",
            f"/payments/{payment['id']}",
            "/audit/events",
        ]
        for path in reads:
            response = api.get(path)
            assert response.status_code == 200, path
            check_money(json.loads(response.text, parse_float=_no_float))
        detail = api.claim(claim["id"])
        assert detail["approved"] == {"amount": "879.66", "currency": "EUR"}
        assert detail["lines"][0]["amount"] == {"amount": "182000", "currency": "JPY"}
        assert detail["lines"][0]["eur"] == {"amount": "1256.65", "currency": "EUR"}

    def test_amounts_keep_their_currencys_decimals_before_any_approval(self, api: Api, alliance: Alliance) -> None:
        """A mission's per-currency totals show EUR with two decimals and JPY with none, also
        while nothing is accepted yet ("0.00", not "0")."""
        api.submit(alliance, expense("300.00", "EUR", "HOTEL-1", "ACCOMMODATION"))
        api.submit(alliance, expense("182000", "JPY", "JAL-1"))
        totals = {t["currency"]: t for t in api.get(f"/missions/{alliance.mission_id}").json()["by_currency"]}
        assert totals["EUR"]["claimed"] == {"amount": "300.00", "currency": "EUR"}
        assert totals["EUR"]["accepted"] == {"amount": "0.00", "currency": "EUR"}
        assert totals["JPY"]["accepted"] == {"amount": "0", "currency": "JPY"}


class TestClaimFilters:
    def test_an_unknown_state_is_invalid_input(self, api: Api, alliance: Alliance) -> None:
        """A misspelt state filter is a 422 naming the field, not an empty page that looks like
        'no claims'."""
        response = api.get("/claims", state="aproved")
        assert response.status_code == 422
        assert any(error["field"] == "query.state" for error in response.json()["errors"])


class TestExtremeQueryValues:
    def test_positions_beyond_64_bits_are_invalid_input(self, api: Api, alliance: Alliance) -> None:
        """A position, offset or page marker past 2**63 - 1 is a 422, not a server error."""
        too_big = str(2**63)
        for path, params in (
            ("/budget", {"position": too_big}),
            ("/partners/TECHTERA/budget", {"position": too_big}),
            ("/claims", {"offset": too_big}),
            ("/audit/events", {"after": too_big}),
        ):
            response = api.get(path, **params)
            assert response.status_code == 422, (path, response.text)

    def test_the_last_representable_day_reads_the_whole_history(self, api: Api, alliance: Alliance) -> None:
        """as_of=9999-12-31 is every event recorded so far: the same books as now."""
        assert api.get("/budget", as_of="9999-12-31").json()["totals"] == api.get("/budget").json()["totals"]
