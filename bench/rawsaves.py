"""The raw library's baseline for the scale-out figure: threads saving new aggregates through a
bare eventsourcing ``Application`` on PostgreSQL, in a process of its own, for a fixed time.

Each save holds three new aggregates of one event each, as a new claim does (the claim and its
two receipts' indexes), with a payload of about a claim's size. The library's PostgreSQL
recorder takes its lock on the events table for each insert, so that notification ids commit in
order: run in 1 process and in 4 (with the same threads in all), it shows how far the event
store itself lets writes from several processes go on this machine.

``python -m bench.rawsaves URL THREADS DURATION START`` waits until START (seconds since the epoch,
so that several processes save in the same window) and prints ``{"saves": N, "seconds": S}``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence

import psycopg

from bench.commands import RawLedger, Record
from bench.server import REPO, clean_env
from ledger.storage import library_env

#: Aggregates per save, as in a new claim with two receipts.
PER_SAVE = 3
PAYLOAD = {
    "sme_id": str(uuid.UUID(int=1)),
    "lines": [{"cost_type": "TRAVEL", "amount": "20000", "currency": "JPY", "receipt_ref": "RAW-0000000-T"}] * 2,
    "on": "2023-03-28",
}


def save_for(url: str, threads: int, duration: float, start: float = 0.0) -> dict[str, float]:
    """Save from ``threads`` threads for ``duration`` seconds from ``start`` (epoch seconds);
    how many saves and how long."""
    app = RawLedger(env=library_env(url) | {"CREATE_TABLE": "false"})  # made once, by ``rates``
    counts = [0] * threads
    time.sleep(max(0.0, start - time.time()))
    started = time.perf_counter()
    until = started + duration

    def work(n: int) -> None:
        while time.perf_counter() < until:
            records = [Record._create(Record.Created, id=uuid.uuid4(), fields=PAYLOAD) for _ in range(PER_SAVE)]
            app.save(*records)
            counts[n] += 1

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - started
    app.close()
    return {"saves": sum(counts), "seconds": seconds}


#: Seconds the processes of one measurement are given to start before they save together.
START_DELAY = 3.0


def rates(database_url: str, order: Sequence[int], threads: int, duration: float) -> dict[int, float]:
    """Saves per second of ``threads`` threads in all, spread over 1 process or several, each
    count of processes in ``order`` measured once (repeated counts: the mean), on a schema of
    its own in ``database_url``."""
    schema = "raw_saves"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    url = f"{database_url}?schema={schema}"
    RawLedger(env=library_env(url)).close()  # the tables, before several processes race to make them
    measured: dict[int, list[float]] = {}
    for processes in order:
        start = str(time.time() + START_DELAY)
        command = [sys.executable, "-m", "bench.rawsaves", url, str(threads // processes), str(duration), start]
        running = [
            subprocess.Popen(command, cwd=REPO, env=clean_env(), stdout=subprocess.PIPE, text=True)  # noqa: S603
            for _ in range(processes)
        ]
        outputs = [process.communicate(timeout=START_DELAY + duration + 120)[0] for process in running]
        if any(process.returncode for process in running):
            raise RuntimeError(f"bench.rawsaves failed: exit {[process.returncode for process in running]}")
        results = [json.loads(output) for output in outputs]
        window = max(result["seconds"] for result in results)
        measured.setdefault(processes, []).append(sum(result["saves"] for result in results) / window)
    return {processes: sum(values) / len(values) for processes, values in measured.items()}


def main(argv: list[str]) -> int:
    match argv:
        case [url, threads, duration, start]:
            print(json.dumps(save_for(url, int(threads), float(duration), float(start))))
            return 0
        case _:
            print(__doc__, file=sys.stderr)
            return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
