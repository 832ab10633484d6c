"""Every write route of the API, for tests that must cover them all: its path (with the ids it
names), a valid body, and the roles that may ever make it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import NamedTuple

from ledger.actors import Role
from tests.api.conftest import JSON, Alliance, Api, expense, grant_body, mission_body, money, sme_body

UNKNOWN = str(uuid.uuid4())
Ids = dict[str, str]
Body = Callable[[Ids], JSON]


def paid_ids(api: Api, alliance: Alliance) -> Ids:
    """Real ids to write against: the mission, an SME, an approved claim and its payment, and
    a claim still pending (two lines) for the decisions."""
    claim = api.submit(alliance)
    api.approve(claim["id"])
    payment = api.pay(claim["id"], "700.00")
    pending = api.submit(alliance, expense(receipt="R-P1"), expense("200.00", receipt="R-P2"))
    return {
        "mission": alliance.mission_id,
        "sme": alliance.sme_id,
        "claim": claim["id"],
        "payment": payment["id"],
        "pending": pending["id"],
        "currency": "JPY",
        "month": "2023-03",
        "number": "1",
        "partner": "POINTEX",
    }


class Write(NamedTuple):
    name: str
    path: str  # with {mission}, {sme}, {claim}, {pending}, {payment}, {currency}, {month}, {number} or {partner}
    body: Body
    roles: set[Role]


#: Every write: its path (with ids), a valid body, and the roles that may ever make it.
WRITES: list[Write] = [
    Write("grant", "/grant", lambda ids: grant_body(), {Role.COORDINATOR}),
    Write(
        "transfer",
        "/budget/transfers",
        lambda ids: {
            "from_partner": "NIDV",
            "from_category": "PERSONNEL",
            "to_partner": "NIDV",
            "to_category": "FSTP",
            "amount": money("5000.00"),
            "decision_ref": "SC-2022-03",
            "reason": "more SMEs",
            "on": "2022-11-15",
        },
        {Role.COORDINATOR},
    ),
    Write("mission", "/missions", lambda ids: mission_body(code="USA-2022"), {Role.COORDINATOR}),
    Write(
        "selection",
        "/missions/{mission}/selections",
        lambda ids: {"sme_id": ids["sme"], "on": "2022-12-06"},
        {Role.OFFICER},
    ),
    Write("sme", "/smes", lambda ids: sme_body("IT55555555555"), {Role.OFFICER, Role.COORDINATOR}),
    Write(
        "rate",
        "/exchange-rates",
        lambda ids: {"currency": "USD", "month": "2023-03", "rate": "1.0987"},
        {Role.OFFICER, Role.COORDINATOR},
    ),
    Write(
        "claim",
        "/claims",
        lambda ids: {
            "sme_id": ids["sme"],
            "mission_id": ids["mission"],
            "lines": [expense(receipt="R-9")],
            "on": "2023-04-02",
        },
        {Role.OFFICER},
    ),
    Write(
        "approve",
        "/claims/{pending}/approve",
        lambda ids: {
            "on": "2023-04-10",
            "reason": "receipts checked",
            "decisions": [{"line_no": 2, "accepted": money("150.00"), "reason": "taxi receipt missing"}],
        },
        {Role.OFFICER},
    ),
    Write("reject", "/claims/{pending}/reject", lambda ids: {"reason": "no", "on": "2023-04-10"}, {Role.OFFICER}),
    Write("withdraw", "/claims/{pending}/withdraw", lambda ids: {"reason": "x", "on": "2023-04-10"}, {Role.OFFICER}),
    Write(
        "payment",
        "/claims/{claim}/payments",
        lambda ids: {"amount": money("10.00"), "bank_reference": "SEPA-9", "on": "2023-04-20"},
        {Role.OFFICER},
    ),
    Write(
        "reversal",
        "/payments/{payment}/reversal",
        lambda ids: {"reason": "bank return", "on": "2023-05-02"},
        {Role.OFFICER},
    ),
    Write(
        "revocation",
        "/claims/{claim}/revocation",
        lambda ids: {"reason": "approved with the wrong rate", "on": "2023-04-12"},
        {Role.OFFICER},
    ),
    Write(
        "settlement",
        "/claims/{claim}/settlement",
        lambda ids: {"reason": "the SME agreed", "on": "2023-04-21"},
        {Role.OFFICER},
    ),
    Write(
        "cost",
        "/costs",
        lambda ids: {
            "partner": "POINTEX",
            "category": "TRAVEL",
            "amount": money("412.80"),
            "document_ref": "INV-9",
            "on": "2023-03-20",
        },
        {Role.OFFICER},
    ),
    Write(
        "rate correction",
        "/exchange-rates/{currency}/{month}/correction",
        lambda ids: {"rate": "150.00", "reason": "typed from the February table"},
        {Role.OFFICER, Role.COORDINATOR},
    ),
    Write(
        "SME correction",
        "/smes/{sme}/correction",
        lambda ids: {"legal_name": "Tessuti S.p.A.", "country": "IT", "reason": "extract", "on": "2023-01-10"},
        {Role.OFFICER, Role.COORDINATOR},
    ),
    Write(
        "payment correction",
        "/payments/{payment}/correction",
        lambda ids: {"bank_reference": "SEPA-C", "value_date": "2023-04-21", "reason": "bank statement"},
        {Role.OFFICER},
    ),
    Write(
        "reporting periods",
        "/reporting/periods",
        lambda ids: {
            "periods": [{"start": "2021-09-01", "end": "2022-08-31"}, {"start": "2022-09-01", "end": "2023-08-31"}],
            "reason": "months 1-12 and 13-24",
            "on": "2021-09-01",
        },
        {Role.COORDINATOR},
    ),
    Write(
        "statement lock",
        "/reporting/periods/{number}/statements/{partner}/lock",
        lambda ids: {"on": "2022-10-03", "reason": "for review"},
        {Role.OFFICER},
    ),
    Write(
        "statement signature",
        "/reporting/periods/{number}/statements/{partner}/sign",
        lambda ids: {"on": "2022-10-10"},
        {Role.OFFICER},
    ),
    Write(
        "statement sent back",
        "/reporting/periods/{number}/statements/{partner}/send-back",
        lambda ids: {"on": "2022-10-12", "reason": "travel of June is missing"},
        {Role.COORDINATOR},
    ),
    Write(
        "period submission", "/reporting/periods/{number}/submit", lambda ids: {"on": "2022-10-14"}, {Role.COORDINATOR}
    ),
]
UNKNOWN_IDS: Ids = {
    "mission": UNKNOWN,
    "sme": UNKNOWN,
    "claim": UNKNOWN,
    "payment": UNKNOWN,
    "pending": UNKNOWN,
    "currency": "USD",
    "month": "2023-01",
    "number": "9",
    "partner": "ACME",
}

#: The writes that take files (multipart/form-data): their roles are checked before the body
#: is read, as for every write, so the role-first tests send them the same bodies.
DIGEST = "0" * 64
UPLOADS: list[Write] = [
    Write("claim documents", "/claims/{pending}/documents", lambda ids: {}, {Role.OFFICER}),
    Write("cost documents", f"/costs/{UNKNOWN}/documents", lambda ids: {}, {Role.OFFICER}),
    Write("claim supersession", f"/claims/{{pending}}/documents/{DIGEST}/supersede", lambda ids: {}, {Role.OFFICER}),
    Write("cost supersession", f"/costs/{UNKNOWN}/documents/{DIGEST}/supersede", lambda ids: {}, {Role.OFFICER}),
]
