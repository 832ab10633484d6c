"""Fixtures for the HTTP tests: the app on a temporary SQLite store, tokens for each kind of
user, and a small driver that signs in the EU-ALLIANCE grant and records claims over HTTP.

Every write goes through the routes exactly as a client would send it: JSON bodies with money
as decimal strings, bearer tokens, and (where a test says so) an Idempotency-Key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.main import PREFIX, create_app
from api.security import ServiceStore
from api.settings import Settings
from tests.builders import PARTNERS, alliance_budget

JSON = dict[str, Any]

MISSION_CODE = "JPN-2023"
#: The JPY rate the driver records for March 2023 (1 EUR = 144.83 JPY, InforEuro).
JPY_RATE = "144.83"
JPY_MONTH = "2023-03"


def money(amount: str, currency: str = "EUR") -> JSON:
    """Money as the API takes and gives it: a decimal string and a currency."""
    return {"amount": amount, "currency": currency}


_DECIMAL = re.compile(r"-?\d+(\.\d+)?")
_CURRENCY = re.compile(r"[A-Z]{3}")


def check_money(value: Any, where: str = "$") -> None:
    """Every amount in a response is a decimal string beside its currency, and no JSON number
    anywhere is a binary float."""
    assert not isinstance(value, float), f"{where} is a JSON float: {value!r}"
    if isinstance(value, dict):
        if {"amount", "currency"} <= set(value):
            amount, currency = value["amount"], value["currency"]
            assert isinstance(amount, str), f"{where}.amount is not a decimal string: {amount!r}"
            assert _DECIMAL.fullmatch(amount), f"{where}.amount is not a decimal: {amount!r}"
            assert isinstance(currency, str), f"{where}.currency is not a code: {currency!r}"
            assert _CURRENCY.fullmatch(currency), f"{where}.currency is not a code: {currency!r}"
        for key, item in value.items():
            check_money(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_money(item, f"{where}[{index}]")


def checked(response: httpx2.Response) -> httpx2.Response:
    """The response, after checking the money in its JSON body (problem details included)."""
    if response.headers.get("content-type", "").split(";")[0] in {"application/json", "application/problem+json"}:
        check_money(response.json())
    return response


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def grant_body(**changes: Any) -> JSON:
    """The EU-ALLIANCE agreement: six partners whose lines sum to exactly EUR 500,000.00."""
    body: JSON = {
        "code": "EU-ALLIANCE",
        "title": "European Alliance for International Business development",
        "total": money("500000.00"),
        "funding_rate": "0.90",
        "eu_cap": money("450000.00"),
        "period_start": "2021-09-01",
        "period_end": "2023-08-31",
        "coordinator": "TECHTERA",
        "partners": [{"code": p.code, "name": p.name, "country": p.country} for p in PARTNERS],
        "budget": {
            partner: {category: money(f"{m.amount:.2f}", m.currency) for category, m in lines.items()}
            for partner, lines in alliance_budget().items()
        },
        "decision_ref": "GA-101038166",
        "signed_on": "2021-09-01",
    }
    body.update(changes)
    return body


def mission_body(**changes: Any) -> JSON:
    """The Japan mission (DSEI Japan, Tokyo), organised by POINTEX: 70%, at most EUR 2,000 per SME."""
    body: JSON = {
        "code": MISSION_CODE,
        "country": "JP",
        "city": "Tokyo",
        "start": "2023-03-15",
        "end": "2023-03-18",
        "responsible_partner": "POINTEX",
        "reimbursement_rate": "0.70",
        "cap_per_sme": money("2000.00"),
        "eligible_cost_types": ["TRAVEL", "ACCOMMODATION", "REGISTRATION_FEE", "STAND"],
        "on": "2022-12-01",
    }
    body.update(changes)
    return body


def sme_body(identifier: str = "IT01234567890", **changes: Any) -> JSON:
    body: JSON = {
        "legal_name": f"Tessuti Avanzati {identifier} S.r.l.",
        "country": "IT",
        "identifier": identifier,
        "on": "2022-12-05",
    }
    body.update(changes)
    return body


def expense(
    amount: str = "1000.00",
    currency: str = "EUR",
    receipt: str = "R-0001",
    cost_type: str = "TRAVEL",
    day: str = "2023-03-14",
) -> JSON:
    return {
        "cost_type": cost_type,
        "expense_date": day,
        "amount": money(amount, currency),
        "receipt_ref": receipt,
        "description": "flight Milan-Tokyo",
    }


@dataclass(frozen=True)
class Tokens:
    """Bearer tokens of the users the tests act as (names are the actors' ids)."""

    coordinator: str
    auditor: str
    pointex: str
    ntt: str


@dataclass(frozen=True)
class Alliance:
    """What the driver set up: the signed grant, the Japan mission and one selected SME."""

    mission_id: str
    sme_id: str


class Api:
    """A thin driver over the TestClient: auth headers, audit counts and the usual stories."""

    def __init__(self, client: TestClient, tokens: Tokens) -> None:
        self.client = client
        self.tokens = tokens

    # --- raw calls ----------------------------------------------------------------------
    def get(self, path: str, token: str | None = None, **params: Any) -> httpx2.Response:
        """GET as the auditor unless another token is given."""
        return checked(self.client.get(PREFIX + path, params=params, headers=bearer(token or self.tokens.auditor)))

    def post(self, path: str, body: JSON, token: str, key: str | None = None) -> httpx2.Response:
        headers = bearer(token)
        if key is not None:
            headers["Idempotency-Key"] = key
        return checked(self.client.post(PREFIX + path, json=body, headers=headers))

    def ok(self, response: httpx2.Response, status: int = 201) -> JSON:
        """The ``data`` of a successful write (which also names the log ``position``)."""
        assert response.status_code == status, response.text
        body: JSON = response.json()
        assert isinstance(body["position"], int)
        data: JSON = body["data"]
        return data

    # --- reads --------------------------------------------------------------------------
    def events(self, **filters: Any) -> list[JSON]:
        response = self.get("/audit/events", limit=1000, **filters)
        assert response.status_code == 200, response.text
        rows: list[JSON] = response.json()
        return rows

    def event_count(self) -> int:
        return len(self.events())

    def budget(self, **params: Any) -> JSON:
        response = self.get("/budget", **params)
        assert response.status_code == 200, response.text
        body: JSON = response.json()
        return body

    def line(self, partner: str, category: str, **params: Any) -> JSON:
        """One partner x category line of the budget overview."""
        found: list[JSON] = [
            line
            for line in self.budget(**params)["lines"]
            if line["partner"] == partner and line["category"] == category
        ]
        assert len(found) == 1, found
        return found[0]

    def claim(self, claim_id: str) -> JSON:
        response = self.get(f"/claims/{claim_id}")
        assert response.status_code == 200, response.text
        body: JSON = response.json()
        return body

    # --- stories ------------------------------------------------------------------------
    def sign_alliance(self) -> Alliance:
        """Sign in the grant, open the Japan mission (POINTEX), register and select an SME,
        and record the JPY rate of March 2023, all over HTTP."""
        self.ok(self.post("/grant", grant_body(), self.tokens.coordinator))
        mission = self.ok(self.post("/missions", mission_body(), self.tokens.coordinator))
        sme_id = self.new_sme("IT01234567890", mission["id"])
        self.ok(self.post("/exchange-rates", {"currency": "JPY", "month": JPY_MONTH, "rate": JPY_RATE}, self.pointex))
        return Alliance(mission_id=mission["id"], sme_id=sme_id)

    def new_sme(self, identifier: str, mission_id: str) -> str:
        """Register an SME (as POINTEX's officer) and select it for the mission; its id."""
        sme = self.ok(self.post("/smes", sme_body(identifier), self.pointex))
        self.ok(
            self.post(f"/missions/{mission_id}/selections", {"sme_id": sme["id"], "on": "2022-12-06"}, self.pointex)
        )
        sme_id: str = sme["id"]
        return sme_id

    def claim_body(self, alliance: Alliance, *lines: JSON, sme_id: str | None = None) -> JSON:
        return {
            "sme_id": sme_id or alliance.sme_id,
            "mission_id": alliance.mission_id,
            "lines": list(lines) or [expense()],
            "on": "2023-04-02",
        }

    def submit(self, alliance: Alliance, *lines: JSON, sme_id: str | None = None) -> JSON:
        """Record a claim (as POINTEX's officer); the claim as the read models show it."""
        return self.ok(self.post("/claims", self.claim_body(alliance, *lines, sme_id=sme_id), self.pointex))

    def approve(self, claim_id: str, **body: Any) -> JSON:
        return self.ok(self.post(f"/claims/{claim_id}/approve", {"on": "2023-04-10", **body}, self.pointex), 200)

    def pay(self, claim_id: str, amount: str, reference: str = "SEPA-2023-0412", on: str = "2023-04-20") -> JSON:
        body = {"amount": money(amount), "bank_reference": reference, "on": on}
        return self.ok(self.post(f"/claims/{claim_id}/payments", body, self.pointex))

    @property
    def pointex(self) -> str:
        return self.tokens.pointex


def make_tokens(store: ServiceStore) -> Tokens:
    return Tokens(
        coordinator=store.create_token(name="claire.coordinator", role="coordinator", partner="TECHTERA"),
        auditor=store.create_token(name="arthur.auditor", role="auditor"),
        pointex=store.create_token(name="paola.pointex", role="officer", partner="POINTEX"),
        ntt=store.create_token(name="nico.ntt", role="officer", partner="NTT"),
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A fresh SQLite event store (and its read-model file beside it) per test. The background
    follower polls rarely: each write must bring the read models up to its own events before it
    answers (read-your-writes), which is exactly what the tests rely on and check."""
    return Settings(database_url=f"sqlite:///{tmp_path}/ledger.db", follow_interval=5.0)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """The TestClient, entered so that the lifespan opens (and finally closes) the stores."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def store(app: FastAPI, client: TestClient) -> ServiceStore:
    """Tokens and idempotency keys (available once the lifespan has started)."""
    service_store: ServiceStore = app.state.store
    return service_store


@pytest.fixture
def tokens(store: ServiceStore) -> Tokens:
    """A coordinator (TECHTERA), an auditor, and officers of POINTEX and NTT."""
    return make_tokens(store)


@pytest.fixture
def api(client: TestClient, tokens: Tokens) -> Api:
    return Api(client, tokens)


@pytest.fixture
def alliance(api: Api) -> Alliance:
    """The signed EU-ALLIANCE grant with the Japan mission, a selected SME and the JPY rate."""
    return api.sign_alliance()
