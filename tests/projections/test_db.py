"""The read database: where it lives, and how threads share an in-memory one."""

from __future__ import annotations

import threading

from sqlalchemy import select, update

from ledger.storage import open_ledger
from projections import tables as t
from projections.db import ReadDatabase, read_url_for
from projections.projector import Projector
from tests.builders import open_mission, selected_sme, sign_alliance


class TestWhereReadModelsLive:
    def test_urls_derive_from_the_event_store(self) -> None:
        """A SQLite store gets its own read file beside it; PostgreSQL shares the database and
        schema; memory gets in-memory SQLite; the environment variable overrides all three."""
        assert read_url_for("sqlite:///data/ledger.db", environ={}) == "sqlite:///data/ledger-read.db"
        pg = "postgresql://postgres@127.0.0.1:5432/test?schema=alliance"
        assert read_url_for(pg, environ={}) == pg
        assert read_url_for("memory://", environ={}) == "sqlite://"
        override = {"GRANTLEDGER_READ_DATABASE_URL": "sqlite:////srv/read.db"}
        assert read_url_for("memory://", environ=override) == "sqlite:////srv/read.db"


class TestInMemoryReadDatabase:
    def test_a_reader_waits_for_a_writer_in_another_thread(self) -> None:
        """One in-memory database is one shared connection: a read while another thread holds
        a write transaction waits for it instead of failing."""
        db = ReadDatabase("sqlite://")
        inside, release = threading.Event(), threading.Event()

        def writer() -> None:
            with db.writing():
                inside.set()
                release.wait(5)

        thread = threading.Thread(target=writer)
        thread.start()
        assert inside.wait(5)
        threading.Timer(0.2, release.set).start()
        assert db.position() == 0
        thread.join(5)
        db.close()

    def test_projectors_in_threads_apply_every_event_once(self) -> None:
        """Several projector threads on a memory:// ledger (as the service runs them) apply each
        event exactly once."""
        app = open_ledger("memory://")
        sign_alliance(app)
        mission = open_mission(app)
        for _ in range(5):
            selected_sme(app, mission)
        db = ReadDatabase("sqlite://")
        counts: list[int] = []
        threads = [
            threading.Thread(target=lambda: counts.append(Projector(app, db, batch_size=3).catch_up()))
            for _ in range(3)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sum(counts) == app.recorder.max_notification_id()
        assert db.position() == app.recorder.max_notification_id()
        db.close()
        app.close()


class TestSnapshotReads:
    def test_a_snapshot_read_sees_one_state_throughout(self, store_url: str) -> None:
        """Exports read the chain's head and the tables in one snapshot: a commit made meanwhile
        (here, the read models' position moved) is not seen by the rest of the transaction, on
        PostgreSQL too, where each statement of a plain read transaction sees the latest commit."""
        db = ReadDatabase(read_url_for(store_url, environ={}))
        tracked = t.tracking.c
        query = select(tracked.position).where(tracked.name == "read_models")
        try:
            with db.reading(snapshot=True) as conn:
                before = conn.execute(query).scalar_one()
                with db.engine.begin() as other:
                    other.execute(update(t.tracking).where(tracked.name == "read_models").values(position=before + 7))
                assert conn.execute(query).scalar_one() == before
            assert db.position() == before + 7
        finally:
            db.close()
