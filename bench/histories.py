"""Event stores holding a generated history of a given size, built once and kept.

Generating a history goes through the real application (about 3k events/s in memory), so a
million events take minutes: each size is built once into ``.bench-cache/`` (or
GRANTLEDGER_BENCH_CACHE) and copied from there. A cached file is named by its claim count
and seed, and only used when its marker says it was completed.

The sections that query a history's read models (the recompute, the statements) share one
copy of it per run, with its read models rebuilt and its journal exported once (``books``):
a rebuild of a million events takes minutes.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from bench.options import Options
from bench.workload import VERSION as WORKLOAD_VERSION
from bench.workload import Workload, copy_history, set_reporting_periods
from ledger.storage import open_ledger

#: Events per generated claim, on average (measured: 9,578 events for 1,000 claims).
EVENTS_PER_CLAIM = 9.5
SEED = 2023


def cache_dir() -> Path:
    return Path(os.environ.get("GRANTLEDGER_BENCH_CACHE", ".bench-cache"))


def claims_for(events: int) -> int:
    return max(10, math.ceil(events / EVENTS_PER_CLAIM))


def cached_history(options: Options, events: int) -> Path:
    """A SQLite event store with about ``events`` events (generated on first use)."""
    claims = claims_for(events)
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"history-v{WORKLOAD_VERSION}-{claims}-claims-seed{SEED}.db"
    done = path.with_suffix(".complete")
    if path.exists() and done.exists():
        return path
    for stale in (path, done, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    options.say(f"generating a history of {claims:,} claims (about {events:,} events) into {path}")
    memory = open_ledger("memory://")
    workload = Workload(memory, seed=SEED)
    workload.run(claims, progress=lambda n: options.say(f"  {n:,} claims") if n % 10_000 == 0 else None)
    store = open_ledger(f"sqlite:///{path}")
    copy_history(memory, store)
    store.close()
    done.write_text(f"{memory.recorder.max_notification_id()}\n")
    return path


def history_copy(options: Options, events: int, name: str) -> Path:
    """A private copy of the cached history in the run's workdir (safe to project into)."""
    source = cached_history(options, events)
    target = options.workdir / f"{name}.db"
    shutil.copyfile(source, target)
    return target


@dataclass(frozen=True)
class Books:
    """A private copy of a generated history with its reporting periods set (the workload sets
    none), its read models rebuilt and its hledger journal exported from them."""

    store: Path
    read: Path
    journal: Path
    #: Events in the store (the generated history and the periods set).
    events: int
    #: Transactions in the journal.
    transactions: int


_books: dict[tuple[Path, int], Books] = {}


def books(options: Options, events: int) -> Books:
    """The books of the history of about ``events`` events, made once per run and workdir."""
    key = (options.workdir.resolve(), events)
    if key not in _books:
        _books[key] = _make_books(options, events)
    return _books[key]


def _make_books(options: Options, events: int) -> Books:
    from projections import journal
    from projections.db import ReadDatabase
    from projections.replay import rebuild

    name = f"books-{events}"
    store = history_copy(options, events, name).resolve()
    read, journal_file = store.with_name(f"{name}-read.db"), store.with_name(f"{name}.journal")
    read.unlink(missing_ok=True)
    app = open_ledger(f"sqlite:///{store}")
    db = ReadDatabase(f"sqlite:///{read}")
    try:
        set_reporting_periods(app)
        started = time.perf_counter()
        options.say(f"rebuilding the read models of {store.name} (shared by the recompute and the statements)")
        applied = rebuild(app, db)
        options.say(f"  {applied:,} events in {time.perf_counter() - started:.0f} s; exporting the journal")
        with db.reading() as conn:
            journal_file.write_text(journal.hledger(conn), encoding="utf-8")
    finally:
        db.close()
        app.close()
    with journal_file.open(encoding="utf-8") as text:
        transactions = sum(1 for row in text if row[:1].isdigit())
    return Books(store, read, journal_file, applied, transactions)
