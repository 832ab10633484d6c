"""Section 2: projection rebuild against the raw rate of reading and decoding the same log.

Each measurement runs in a fresh process (``python -m bench.rebuild MODE STORE READ_DB``), so
its peak RSS is its own: "raw" selects every notification and decodes it into a domain event
with the library's mapper, doing nothing else; "ours" rebuilds every read model, the audit
trail and the hash chain into an empty SQLite read database from the same store.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.histories import history_copy
from bench.options import Options
from bench.report import Figure
from ledger.application import GrantLedger
from ledger.storage import open_ledger
from projections.db import ReadDatabase
from projections.replay import rebuild

#: Notifications per select, the same for both sides (the rebuild batch size).
SELECT_BATCH = 2000


def _raw(app: GrantLedger) -> int:
    position, count = 0, 0
    while notifications := app.recorder.select_notifications(position, SELECT_BATCH, inclusive_of_start=False):
        for notification in notifications:
            app.mapper.to_domain_event(notification)
        count += len(notifications)
        position = notifications[-1].id
    return count


def measure(mode: str, store: Path, read_db: Path) -> dict[str, float]:
    """Run one side in a fresh process; its events, seconds and peak RSS."""
    output = subprocess.run(  # noqa: S603 - our own module, with paths we made
        [sys.executable, "-m", "bench.rebuild", mode, str(store), str(read_db)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def run(options: Options) -> list[Figure]:
    figures = []
    for events in options.rebuild_events:
        store = history_copy(options, events, f"rebuild-{events}")
        raw = measure("raw", store, Path())
        ours = measure("ours", store, options.workdir / f"rebuild-{events}-read.db")
        if ours["events"] != raw["events"]:
            raise RuntimeError(f"the rebuild applied {ours['events']} events, the log holds {raw['events']}")
        size = f"{int(raw['events']):,} events"
        figures.append(
            Figure(
                "2 rebuild",
                f"rebuild, {size}",
                "events/s",
                ours["events"] / ours["seconds"],
                raw["events"] / raw["seconds"],
                "raw read+decode",
                bar=0.5,
            )
        )
        figures.append(
            Figure(
                "2 rebuild",
                f"peak RSS, {size}",
                "MiB",
                ours["rss_mib"],
                raw["rss_mib"],
                "raw read+decode",
                higher_is_better=False,
                limit=500.0,
            )
        )
    return figures


def peak_rss_mib() -> float:
    """This process's own peak resident memory. Not getrusage's ru_maxrss: Linux carries
    that across fork and exec, so a worker started by a parent holding a big generated
    history would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: the best we have


def main(argv: list[str]) -> None:
    """Open the store (and the empty read database) first, then time only the reading."""
    mode, store, read_db = argv[0], Path(argv[1]), Path(argv[2])
    app = open_ledger(f"sqlite:///{store}")
    if mode == "raw":
        started = time.perf_counter()
        count = _raw(app)
    else:
        target = ReadDatabase(f"sqlite:///{read_db}")
        started = time.perf_counter()
        count = rebuild(app, target)
    seconds = time.perf_counter() - started
    rss_mib = peak_rss_mib()
    print(json.dumps({"events": count, "seconds": seconds, "rss_mib": rss_mib}))


if __name__ == "__main__":
    main(sys.argv[1:])
