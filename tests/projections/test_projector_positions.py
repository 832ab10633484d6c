"""The projector and the positions it follows: events after gaps in the notification ids, a
batch that ends exactly at its stop, and a writer that waits for its own write position reads
its own writes (SQLite files and PostgreSQL, as production pairs them)."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import date
from decimal import Decimal

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError
from psycopg import sql

from projections.db import ReadDatabase
from projections.projector import Projector
from projections.queries import budget_overview, claim_detail
from tests.builders import (
    eur_line,
    officer,
    open_mission,
    selected_sme,
    sign_alliance,
    submit,
)
from tests.projections.projecting import (
    PARTNER,
    WORKER_TIMEOUT,
    Stores,
    assert_applied_once_and_identical,
    audit_positions,
    build_history,
    line_of,
    notification_ids,
    overview,
)


class TestGapsAndStops:
    """The projector follows the notification ids it is given, never counts on them being contiguous."""

    @pytest.mark.postgres
    def test_events_after_gaps_in_the_notification_ids_are_applied(self, pg_stores: Stores) -> None:
        """On PostgreSQL a refused save (optimistic concurrency: another writer got there
        first) and a rolled-back insert both use up notification ids, leaving gaps. A projector
        that applied everything before the gaps applies every event after them, each once;
        a stop that falls in a gap stops at the last event before it; the read models then
        equal a rebuild and show the claim approved after the gaps."""
        app, db = pg_stores.app, pg_stores.db
        projector = Projector(app, db, batch_size=5)
        sign_alliance(app)
        mission = open_mission(app)
        sme = selected_sme(app, mission)
        projector.catch_up()
        before_gaps = db.position()

        stale = app.sme(sme)  # an officer's command loads the SME...
        usa = open_mission(app, code="USA-2022")
        app.select_sme(actor=officer(PARTNER), mission_id=usa, sme_id=sme, on=date(2022, 12, 7))  # ...another writes
        stale.select(actor=officer(PARTNER), mission_id=open_mission(app, code="IDN-2023"), on=date(2022, 12, 8))
        with pytest.raises(IntegrityError):
            app.save(stale)  # refused: its insert drew an id from the sequence, then rolled back
        roll_back_an_insert(pg_stores.event_url)
        claim = submit(app, mission, sme, eur_line("900.00"))
        app.approve_claim(actor=officer(PARTNER), claim_id=claim, on=date(2023, 4, 10))

        ids = notification_ids(app)
        gaps = sorted(set(range(ids[0], ids[-1] + 1)) - set(ids))
        assert len(gaps) >= 2, f"no gaps were made: {ids}"
        assert min(gaps) > before_gaps

        projector.catch_up(stop=gaps[-1])
        assert db.position() == max(i for i in ids if i < gaps[-1])
        projector.catch_up()
        assert_applied_once_and_identical(app, db)
        with db.reading() as conn:
            detail = claim_detail(conn, str(claim))
        assert detail is not None
        assert detail.claim.state == "approved"
        assert line_of(overview(db), PARTNER, "FSTP").committed == Decimal("630.00")  # 70% of 900.00

    def test_a_batch_ends_exactly_at_its_stop(self, stores: Stores) -> None:
        """run_batch(stop=P) applies the events after the tracking position up to P and no
        further, however large the batch; a second call at the same stop applies nothing; a
        stop past the head stops at the head. Read models fed in such uneven pieces (one
        ending inside the grant's own save) equal one rebuilt in one go. (SQLite gives back
        the ids of a rolled-back insert, so it has no gaps to show: this is what shows there
        that the projector never counts ids, only follows them.)"""
        build_history(stores.app, smes_per_mission=3)
        ids = notification_ids(stores.app)
        projector = Projector(stores.app, stores.db, batch_size=1000)
        position = 0
        for stop in (ids[0], ids[1], ids[20], ids[len(ids) // 2], ids[-2], ids[-1] + 10):
            expected = [i for i in ids if position < i <= stop]
            assert projector.run_batch(stop=stop) == len(expected)
            assert projector.run_batch(stop=stop) == 0
            position = stores.db.position()
            assert position == expected[-1]
            assert audit_positions(stores.db) == [i for i in ids if i <= position]
        assert position == ids[-1]
        assert_applied_once_and_identical(stores.app, stores.db)


def roll_back_an_insert(event_url: str) -> None:
    """A transaction that inserts an event into the log and rolls back, as a writer that
    crashes before its commit would."""
    insert = sql.SQL(
        "INSERT INTO {}.grantledger_events (originator_id, originator_version, topic, state) "
        "VALUES (%s, 1, 'never:Recorded', '{{}}')"
    ).format(sql.Identifier(event_url.split("schema=")[1]))
    with psycopg.connect(event_url.split("?")[0]) as conn, conn.transaction(force_rollback=True):
        conn.execute(insert, (uuid.uuid4(),))


class TestReadYourWrites:
    """A caller that waits for its own write position reads its own writes."""

    def test_a_reader_that_waits_for_its_write_position_sees_its_write(self, stores: Stores) -> None:
        """After a command, wait_for(app.position_written()) returns only once the read models
        include that command's events: the approval that was not yet visible is then shown,
        both when wait_for has to project it itself and when a following projector thread
        may be applying the same events at the same time."""
        app, db = stores.app, stores.db
        projector = Projector(app, db)
        sign_alliance(app)
        mission = open_mission(app)
        sme = selected_sme(app, mission)
        projector.catch_up()

        claim = submit(app, mission, sme, eur_line("1000.00"))
        approved = app.approve_claim(actor=officer(PARTNER), claim_id=claim, on=date(2023, 4, 10))
        written = app.position_written()
        assert written is not None
        assert db.position() < written, "the write should not be visible yet, or this proves nothing"
        projector.wait_for(written, timeout=10)
        assert db.position() >= written
        self.assert_visible(db, claim, "approved", committed=approved.amount)

        stopping = threading.Event()
        follower = threading.Thread(target=Projector(app, db).follow, args=(stopping, 0.001), daemon=True)
        follower.start()
        try:
            other = submit(app, mission, selected_sme(app, mission), eur_line("500.00"))
            app.approve_claim(actor=officer(PARTNER), claim_id=other, on=date(2023, 4, 11))
            projector.wait_for(app.position_written(), timeout=10)
            self.assert_visible(db, other, "approved", committed=approved.amount + Decimal("350.00"))
        finally:
            stopping.set()
            follower.join(WORKER_TIMEOUT)
        assert not follower.is_alive(), "the following projector did not stop"

        assert open_mission(app) == mission  # repeated: records nothing...
        assert app.position_written() is None
        projector.wait_for(app.position_written())  # ...so there is nothing to wait for
        assert_applied_once_and_identical(app, db)

    def test_a_writer_waiting_on_its_follower_is_answered_when_another_projector_applied_its_events(
        self, stores: Stores, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Each worker of the service follows the log. A writer waits for its own worker's
        follower, which learns the read models' position from its next batch, even when another
        worker's projector applied the writer's events (the batch then applies none): the writer
        does not query the read models itself while it waits."""
        app, db = stores.app, stores.db
        sign_alliance(app)
        mission = open_mission(app)
        sme = selected_sme(app, mission)
        Projector(app, db).catch_up()
        ours = Projector(app, db)
        stopping = threading.Event()
        follower = threading.Thread(target=ours.follow, args=(stopping, 60.0), daemon=True)  # looks only when woken
        follower.start()
        try:
            deadline = time.monotonic() + WORKER_TIMEOUT
            while not ours._following and time.monotonic() < deadline:
                time.sleep(0.01)
            claim = submit(app, mission, sme, eur_line("1000.00"))
            written = app.position_written()
            assert written is not None
            Projector(app, db).catch_up()  # another worker's projector
            asked: list[int] = []
            position = db.position

            def counted() -> int:
                asked.append(1)
                return position()

            monkeypatch.setattr(db, "position", counted)
            ours.wait_for(written, timeout=10)
            assert not asked, "the waiting writer queried the read models' position itself"
        finally:
            stopping.set()
            follower.join(WORKER_TIMEOUT)
        assert not follower.is_alive(), "the following projector did not stop"
        self.assert_visible(db, claim, "submitted", committed=Decimal("0.00"))

    @staticmethod
    def assert_visible(db: ReadDatabase, claim: uuid.UUID, state: str, *, committed: Decimal) -> None:
        with db.reading() as conn:
            detail = claim_detail(conn, str(claim))
            books = budget_overview(conn)
        assert detail is not None
        assert detail.claim.state == state
        assert line_of(books, PARTNER, "FSTP").committed == committed
