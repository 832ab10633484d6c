"""A projector in a process of its own, for the tests that kill it or race it against others.

Run as ``python -m tests.projections._projector_worker EVENT_URL READ_URL [options]`` from
the repository root. It opens the ledger and the read database, catches the read models up
in small batches, and exits. To make a kill land inside a batch it can sleep after applying
each event (``--delay``): the sleep is added by wrapping ``Batch.apply`` in this process
only, never in the code under test.

It reports on stdout, one line each, flushed at once, so that a test can follow it:
    apply <position> <index in batch>   an event was applied, not yet committed
    commit <position> <events>          a batch was committed, up to and including position
    done <events>                       caught up: nothing is left to apply
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from ledger.storage import open_ledger
from projections.batch import Batch
from projections.db import ReadDatabase
from projections.projector import Projector


def say(line: str) -> None:
    print(line, flush=True)


class SlowBatches:
    """Wraps Batch.apply: reports each event applied, remembers the last, then sleeps."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.last_position = 0
        self.in_batch = 0
        self._original = Batch.apply

    def install(self) -> None:
        def apply(batch: Batch, position: int, event: DomainEventProtocol[UUID]) -> None:
            self._original(batch, position, event)
            self.in_batch += 1
            self.last_position = position
            say(f"apply {position} {self.in_batch}")
            if self.delay:
                time.sleep(self.delay)

        setattr(Batch, "apply", apply)  # noqa: B010 - mypy refuses assigning to a method


def run(event_url: str, read_url: str, *, batch_size: int, delay: float, pause: float) -> int:
    slow = SlowBatches(delay)
    slow.install()
    app = open_ledger(event_url)
    db = ReadDatabase(read_url)
    try:
        projector = Projector(app, db, batch_size=batch_size)
        total = 0
        while True:
            slow.in_batch = 0
            count = projector.run_batch()
            if not count:
                break
            total += count
            # run_batch returns only after its transaction committed
            say(f"commit {slow.last_position} {count}")
            if pause:
                time.sleep(pause)
        say(f"done {total}")
        return 0
    finally:
        db.close()
        app.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Catch the read models up, slowly if asked.")
    parser.add_argument("event_url")
    parser.add_argument("read_url")
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to sleep after applying each event")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds to sleep after each committed batch")
    args = parser.parse_args(argv)
    return run(args.event_url, args.read_url, batch_size=args.batch_size, delay=args.delay, pause=args.pause)


if __name__ == "__main__":
    sys.exit(main())
