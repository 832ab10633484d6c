"""Hostile but well-formed values at every write and read: never a 5xx.

Each field of each write's valid body is replaced in turn by values at or past its limits
(amounts at the implausibility bound and far beyond it, rates of 1e-10 and 1e60, dates in year
1 and 9999, integers at 2**63, texts at and past their maximum length, empty lists), sent by a
role that may make the write; then foreign amounts are converted at extreme rates. Whatever the
ledger decides (201, 403, 404, 409, 422), it is never a server error.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.settings import Settings
from ledger.actors import Role
from tests.api.conftest import JSON, Alliance, Api, Tokens, expense, money
from tests.api.writes import WRITES, Ids, Write, paid_ids
from tests.conftest import PostgresSchema, require_postgres

AMOUNTS = [
    "1000000000",
    "1000000000.00",
    "1000000000.01",
    "-1000000000.00",
    "0",
    "0.00",
    "-0.01",
    "0.01",
    "9" * 60,
    "0." + "0" * 60 + "1",
    "1" + "0" * 400,
    "-" + "9" * 30 + ".99",
]
RATES = [
    "0.0000000001",
    "0." + "0" * 60 + "1",
    "1" + "0" * 60,
    "9999999999.9999999999",
    "1000000000",
    "1",
    "0",
    "-1",
    "1.0000000000000000000000000001",
    "0.9999999999999999999999999999",
]
DATES = ["0001-01-01", "9999-12-31", "1970-01-01", "2021-09-01", "2023-08-31", "2100-02-28"]
MONTHS = ["0001-01", "9999-12", "0000-01"]
INTEGERS = [2**63 - 1, 2**63, 2**64, -(2**63), 0, -1]
IDS = ["00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"]
TEXTS = ["A" * 40, "A" * 41, "A" * 200, "A" * 201, "A" * 500, "A" * 501, "\u00e9" * 500, "-"]

RATE_KEYS = {"rate", "funding_rate", "reimbursement_rate"}
DATE_KEYS = {"on", "signed_on", "period_start", "period_end", "start", "end", "expense_date"}
ID_KEYS = {"id", "sme_id", "mission_id"}
#: Maps whose entries all have the same shape (partner -> category -> money): one is enough.
MAPS = {"budget"}

Where = tuple[str | int, ...]


def _values(key: str | int, value: Any) -> list[Any]:
    """The hostile values for one field, chosen by its name and its valid value's kind."""
    if key in RATE_KEYS:
        return RATES
    if key in DATE_KEYS:
        return DATES
    if key == "month":
        return MONTHS
    if key in ID_KEYS:
        return IDS
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return INTEGERS
    if isinstance(value, str):
        return TEXTS
    if isinstance(value, list):
        return [[], value * 100]
    if isinstance(value, dict):
        return [{}]
    return []


def mutations(body: Any, path: Where = ()) -> Iterator[tuple[Where, Any]]:
    """Every (location, hostile value) for a valid body, money as amount and currency together."""
    if isinstance(body, dict) and set(body) == {"amount", "currency"}:
        for amount in AMOUNTS:
            for currency in ("EUR", "JPY"):
                yield path, money(amount, currency)
        return
    if isinstance(body, dict):
        items = list(body.items())
        if (path and path[-1] in MAPS) or (len(path) > 1 and path[-2] in MAPS):
            items = items[:1]
        for key, value in items:
            for hostile in _values(key, value):
                yield (*path, key), hostile
            yield from mutations(value, (*path, key))
    elif isinstance(body, list) and body:
        yield from mutations(body[0], (*path, 0))


