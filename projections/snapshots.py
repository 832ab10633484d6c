"""Every stored snapshot checked against the events it summarises.

The ledger never decides on a snapshot whose seal does not check (ledger.records); this is
the auditor's view of the snapshot store: for each stored snapshot, the aggregate is rebuilt
from its events up to the snapshot's version and compared with the snapshot's state, and the
seal is checked. A snapshot is bad when it cannot be read, when its state or type differs
from what its events give at that version, when no event has that version, when it is
sealed with this process's key and the seal does not match, or when its seal checks but the
event it was sealed with is not this store's event at its version (copied from another store
that shares the key). Snapshots sealed with another key, written without a seal or sealed
before seals named their event are never used by the ledger; they are bad only if they lie.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.application import project_aggregate
from eventsourcing.domain import Aggregate, EventSourcingError
from eventsourcing.persistence import AggregateRecorder, StoredEvent
from eventsourcing.utils import TopicError

from ledger.application import GrantLedger
from ledger.records import Seal, SnapshotMapper, TrustedSnapshots, is_sealed_event
from ledger.words import article

#: Differing fields named per bad snapshot, at most.
SHOWN_FIELDS = 3


@dataclass(frozen=True)
class SnapshotFinding:
    """One bad snapshot: which aggregate, which version, and what is wrong with it."""

    aggregate_type: str
    aggregate_id: UUID
    version: int
    problem: str

    def __str__(self) -> str:
        return f"BAD SNAPSHOT of {self.aggregate_type} {self.aggregate_id} at version {self.version}: {self.problem}"


@dataclass(frozen=True)
class SnapshotReport:
    """What checking the snapshot store found."""

    checked: int
    findings: Sequence[SnapshotFinding] = ()
    seals: Counter[Seal] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not self.findings

    def lines(self) -> list[str]:
        census = ", ".join(f"{self.seals[seal]} {seal}" for seal in Seal)
        if self.ok:
            return [f"snapshots: all {self.checked} snapshots match the events they summarise ({census})"]
        return [
            *(str(finding) for finding in self.findings),
            f"snapshots: {len(self.findings)} of {self.checked} are bad ({census}); the ledger never uses a "
            "snapshot whose seal fails or whose event is not this store's, and loads those aggregates from "
            "their events",
        ]

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _store(app: GrantLedger) -> TrustedSnapshots | None:
    """The ledger's sealed snapshot store (None when snapshotting is switched off)."""
    if app.snapshots is not None and not isinstance(app.snapshots, TrustedSnapshots):
        raise TypeError("the ledger's snapshot store is not the sealed one (ledger.records.TrustedSnapshots)")
    return app.snapshots


def snapshot_ids(recorder: AggregateRecorder) -> list[UUID]:
    """Every aggregate id that has a row in the snapshot table (whatever the store)."""
    from eventsourcing.popo import POPOAggregateRecorder
    from eventsourcing.sqlite import SQLiteAggregateRecorder

    ids: set[Any] = set()
    if isinstance(recorder, POPOAggregateRecorder):
        with recorder._database_lock:  # the in-memory store has no query of its own: read its list
            ids = {stored.originator_id for stored in recorder._stored_events}
    elif isinstance(recorder, SQLiteAggregateRecorder):
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT DISTINCT originator_id FROM {recorder.events_table_name}")  # noqa: S608 - the library's own table name
            ids = {row[0] for row in cursor.fetchall()}
    else:
        from eventsourcing.postgres import PostgresAggregateRecorder
        from psycopg.sql import SQL, Identifier

        if not isinstance(recorder, PostgresAggregateRecorder):
            raise TypeError(f"cannot list the snapshots of {article(type(recorder).__name__)}")
        statement = SQL("SELECT DISTINCT originator_id FROM {}.{}").format(
            Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name)
        )
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(statement)
            ids = {row["originator_id"] for row in cursor.fetchall()}
    return sorted(value if isinstance(value, UUID) else UUID(str(value)) for value in ids)


def _stored_snapshots(store: TrustedSnapshots) -> Iterator[tuple[UUID, Sequence[StoredEvent]]]:
    for aggregate_id in snapshot_ids(store.recorder):
        yield aggregate_id, store.recorder.select_events(originator_id=aggregate_id)


def census(app: GrantLedger) -> tuple[int, Counter[Seal]]:
    """How many snapshots are stored, by what their seal says (no events are read)."""
    seals: Counter[Seal] = Counter()
    if (store := _store(app)) is not None:
        for _, records in _stored_snapshots(store):
            seals.update(store.mapper.inspect(stored).seal for stored in records)
    return sum(seals.values()), seals


