"""Section 1: commands through the application against the raw library doing the same I/O.

Ours: the deterministic workload through ``GrantLedger`` on a fresh store (every command
loads its aggregates, checks the rules, and saves all changes atomically). While it runs, a
trace records each aggregate load and each save (which aggregates, which events, their
payloads). The baseline replays that trace through the bare eventsourcing library: a plain
``Application`` with one generic aggregate class whose events carry the same payloads, so it
loads the same aggregates (with the same snapshot interval), appends the same number of
events of the same size to the same aggregates, in the same atomic saves, and does nothing
else. The difference is the ledger's own work: validation, rules, idempotency, conversions.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder

from bench.options import Options
from bench.report import Figure
from bench.workload import Workload
from ledger.application import GrantLedger
from ledger.base import register_transcodings
from ledger.storage import library_env, open_ledger

#: Claims per measured run (about 4.5 commands each).
CLAIMS = 600
QUICK_CLAIMS = 60
#: The envelope the library sets itself when an event is created.
_ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})


class Record(Aggregate):
    """Any ledger aggregate, to the bare library: a bag of fields changed by events."""

    class Created(Aggregate.Created):
        fields: dict[str, Any]

    class Changed(Aggregate.Event):
        fields: dict[str, Any]

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Record)  # noqa: S101 - only Records have Changed events
            aggregate.fields.update(self.fields)

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = dict(fields)


class RawLedger(Application[UUID]):
    """The bare library with the ledger's value-object transcodings and snapshot interval."""

    name = "RawLedger"
    snapshotting_intervals = {Record: 50}  # noqa: RUF012 - the library's class attribute

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_transcodings(transcoder)


@dataclass
class Trace:
    """What the application did to its store, in order: loads and saves."""

    steps: list[tuple[str, Any]] = field(default_factory=list)
    saves: int = 0

    def attach(self, app: GrantLedger) -> None:
        """Trace ``app``'s loads (the repository's ``get``, and ``load``, which reads an aggregate
        of a class never snapshotted without asking the snapshot table, and calls ``get`` for the
        others: traced once) and its saves."""
        repository = app.repository
        get, load, save = repository.get, getattr(repository, "load", None), app.save
        loading = [False]

        def traced_get(aggregate_id: UUID, *args: Any, **kwargs: Any) -> Any:
            if not loading[0]:
                self.steps.append(("get", aggregate_id))
            return get(aggregate_id, *args, **kwargs)

        def traced_load(cls: type, aggregate_id: UUID, *args: Any, **kwargs: Any) -> Any:
            self.steps.append(("get", aggregate_id))
            loading[0] = True
            try:
                return load(cls, aggregate_id, *args, **kwargs)  # type: ignore[misc]
            finally:
                loading[0] = False

        def traced_save(*aggregates: Any) -> Any:
            changes = []
            for aggregate in aggregates:
                events = [{k: v for k, v in vars(e).items() if k not in _ENVELOPE} for e in aggregate.pending_events]
                if events:
                    first_version = aggregate.pending_events[0].originator_version
                    changes.append((aggregate.id, first_version, events))
            self.steps.append(("save", changes))
            self.saves += 1
            return save(*aggregates)

        repository.get = traced_get  # type: ignore[method-assign]
        if load is not None:
            repository.load = traced_load  # type: ignore[attr-defined]
        app.save = traced_save  # type: ignore[method-assign,assignment]


def replay(trace: Trace, raw: RawLedger) -> None:
    """Do to the raw application's store what the ledger did to its own."""
    loaded: dict[UUID, Record] = {}
    for kind, step in trace.steps:
        if kind == "get":
            try:
                loaded[step] = raw.repository.get(step)
            except AggregateNotFoundError:
                loaded.pop(step, None)
            continue
        records = []
        for aggregate_id, first_version, events in step:
            if first_version == Record.INITIAL_VERSION:
                record = Record._create(Record.Created, id=aggregate_id, fields=events[0])
                events = events[1:]
            else:
                record = loaded.get(aggregate_id) or raw.repository.get(aggregate_id)
            for fields in events:
                record.trigger_event(Record.Changed, fields=fields)
            records.append(record)
        raw.save(*records)
        loaded.clear()


def _measure(options: Options, store: str, open_store: Any) -> Figure:
    claims = QUICK_CLAIMS if options.quick else CLAIMS
    app: GrantLedger = open_store("ours")
    trace = Trace()
    trace.attach(app)
    started = time.perf_counter()
    Workload(app).run(claims)
    ours = time.perf_counter() - started
    events = app.recorder.max_notification_id() or 0
    raw: RawLedger = open_store("raw")
    started = time.perf_counter()
    replay(trace, raw)
    baseline = time.perf_counter() - started
    if raw.recorder.max_notification_id() != events:
        raise RuntimeError(f"the raw replay stored {raw.recorder.max_notification_id()} events, ours {events}")
    app.close()
    raw.close()
    return Figure(
        "1 commands",
        f"commands, {store}",
        "commands/s",
        trace.saves / ours,
        trace.saves / baseline,
        "raw library, same saves",
        bar=0.7,
        note=f"{trace.saves:,} commands, {events:,} events",
    )


def run(options: Options) -> list[Figure]:
    figures = []

    def sqlite_store(kind: str) -> Any:
        path = options.workdir / f"commands-{kind}.db"
        if kind == "ours":
            return open_ledger(f"sqlite:///{path}")
        return RawLedger(env=library_env(f"sqlite:///{path}"))

    figures.append(_measure(options, "SQLite file", sqlite_store))
    server = options.postgres_url
    if server:
        schemas: list[str] = []

        def postgres_store(kind: str) -> Any:
            schema = f"bench_{kind}_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            schemas.append(schema)
            url = f"{server}?schema={schema}"
            return open_ledger(url) if kind == "ours" else RawLedger(env=library_env(url))

        try:
            figures.append(_measure(options, "PostgreSQL", postgres_store))
        finally:
            with psycopg.connect(server, autocommit=True) as conn:
                for schema in schemas:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return figures
