"""A rebuild loads an empty read database with its indexes dropped and builds them at the end
(projections/bulk.py): the result must be the database a projector keeps up row by row, with
every index, trigger and full-text entry, also when the load stops half-way."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, select, text

from projections import tables as t
from projections.bulk import deferred_indexes, indexes_deferred
from projections.db import ReadDatabase
from projections.projector import Projector
from projections.replay import compare, rebuild, scratch_database
from projections.search import search, search_index_problems
from tests.projections.projecting import Stores, build_history


def schema_objects(db: ReadDatabase) -> set[tuple[str, str]]:
    """The database's indexes and triggers by kind and name (tables of the read models only)."""
    with db.reading() as conn:
        if db.is_sqlite:
            rows = conn.execute(text("SELECT type, name FROM sqlite_master WHERE type IN ('index', 'trigger')"))
        else:
            rows = conn.execute(
                text(
                    "SELECT 'index', indexname FROM pg_indexes WHERE schemaname = :schema AND tablename LIKE 'rm\\_%'"
                ),
                {"schema": db.schema or "public"},
            )
        return {(str(kind), str(name)) for kind, name in rows}


def hits(conn: Connection, query: str) -> set[str]:
    found, _total = search(conn, query)
    return {hit.record_id for hit in found}


def test_a_rebuild_ends_with_every_index_of_a_live_database(stores: Stores) -> None:
    build_history(stores.app)
    Projector(stores.app, stores.db).catch_up()
    live_objects = schema_objects(stores.db)
    assert {index.name for index in deferred_indexes()} <= {name for _, name in live_objects}
    with scratch_database(stores.db) as fresh:
        assert rebuild(stores.app, fresh) == stores.app.recorder.max_notification_id()
        assert schema_objects(fresh) == live_objects
        assert list(compare(stores.db, fresh)) == []
        with fresh.reading() as new, stores.db.reading() as old:
            assert search_index_problems(new) == []
            for query in ("dsei japan", "sme", "expense"):  # a claim's words, SMEs' legal names
                assert hits(new, query) == hits(old, query)
                assert hits(new, query), f"the history holds records found by {query!r}"


def test_the_rebuilt_index_is_kept_up_by_later_events(stores: Stores) -> None:
    """After the bulk load the full-text index follows new rows again (its triggers are back)."""
    build_history(stores.app)
    with scratch_database(stores.db) as fresh:
        rebuild(stores.app, fresh, stop=50)
        Projector(stores.app, fresh).catch_up()
        Projector(stores.app, stores.db).catch_up()
        assert list(compare(stores.db, fresh)) == []
        with fresh.reading() as conn:
            assert search_index_problems(conn) == []


def test_a_load_that_fails_still_leaves_the_indexes_built(stores: Stores) -> None:
    build_history(stores.app)
    with scratch_database(stores.db) as fresh:
        live_objects = schema_objects(fresh)
        projector = Projector(stores.app, fresh, batch_size=40)

        def load_one_batch_and_fail() -> None:
            with indexes_deferred(fresh):
                projector.run_batch()
                raise RuntimeError("stopped after one batch")

        with pytest.raises(RuntimeError, match="stopped"):
            load_one_batch_and_fail()
        assert fresh.position() == 40
        assert schema_objects(fresh) == live_objects
        with fresh.reading() as conn:
            assert search_index_problems(conn) == []
            audited = conn.execute(select(t.audit.c.position)).scalars().all()
        assert audited == list(range(1, 41))


def test_read_models_that_hold_events_are_refused_and_kept(stores: Stores) -> None:
    build_history(stores.app)
    Projector(stores.app, stores.db).catch_up()
    before = schema_objects(stores.db)
    with pytest.raises(ValueError, match="needs empty read models; these are at event position"):
        rebuild(stores.app, stores.db)
    assert schema_objects(stores.db) == before