def _differences(restored: Aggregate, rebuilt: Aggregate) -> str:
    ours, truth = vars(restored), vars(rebuilt)
    names = sorted((set(ours) | set(truth)) - {"_pending_events"}, key=lambda name: (name.startswith("_"), name))
    differing = [name for name in names if ours.get(name) != truth.get(name)]
    if not differing:
        return ""
    shown = "; ".join(
        f"{name.lstrip('_')}: {ours.get(name, '(missing)')} in the snapshot, {truth.get(name, '(missing)')} "
        "from the events"
        for name in differing[:SHOWN_FIELDS]
    )
    more = f" (and {len(differing) - SHOWN_FIELDS} more fields)" if len(differing) > SHOWN_FIELDS else ""
    return f"its state differs from its events: {shown}{more}"


class _Replay:
    """One aggregate rebuilt from its events, version by version, without any snapshot."""

    def __init__(self, app: GrantLedger, aggregate_id: UUID) -> None:
        self.records = iter(app.events.recorder.select_events(aggregate_id))
        self.mapper = app.events.mapper
        self.aggregate: Aggregate | None = None
        #: The stored record of the last event applied, as the store holds it.
        self.record: StoredEvent | None = None
        self.error = ""

    def to(self, version: int) -> Aggregate | None:
        while not self.error and (self.aggregate is None or self.aggregate.version < version):
            try:
                record = next(self.records, None)
                if record is None:
                    break
                self.aggregate = project_aggregate(self.aggregate, [self.mapper.to_domain_event(record)])
                self.record = record
            except EventSourcingError as error:
                self.error = f"its events cannot be rebuilt to this version: {error}"
        return self.aggregate


def _check(mapper: SnapshotMapper, replay: _Replay, stored: StoredEvent) -> tuple[str, list[str]]:
    """The aggregate type and the problems of one stored snapshot (none: it is good)."""
    version = stored.originator_version
    rebuilt = replay.to(version)
    kind = "unknown aggregate" if rebuilt is None else type(rebuilt).__name__
    seal, _, digest = mapper.inspect(stored)
    problems = []
    if seal is Seal.BROKEN:
        problems.append("its seal does not match (changed, rolled back, moved or forged)")
    at_version = rebuilt is not None and rebuilt.version == version  # else: no event has this version, said below
    if seal is Seal.OURS and digest is not None and at_version and not is_sealed_event(replay.record, version, digest):
        problems.append(
            f"it does not summarise this store's event at version {version}: it was sealed with another "
            "event (copied from another store that shares the key, or the event was changed)"
        )
    try:
        restored: Aggregate = mapper.to_domain_event_unchecked(stored).mutate(None)  # type: ignore[attr-defined]
    except (EventSourcingError, TopicError, ValueError, KeyError, TypeError, AttributeError) as error:
        # a forged row may hold anything: whatever fails to make an aggregate of it is unreadable
        reason = str(error).split(f"originator_version {version}: ", 1)[-1]
        problems.append(f"it cannot be read: {reason}")
        return kind, problems
    if rebuilt is None:
        problems.append(
            replay.error
            or f"no event of this aggregate exists (the snapshot claims {article(type(restored).__name__)})"
        )
    elif rebuilt.version != version:
        problems.append(
            replay.error or f"no event has this version: the aggregate's last event is version {rebuilt.version}"
        )
    elif type(restored) is not type(rebuilt):
        problems.append(
            f"it holds {article(type(restored).__name__)}, but its events make {article(kind)} "
            "(moved from another aggregate)"
        )
    elif difference := _differences(restored, rebuilt):
        problems.append(difference)
    return kind, problems


def check_snapshots(app: GrantLedger) -> SnapshotReport:
    """Check every stored snapshot against its seal and the events it summarises."""
    findings: list[SnapshotFinding] = []
    seals: Counter[Seal] = Counter()
    checked = 0
    if (store := _store(app)) is None:
        return SnapshotReport(0)
    mapper = store.mapper
    for aggregate_id, records in _stored_snapshots(store):
        replay = _Replay(app, aggregate_id)
        for stored in records:
            checked += 1
            seals[mapper.inspect(stored).seal] += 1
            kind, problems = _check(mapper, replay, stored)
            if problems:
                findings.append(SnapshotFinding(kind, aggregate_id, stored.originator_version, "; ".join(problems)))
    return SnapshotReport(checked, findings, seals)
