"""The read database: where it lives, and how threads share an in-memory one."""

from __future__ import annotations

import contextlib
import threading

import pytest
from sqlalchemy import delete, func, inspect, select, update

from ledger.storage import open_ledger
from projections import tables as t
from projections.db import GROWTH, LAYOUT_ROW, OtherLayout, ReadDatabase, read_url_for
from projections.layouts import UPGRADES, upgradable
from projections.projector import Projector
from tests.builders import open_mission, selected_sme, sign_alliance
from tests.conftest import PostgresSchema

COSTS_INDEX = "ix_rm_budget_movements_costs"


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


class TestPostgresPool:
    def test_connections_opened_under_load_are_kept_for_the_next_requests(self, pg_schema: PostgresSchema) -> None:
        """Readers at once beyond pool_size open connections up to pool_size + GROWTH, and the
        pool keeps them: the next readers open none (a new connection is a new server process)."""
        db = ReadDatabase(pg_schema.url)
        try:
            with contextlib.ExitStack() as readers:
                for _ in range(2 + GROWTH):
                    readers.enter_context(db.reading())
            assert db.engine.pool.checkedin() == 2 + GROWTH  # type: ignore[attr-defined]
            with contextlib.ExitStack() as readers:
                for _ in range(2 + GROWTH):
                    readers.enter_context(db.reading())
                assert db.engine.pool.checkedin() == 0  # type: ignore[attr-defined]
        finally:
            db.close()


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


def _built_with(db: ReadDatabase, layout: int | None) -> None:
    """Make the read models look as if another release built them (None: one that predates
    recording the layout)."""
    row = t.tracking.c.name == LAYOUT_ROW
    with db.engine.begin() as conn:
        if layout is None:
            conn.execute(delete(t.tracking).where(row))
        else:
            conn.execute(update(t.tracking).where(row).values(position=layout))


def _schema_of(db: ReadDatabase) -> str:
    return f'"{db.schema}".' if db.schema and not db.is_sqlite else ""


def _smes_on(db: ReadDatabase) -> int:
    with db.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(t.smes)).scalar_one())


class TestLayouts:
    """Read models built by another release (other tables or columns) are never read as if
    they were this release's."""

    @pytest.fixture
    def projected(self, store_url: str) -> tuple[str, int]:
        app = open_ledger(store_url)
        sign_alliance(app)
        mission = open_mission(app)
        for _ in range(3):
            selected_sme(app, mission)
        read_url = read_url_for(store_url, environ={})
        db = ReadDatabase(read_url)
        Projector(app, db).catch_up()
        position = db.position()
        db.close()
        app.close()
        return read_url, position

    @pytest.mark.parametrize("older", [None, min(UPGRADES) - 1])
    def test_a_writer_rebuilds_read_models_of_an_older_layout(
        self, store_url: str, projected: tuple[str, int], older: int | None
    ) -> None:
        """A writer opening read models of an older layout drops them: they start again from
        position 0 with this layout, and the projector rebuilds the same figures."""
        read_url, position = projected
        db = ReadDatabase(read_url)
        _built_with(db, older)
        db.close()
        db = ReadDatabase(read_url)
        try:
            assert db.position() == 0
            assert _smes_on(db) == 0
            app = open_ledger(store_url)
            assert Projector(app, db).catch_up() == position
            app.close()
            assert _smes_on(db) == 3
            with db.reading() as conn:
                built = conn.execute(select(t.tracking.c.position).where(t.tracking.c.name == LAYOUT_ROW))
                assert built.scalar_one() == t.LAYOUT
        finally:
            db.close()

    def test_a_writer_upgrades_read_models_of_the_previous_layout_in_place(self, projected: tuple[str, int]) -> None:
        """Read models of layout 6 lack only the partner-costs index (layout 7): a writer adds it
        and keeps every row, the position and the seals, rather than rebuilding from the events."""
        read_url, position = projected
        db = ReadDatabase(read_url)
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP INDEX {_schema_of(db)}{COSTS_INDEX}")
            seals = conn.execute(select(func.count()).select_from(t.chain)).scalar_one()
        _built_with(db, 6)
        db.close()
        db = ReadDatabase(read_url)
        try:
            assert db.position() == position
            assert _smes_on(db) == 3
            with db.reading() as conn:
                assert conn.execute(select(func.count()).select_from(t.chain)).scalar_one() == seals > 0
                layout = conn.execute(select(t.tracking.c.position).where(t.tracking.c.name == LAYOUT_ROW))
                assert layout.scalar_one() == t.LAYOUT
                indexes = inspect(conn).get_indexes("rm_budget_movements", schema=db.schema)
                assert COSTS_INDEX in {index["name"] for index in indexes}
        finally:
            db.close()

    def test_every_step_from_an_upgradable_layout_is_known(self) -> None:
        """An in-place upgrade needs every step up to this layout; a gap means a rebuild."""
        assert upgradable(t.LAYOUT - 1)
        assert not upgradable(min(UPGRADES) - 1)
        assert not upgradable(t.LAYOUT)

    def test_a_reader_refuses_an_upgradable_layout_and_changes_nothing(self, projected: tuple[str, int]) -> None:
        """A read-only command does not upgrade: it says `grantledger project` will, in place."""
        read_url, position = projected
        db = ReadDatabase(read_url)
        try:
            with db.engine.begin() as conn:
                conn.exec_driver_sql(f"DROP INDEX {_schema_of(db)}{COSTS_INDEX}")
            _built_with(db, t.LAYOUT - 1)
            with pytest.raises(OtherLayout, match=r"layout 6.*grantledger project` to upgrade them \(in place"):
                ReadDatabase(read_url, create=False)
            assert db.position() == position
            with db.reading() as conn:
                layout = conn.execute(select(t.tracking.c.position).where(t.tracking.c.name == LAYOUT_ROW))
                assert layout.scalar_one() == t.LAYOUT - 1
                indexes = inspect(conn).get_indexes("rm_budget_movements", schema=db.schema)
                assert COSTS_INDEX not in {index["name"] for index in indexes}
        finally:
            db.close()

    def test_a_reader_refuses_an_older_layout_and_changes_nothing(self, projected: tuple[str, int]) -> None:
        """A read-only command names the layouts and says to run `grantledger project`; the
        read models stay as they were."""
        read_url, position = projected
        db = ReadDatabase(read_url)
        try:
            _built_with(db, None)
            with pytest.raises(OtherLayout, match=r"older release .*layout 1.*grantledger project"):
                ReadDatabase(read_url, create=False)
            assert db.position() == position
            assert _smes_on(db) == 3
        finally:
            db.close()

    def test_every_opener_refuses_a_newer_layout(self, projected: tuple[str, int]) -> None:
        """Read models a newer release built are not dropped by an older one."""
        read_url, position = projected
        db = ReadDatabase(read_url)
        try:
            _built_with(db, t.LAYOUT + 1)
            for create in (True, False):
                with pytest.raises(OtherLayout, match="newer release"):
                    ReadDatabase(read_url, create=create)
            assert db.position() == position
        finally:
            db.close()
