"""Event stores holding a generated history of a given size, built once and kept.

Generating a history goes through the real application (about 3k events/s in memory), so a
million events take minutes: each size is built once into ``.bench-cache/`` (or
GRANTLEDGER_BENCH_CACHE) and copied from there. A cached file is named by its claim count
and seed, and only used when its marker says it was completed.
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

from bench.options import Options
from bench.workload import VERSION as WORKLOAD_VERSION
from bench.workload import Workload, copy_history
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
