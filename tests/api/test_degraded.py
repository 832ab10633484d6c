"""Bad text gets a 422 naming its field; an event the read models cannot apply makes the
service say so (GET /health 503 degraded) and refuse writes with 503 before recording them.
The service still starts on such a store, and `grantledger project` names the event."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.cli import main
from api.context import LedgerContext
from api.main import PREFIX, create_app
from api.settings import Settings
from ledger.sme import Sme
from ledger.storage import open_ledger
from projections.batch import Batch
from projections.handlers import HANDLERS
from tests.api.conftest import Alliance, Api, bearer, expense, make_tokens, sme_body
from tests.builders import officer

DAY = date(2022, 12, 5)


@pytest.fixture
def boom(monkeypatch: pytest.MonkeyPatch) -> None:
    """The read models cannot apply the registration of an SME named 'BOOM...'."""
    original = HANDLERS[Sme.Registered]

    def failing(batch: Batch, event: Any) -> None:
        if event.legal_name.startswith("BOOM"):
            raise RuntimeError("handler bug")
        original(batch, event)

    monkeypatch.setitem(HANDLERS, Sme.Registered, failing)


def recorded(app: FastAPI) -> int:
    context: LedgerContext = app.state.context
    return context.app.recorder.max_notification_id() or 0


class TestTextIsCheckedAtTheEdge:
    @pytest.mark.parametrize(
        ("body", "message"),
        [
            (sme_body(legal_name="Acme\u0000 Srl"), r"legal_name: contains a control character (U+0000 NULL) at pos"),
            (
                sme_body(identifier="IT\u200b123", legal_name="Acme Srl"),
                r"identifier: contains an invisible character (U+200B ZERO WIDTH",
            ),
            (sme_body(legal_name="Acme\u202e lrS"), r"legal_name: contains an invisible character (U+202E RIGHT-TO"),
        ],
    )
    def test_a_bad_character_is_a_422_naming_the_field(
        self, api: Api, app: FastAPI, alliance: Alliance, body: dict[str, Any], message: str
    ) -> None:
        """The problem detail starts with the field's name, and nothing is recorded."""
        before = recorded(app)
        response = api.post("/smes", body, api.pointex)
        assert response.status_code == 422, response.text
        assert response.json()["detail"].startswith(message)
        assert recorded(app) == before

    def test_a_claim_line_names_its_field(self, api: Api, app: FastAPI, alliance: Alliance) -> None:
        line = expense() | {"description": "flight\u0000"}
        response = api.post("/claims", api.claim_body(alliance, line), api.pointex)
        assert response.status_code == 422, response.text
        assert response.json()["detail"].startswith("lines.description: contains a control character (U+0000 NULL)")


class TestDegraded:
    @pytest.mark.usefixtures("boom")
    def test_reports_the_event_and_refuses_writes_until_it_is_applied(
        self, api: Api, app: FastAPI, client: TestClient, alliance: Alliance, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The write whose event cannot be applied is recorded and says so (503); from then
        on /health is 503 degraded naming the event, and every write is a 503 that records
        nothing, while reads still answer. Once the event can be applied, all is well again."""
        assert client.get("/health").json() == {"status": "ok"}
        response = api.post("/smes", sme_body("IT-BOOM", legal_name="BOOM Srl"), api.pointex)
        assert response.status_code == 503, response.text
        head = recorded(app)
        health = client.get("/health")
        assert health.status_code == 503
        body = health.json()
        assert body["status"] == "degraded"
        position = body["failure"]["position"]
        assert head - 1 <= position <= head  # the SME's registration (its identifier index follows)
        assert body["failure"]["event_type"] == "Sme.Registered"
        assert body["failure"]["error"] == "RuntimeError: handler bug"
        assert f"the write was recorded, but the read models cannot apply event {position}" in response.json()["detail"]

        refused = api.post("/smes", sme_body("IT-LATER"), api.pointex)
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        detail = refused.json()["detail"]
        assert detail.startswith(f"nothing was recorded: the read models cannot apply event {position} (Sme.Registered")
        assert recorded(app) == head
        assert api.get("/budget").status_code == 200

        monkeypatch.undo()  # a release that can apply the event
        app.state.context.projector.catch_up()
        assert client.get("/health").json() == {"status": "ok"}
        assert api.post("/smes", sme_body("IT-LATER"), api.pointex).status_code == 201

    @pytest.mark.usefixtures("boom")
    def test_starts_degraded_on_a_store_it_cannot_project(self, settings: Settings) -> None:
        """Startup does not crash when the catch-up fails: the service answers, degraded."""
        ledger = open_ledger(settings.database_url)
        try:
            ledger.register_sme(
                actor=officer("POINTEX"),
                sme_id=uuid.uuid4(),
                legal_name="BOOM Srl",
                country="IT",
                identifier="B1",
                on=DAY,
            )
        finally:
            ledger.close()
        app = create_app(settings)
        with TestClient(app) as client:
            assert client.get("/health").status_code == 503
            token = make_tokens(app.state.store).pointex
            refused = client.post(PREFIX + "/smes", json=sme_body("IT-2"), headers=bearer(token))
            assert refused.status_code == 503
            assert "nothing was recorded" in refused.json()["detail"]


@pytest.mark.usefixtures("boom")
def test_project_command_names_the_failing_event(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    """`grantledger project` exits non-zero and names position, type, aggregate and error."""
    ledger = open_ledger(settings.database_url)
    sme_id = uuid.uuid4()
    try:
        ledger.register_sme(
            actor=officer("POINTEX"),
            sme_id=sme_id,
            legal_name="BOOM Srl",
            country="IT",
            identifier="B1",
            on=DAY,
        )
    finally:
        ledger.close()
    assert main(["--database-url", settings.database_url, "project"]) == 1
    err = capsys.readouterr().err
    assert f"cannot apply event 1 (Sme.Registered of {sme_id}, version 1): RuntimeError: handler bug" in err
    assert "read models stopped at event 0" in err
