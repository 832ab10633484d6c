"""An event the read models cannot apply: named, reported, and recoverable by a release.

The projector applies a failing batch one event at a time, so the read models reach the
event before the culprit; it records that event (Projector.failure) until a batch gets past
it. A store that already holds text PostgreSQL cannot (a NUL, recorded before the ledger
refused it) projects and replays equal on SQLite and PostgreSQL, its events unchanged.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select

from ledger.application import GrantLedger
from ledger.claim import Claim, ExpenseLine, assess
from ledger.mission import Mission
from ledger.money import Money
from ledger.sme import Sme
from ledger.storage import open_ledger
from projections import batch as batch_module
from projections import tables as t
from projections.batch import Batch
from projections.db import ReadDatabase, read_url_for
from projections.handlers import HANDLERS
from projections.projector import ProjectionFailed, ProjectionFailure, Projector
from projections.queries import audit_trail, claim_detail, mission_summaries, sme_summaries
from projections.replay import replay_and_compare
from tests.builders import COORDINATOR, officer, open_mission, selected_sme, sign_alliance

POINTEX = officer("POINTEX")
DAY = date(2022, 12, 5)


@pytest.fixture
def ledger(store_url: str) -> Iterator[tuple[GrantLedger, ReadDatabase]]:
    """The ledger and its read models, on a SQLite file or in a PostgreSQL schema."""
    app = open_ledger(store_url)
    db = ReadDatabase(read_url_for(store_url, environ={}))
    try:
        yield app, db
    finally:
        db.close()
        app.close()


def register(app: GrantLedger, legal_name: str) -> UUID:
    sme_id = uuid.uuid4()
    app.register_sme(actor=POINTEX, sme_id=sme_id, legal_name=legal_name, country="IT", identifier=sme_id.hex, on=DAY)
    return sme_id


def position_of(app: GrantLedger, aggregate_id: UUID) -> int:
    notifications = app.recorder.select_notifications(start=0, limit=100_000, inclusive_of_start=False)
    return next(n.id for n in notifications if n.originator_id == aggregate_id)


def failure_of(projector: Projector) -> ProjectionFailure | None:
    """The projector's failure state as of now (a call, so that a type checker does not
    carry an earlier check of the attribute past the calls that change it)."""
    return projector.failure


@pytest.fixture
def boom(monkeypatch: pytest.MonkeyPatch) -> None:
    """The read models cannot apply the registration of an SME named 'BOOM...' (a handler
    that raises, as one with a bug would)."""
    original = HANDLERS[Sme.Registered]

    def failing(batch: Batch, event: Any) -> None:
        if event.legal_name.startswith("BOOM"):
            raise RuntimeError("handler bug\nsecond line of the message")
        original(batch, event)

    monkeypatch.setitem(HANDLERS, Sme.Registered, failing)


class TestFailureState:
    @pytest.mark.usefixtures("boom")
    def test_the_failing_event_is_named_and_everything_before_it_is_applied(
        self, ledger: tuple[GrantLedger, ReadDatabase], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """One batch holds the whole history; the projector still applies every event before
        the one that fails, names it (position, type, aggregate, version, the error's first
        line) and raises its error. Once a release can apply it, the failure is cleared."""
        app, db = ledger
        sign_alliance(app)
        before = register(app, "Acme Srl")
        bad = register(app, "BOOM Srl")
        register(app, "After Srl")
        projector = Projector(app, db)
        with pytest.raises(RuntimeError, match="handler bug"):
            projector.catch_up()
        failure = projector.failure
        assert failure is not None
        assert failure.position == position_of(app, bad)
        assert (failure.event_type, failure.aggregate_id, failure.version) == ("Sme.Registered", str(bad), 1)
        assert failure.topic == "ledger.sme:Sme.Registered"
        assert failure.error == "RuntimeError: handler bug"
        assert f"event {failure.position} (Sme.Registered of {bad}, version 1)" in failure.describe()
        assert db.position() == failure.position - 1
        with db.reading() as conn:
            assert [s.id for s in sme_summaries(conn)] == [str(before)]

        with pytest.raises(ProjectionFailed, match=f"cannot apply event {failure.position}") as raised:
            projector.wait_for(app.recorder.max_notification_id(), timeout=1)
        assert raised.value.failure == projector.failure

        monkeypatch.undo()  # the release that fixes the handler
        projector.catch_up()
        assert failure_of(projector) is None
        assert db.position() == app.recorder.max_notification_id()

    def test_a_batch_that_fails_when_written_is_narrowed_to_its_event(
        self, ledger: tuple[GrantLedger, ReadDatabase], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A failure in the batch's multi-row INSERT (not in a handler) names the event too."""
        app, db = ledger
        sign_alliance(app)
        register(app, "Acme Srl")
        bad = register(app, "BOOM Srl")
        original = batch_module.insert_rows

        def insert_rows(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
            if table is t.smes and any(row["legal_name"].startswith("BOOM") for row in rows):
                raise ValueError("the database refused a row")
            original(conn, table, rows)

        monkeypatch.setattr(batch_module, "insert_rows", insert_rows)
        projector = Projector(app, db)
        with pytest.raises(ValueError, match="refused a row"):
            projector.catch_up()
        failure = projector.failure
        assert failure is not None
        assert failure.position is not None
        assert (failure.position, failure.aggregate_id) == (position_of(app, bad), str(bad))
        assert db.position() == failure.position - 1

    @pytest.mark.usefixtures("boom")
    def test_the_follower_keeps_retrying_and_resumes(
        self, ledger: tuple[GrantLedger, ReadDatabase], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A failing batch does not end the follower thread: it keeps the failure and tries
        again, and resumes by itself once the event can be applied."""
        app, db = ledger
        sign_alliance(app)
        register(app, "BOOM Srl")
        projector = Projector(app, db)
        stopping = threading.Event()
        follower = threading.Thread(target=projector.follow, args=(stopping, 0.01), daemon=True)
        follower.start()
        try:
            deadline = time.monotonic() + 20
            while failure_of(projector) is None and time.monotonic() < deadline:
                time.sleep(0.01)
            assert failure_of(projector) is not None
            time.sleep(0.2)
            assert follower.is_alive()
            assert failure_of(projector) is not None
            monkeypatch.undo()
            while failure_of(projector) is not None and time.monotonic() < deadline:
                time.sleep(0.02)
            assert failure_of(projector) is None
            assert db.position() == app.recorder.max_notification_id()
        finally:
            stopping.set()
            follower.join(timeout=10)
        assert not follower.is_alive()


# --- a store recorded before the ledger refused NUL ------------------------------------------
def unchecked(cls: type[Any], **fields: Any) -> Any:
    """A value object built as an older release would have, without today's checks."""
    obj = object.__new__(cls)
    for name, value in fields.items():
        object.__setattr__(obj, name, value)
    return obj


def record_nul_history(app: GrantLedger) -> tuple[UUID, UUID, UUID]:
    """Events that hold a NUL in free text, written as the ledger accepted them before it
    checked text: an SME's legal name, a mission's city, a claim line's description and
    receipt, and a rejection reason."""
    sign_alliance(app)
    mission_id = open_mission(app)
    sme = Sme._create(
        Sme.Registered,
        id=uuid.uuid4(),
        actor=POINTEX,
        effective_date=DAY,
        legal_name="Acme\x00 Srl",
        country="IT",
        identifier="IT-NUL-1",
    )
    city = Mission._create(
        Mission.Opened,
        id=uuid.uuid4(),
        actor=COORDINATOR,
        effective_date=DAY,
        code="NUL-2023",
        country="JP",
        city="Osaka\x00",
        start=date(2023, 3, 15),
        end=date(2023, 3, 18),
        responsible_partner="POINTEX",
        reimbursement_rate=app.mission(mission_id).reimbursement_rate,
        cap_per_sme=Money.eur("2000"),
        eligible_cost_types=["TRAVEL"],
    )
    app.save(sme, city)
    selected = selected_sme(app, mission_id)
    line = unchecked(
        ExpenseLine,
        cost_type="TRAVEL",
        expense_date=date(2023, 3, 14),
        amount=Money.eur("100"),
        receipt_ref="R-\x00-1",
        description="taxi\x00",
    )
    mission = app.mission(mission_id)
    claim = Claim.submit(
        claim_id=uuid.uuid4(),
        actor=POINTEX,
        sme_id=selected,
        mission_id=mission_id,
        partner="POINTEX",
        lines=[line],
        estimate=assess([line], {}, app.quote, mission.reimbursement_rate),
        cap_per_sme=mission.cap_per_sme,
        submitted_on=date(2023, 4, 1),
    )
    claim.trigger_event(Claim.Rejected, actor=POINTEX, effective_date=date(2023, 4, 2), reason="no\x00receipt")
    app.save(claim)
    return sme.id, city.id, claim.id


class TestNulRecordedBefore:
    def test_projects_and_replays_equal_with_the_events_unchanged(
        self, ledger: tuple[GrantLedger, ReadDatabase]
    ) -> None:
        """The read models hold each NUL as U+2400 on both stores; the events keep it; a
        rebuild from scratch equals the live read models; later writes still project."""
        app, db = ledger
        sme_id, mission_id, claim_id = record_nul_history(app)
        projector = Projector(app, db)
        projector.catch_up()
        assert projector.failure is None
        assert db.position() == app.recorder.max_notification_id()
        assert app.sme(sme_id).legal_name == "Acme\x00 Srl"  # the event is as it was recorded

        with db.reading() as conn:
            assert sme_summaries(conn, str(sme_id))[0].legal_name == "Acme\u2400 Srl"
            assert mission_summaries(conn, str(mission_id))[0].city == "Osaka\u2400"
            detail = claim_detail(conn, str(claim_id))
            assert detail is not None
            assert (detail.lines[0].description, detail.lines[0].receipt_ref) == ("taxi\u2400", "R-\u2400-1")
            assert detail.claim.reason == "no\u2400receipt"
            assert [h.reason for h in detail.history][-1] == "no\u2400receipt"
            payloads = [row["payload"] for row in audit_trail(conn, limit=1000)]
            stored = conn.execute(select(t.audit.c.payload)).scalars().all()
        assert all("\x00" not in str(p) for p in payloads)
        assert all("\\u0000" not in p for p in stored)
        assert any(p.get("legal_name") == "Acme\u2400 Srl" for p in payloads)

        register(app, "Later Srl")
        projector.catch_up()
        report = replay_and_compare(app, db)
        assert report.identical, [str(d) for d in report.differences]
        assert report.position == app.recorder.max_notification_id()