def replaced(body: Any, path: Where, value: Any) -> Any:
    """A copy of ``body`` with the value at ``path`` replaced."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(body, dict):
        return {**body, str(head): replaced(body[str(head)], rest, value)}
    copy = list(body)
    copy[int(head)] = replaced(copy[int(head)], rest, value)
    return copy


@pytest.fixture(params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """The app on SQLite and on PostgreSQL (whose columns and integers have hard limits)."""
    if request.param == "sqlite":
        yield Settings(database_url=f"sqlite:///{tmp_path}/ledger.db", follow_interval=5.0)
        return
    require_postgres()
    schema = PostgresSchema()
    try:
        yield Settings(database_url=schema.url, follow_interval=5.0)
    finally:
        schema.drop()


def writer(tokens: Tokens, write: Write) -> str:
    return tokens.pointex if Role.OFFICER in write.roles else tokens.coordinator


@pytest.fixture
def ids(api: Api, alliance: Alliance) -> Ids:
    return paid_ids(api, alliance)


def no_server_error(response: Any, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:500]}"


class TestHostileValues:
    @pytest.mark.parametrize("write", [pytest.param(w, id=w.name) for w in WRITES])
    def test_no_hostile_field_value_is_a_server_error(self, api: Api, tokens: Tokens, ids: Ids, write: Write) -> None:
        """Every field of this write, replaced in turn by each hostile value: a 2xx or a 4xx."""
        base = write.body(ids)
        sent = 0
        for path, value in mutations(base):
            body = replaced(base, path, value)
            response = api.post(write.path.format(**ids), body, writer(tokens, write))
            no_server_error(response, f"{write.name} {'.'.join(map(str, path))}={str(value)[:80]!r}")
            sent += 1
        assert sent >= 2 * len(base), "the mutations did not reach the body's fields"

    def test_extreme_rates_then_conversions_are_never_a_server_error(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """Rates of 1e-10 and 1e60 (where the ledger takes them), then claims, costs,
        approvals and payments converted at them: refused or recorded, never a 5xx."""
        months = iter(f"2022-{m:02d}" for m in range(1, 13))
        for currency in ("USD", "CAD", "IDR"):
            for value in RATES:
                month = next(months, "2023-01")
                rate = {"currency": currency, "month": month, "rate": value}
                no_server_error(api.post("/exchange-rates", rate, tokens.pointex), f"rate {currency} {value}")
                day = f"{month}-15"
                for amount in ("1000000000.00", "0.01", "999999999.99"):
                    line = {**expense(amount, currency, receipt=f"R-{currency}-{month}-{amount}"), "expense_date": day}
                    claim = api.post("/claims", api.claim_body(alliance, line), tokens.pointex)
                    no_server_error(claim, f"claim {currency} {amount} at {value}")
                    cost: JSON = {
                        "partner": "POINTEX",
                        "category": "TRAVEL",
                        "amount": money(amount, currency),
                        "document_ref": f"D-{currency}-{month}-{amount}",
                        "on": day,
                    }
                    no_server_error(api.post("/costs", cost, tokens.pointex), f"cost {currency} {amount} at {value}")
                    if claim.status_code == 201:
                        claim_id = claim.json()["data"]["id"]
                        decision = {"line_no": 1, "accepted": money(amount, currency), "reason": "checked"}
                        approve = {"on": "2023-04-10", "decisions": [decision]}
                        no_server_error(api.post(f"/claims/{claim_id}/approve", approve, tokens.pointex), "approve")
                        pay = {"amount": money("999999999.99"), "bank_reference": "SEPA-X", "on": "2023-04-20"}
                        no_server_error(api.post(f"/claims/{claim_id}/payments", pay, tokens.pointex), "payment")
        no_server_error(api.get("/budget"), "budget after extreme rates")
        no_server_error(api.get("/missions"), "missions after extreme rates")

    @pytest.mark.parametrize(
        ("path", "params"),
        [
            ("/budget", {"position": 2**63 - 1}),
            ("/budget", {"position": 2**63}),
            ("/budget", {"effective": "9999-12-31"}),
            ("/budget", {"effective": "0001-01-01"}),
            ("/budget", {"as_of": "9999-12-31"}),
            ("/budget", {"as_of": "0001-01-01"}),
            ("/partners/POINTEX/budget", {"position": 2**63 - 1}),
            ("/partners/" + "A" * 500 + "/budget", {}),
            ("/claims", {"offset": 2**63 - 1, "limit": 500}),
            ("/claims", {"offset": 2**63}),
            ("/claims", {"partner": "A" * 5000}),
            ("/audit/events", {"after": 2**63 - 1, "limit": 1000}),
            ("/audit/events", {"effective_from": "0001-01-01", "effective_to": "9999-12-31"}),
            ("/audit/events", {"actor": "\u00e9" * 5000}),
            ("/audit/entities/00000000-0000-0000-0000-000000000000", {"version": 2**63 - 1}),
        ],
    )
    def test_no_hostile_query_is_a_server_error(self, api: Api, ids: Ids, path: str, params: dict[str, Any]) -> None:
        """Positions and offsets at 2**63, dates in year 1 and 9999, long texts: a 2xx or a 4xx."""
        no_server_error(api.get(path, **params), f"GET {path} {params}")
        if path.startswith("/audit/entities"):
            no_server_error(api.get(f"/audit/entities/{ids['claim']}", **params), "entity version")
