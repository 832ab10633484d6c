"""Replay: rebuild every read model from the first event into fresh tables, and compare.

The rebuild is the projector itself pointed at an empty database (a temporary SQLite file
beside the live one, or a fresh PostgreSQL schema), so it streams the log in batches with
bounded memory. The comparison walks both databases table by table in primary-key order
and reports each row that differs (docs/domain.md invariant 8).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import String, Table, TypeDecorator, select
from sqlalchemy.types import TypeEngine

from ledger.application import GrantLedger
from projections import tables as t
from projections.bulk import indexes_deferred
from projections.chain import ChainBroken
from projections.db import ReadDatabase
from projections.projector import Progress, Projector
from projections.search import FTS_TABLE, search_index_problems

#: Tables compared after a rebuild (tracking positions are compared separately).
COMPARED: tuple[Table, ...] = tuple(table for table in t.metadata.sorted_tables if table is not t.tracking)


@dataclass(frozen=True)
class Difference:
    table: str
    key: tuple[Any, ...]
    live: dict[str, Any] | None
    rebuilt: dict[str, Any] | None

    def __str__(self) -> str:
        where = f"{self.table} {self.key}"
        if self.live is None:
            return f"{where}: missing from the live read models"
        if self.rebuilt is None:
            return f"{where}: in the live read models but not in the rebuild"
        changed = {k: (self.live[k], self.rebuilt[k]) for k in self.live if self.live[k] != self.rebuilt.get(k)}
        return f"{where}: " + "; ".join(f"{k} live {a!r}, rebuilt {b!r}" for k, (a, b) in changed.items())


@contextlib.contextmanager
def scratch_database(like: ReadDatabase) -> Iterator[ReadDatabase]:
    """An empty read database of the same kind as ``like``, removed afterwards."""
    tag = uuid.uuid4().hex[:8]
    if like.is_sqlite:
        live_path = like.engine.url.database
        if live_path:
            path = Path(live_path).with_name(f"{Path(live_path).stem}.replay-{tag}.db")
            db = ReadDatabase(f"sqlite:///{path}")
        else:
            path, db = None, ReadDatabase("sqlite://")
        try:
            yield db
        finally:
            db.close()
            if path is not None:
                for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(leftover)
    else:
        db = ReadDatabase(like.url, schema=f"{like.schema or 'public'}_replay_{tag}")
        try:
            yield db
        finally:
            db.drop()
            db.close()


#: Events per transaction when rebuilding into an empty database.
REBUILD_BATCH_SIZE = 2000


def rebuild(
    app: GrantLedger, target: ReadDatabase, *, stop: int | None = None, progress: Progress | None = None
) -> int:
    """Apply every event (up to ``stop``) to ``target``, which must be empty; return the count.
    Nobody else writes a scratch database, so its batches can be longer (fewer commits) and its
    indexes can be built once at the end (projections.bulk)."""
    with indexes_deferred(target):
        return Projector(app, target, batch_size=REBUILD_BATCH_SIZE).catch_up(stop=stop, progress=progress)


def _is_text(column_type: TypeEngine[Any]) -> bool:
    impl = column_type.impl if isinstance(column_type, TypeDecorator) else column_type
    return isinstance(impl, String)


def _rows(db: ReadDatabase, table: Table) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    key_columns = list(table.primary_key.columns) or list(table.columns)
    # Byte order on both stores, so that Python's comparison of keys agrees with SQL's.
    order = [c.collate("C") if _is_text(c.type) and not db.is_sqlite else c for c in key_columns]
    with (
        db.engine.connect() as conn,
        conn.execution_options(yield_per=2000).execute(select(table).order_by(*order)) as result,
    ):
        for row in result.mappings():
            yield tuple(row[c.name] for c in key_columns), dict(row)


def compare(live: ReadDatabase, rebuilt: ReadDatabase) -> Iterator[Difference]:
    """Every row that differs between two read databases, table by table; and a full-text
    index that does not hold exactly the rows of ``rm_search`` it indexes (SQLite's FTS5)."""
    checks = []
    for db in (live, rebuilt):
        with db.reading() as conn:
            checks.append("; ".join(search_index_problems(conn)) or "consistent")
    if checks != ["consistent", "consistent"]:
        yield Difference(FTS_TABLE, ("integrity-check",), {"index": checks[0]}, {"index": checks[1]})
    for table in COMPARED:
        left, right = _rows(live, table), _rows(rebuilt, table)
        a, b = next(left, None), next(right, None)
        while a is not None or b is not None:
            if a is not None and (b is None or a[0] < b[0]):
                yield Difference(table.name, a[0], a[1], None)
                a = next(left, None)
            elif b is not None and (a is None or b[0] < a[0]):
                yield Difference(table.name, b[0], None, b[1])
                b = next(right, None)
            elif a is not None and b is not None:
                if a[1] != b[1]:
                    yield Difference(table.name, a[0], a[1], b[1])
                a, b = next(left, None), next(right, None)


@dataclass(frozen=True)
class ReplayReport:
    position: int
    events: int
    differences: list[Difference]
    #: Why the live read models could not be brought up to date first ("" when they were).
    stuck: str = ""

    @property
    def identical(self) -> bool:
        return not self.differences and not self.stuck


def replay_and_compare(
    app: GrantLedger, live: ReadDatabase, *, progress: Progress | None = None, max_differences: int = 1000
) -> ReplayReport:
    """Bring the live read models up to date, rebuild them from scratch to the same position,
    and compare the two. Live read models whose chain is broken, or that cannot apply an event
    (rows ahead of the chain, say), are compared as they stand, and the report says why they
    stopped (``stuck``): the seals missing from them, or differing, are differences like any other."""
    projector, stuck = Projector(app, live), ""
    try:
        projector.catch_up()
    except ChainBroken as error:
        stuck = str(error)
    except Exception:
        if projector.failure is None:
            raise
        stuck = projector.failure.describe()
    head = live.position()
    with scratch_database(live) as fresh:
        events = rebuild(app, fresh, stop=head, progress=progress)
        differences = []
        for difference in compare(live, fresh):
            differences.append(difference)
            if len(differences) >= max_differences:
                break
        if fresh.position() != head:
            differences.append(
                Difference("rm_tracking", ("read_models",), {"position": head}, {"position": fresh.position()})
            )
    return ReplayReport(position=head, events=events, differences=differences, stuck=stuck)
