"""Loading an empty read database in bulk: its secondary indexes built once at the end.

A rebuild (projections/replay.py) writes every row of every read model into a database nobody
else reads until it is done. Kept in step row by row, each secondary index and the full-text
index cost a B-tree insertion per row, at a random place for the UUID-keyed ones; built once
from the finished table they cost a sort. On the 100k-event history of BENCHMARKS.md the
rebuild took 12.6-12.9 s with the indexes kept in step and 10.2 s with them built at the end
(0.44 s of it building them). Primary keys and unique constraints stay in place throughout:
they are what a batch's inserts are checked against.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import Index

from projections import search
from projections import tables as t
from projections.db import ReadDatabase


def deferred_indexes() -> tuple[Index, ...]:
    """Every secondary index of the read models (not the full-text index: ``search``)."""
    return tuple(index for table in t.metadata.sorted_tables for index in table.indexes)


@contextlib.contextmanager
def indexes_deferred(db: ReadDatabase) -> Iterator[None]:
    """Load ``db``, which must be empty, with its secondary and full-text indexes dropped; build
    them afterwards, also when the load fails (the read models are then as the last batch left
    them, indexed and consistent)."""
    if position := db.position():
        raise ValueError(f"a bulk load needs empty read models; these are at event position {position}")
    with db.writing() as conn:
        for index in deferred_indexes():
            index.drop(conn)
        search.pause_index(conn, sqlite=db.is_sqlite, schema=db.schema)
    try:
        yield
    finally:
        with db.writing() as conn:
            for index in deferred_indexes():
                index.create(conn)
            search.resume_index(conn, sqlite=db.is_sqlite, schema=db.schema)
