"""The projector: reads the event log in order and applies each event to the read models once.

Each batch is one transaction on the read database: take the write lock, read the tracking
position, fetch the next notifications after it (ids may have gaps: we ask for ids after the
position, never position + 1), apply them, write the new position, commit. A crash before the
commit loses the whole batch and the next run applies it again; after the commit it is never
applied again. Several projectors (threads or processes) may run: the lock lets one at a time
take a batch. Each batch first checks the hash chain against the read models: seals removed
below the chain's high-water mark, or read models ahead of the chain, stop the projector
(``ChainBroken``) rather than let it seal a doctored history.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from uuid import UUID

from sqlalchemy import select, update

from ledger.application import GrantLedger
from projections import tables as t
from projections.batch import Batch
from projections.chain import ChainBroken, marks, seal_backlog, seal_batch
from projections.db import ReadDatabase
from projections.handlers import HANDLERS

#: Events fetched and applied per transaction.
BATCH_SIZE = 500
#: Seconds between looks at the event log when following it and nothing is new.
POLL_INTERVAL = 0.2

Progress = Callable[[int, int], None]


class ProjectionLagging(TimeoutError):
    """The read models did not reach a position in time."""


class Projector:
    """Feeds one ReadDatabase from one GrantLedger's event log."""

    def __init__(self, app: GrantLedger, db: ReadDatabase, *, batch_size: int = BATCH_SIZE) -> None:
        self.app = app
        self.db = db
        self.batch_size = batch_size
        self._line_keys: dict[UUID, tuple[str, str]] | None = None

    def _known_lines(self) -> dict[UUID, tuple[str, str]]:
        if self._line_keys is None:
            c = t.budget_lines.c
            with self.db.reading() as conn:
                rows = conn.execute(select(c.line_id, c.partner, c.category)).all()
            self._line_keys = {UUID(row.line_id): (row.partner, row.category) for row in rows}
        return self._line_keys

    def run_batch(self, stop: int | None = None) -> int:
        """Apply the next batch of events (up to position ``stop``); return how many."""
        line_keys = dict(self._known_lines())
        with self.db.writing() as conn:
            tracked = select(t.tracking.c.position).where(t.tracking.c.name == "read_models").with_for_update()
            position = int(conn.execute(tracked).scalar_one())
            chain = marks(conn)
            if (broken := chain.broken()) is not None:
                raise ChainBroken(*broken)
            if chain.before_the_chain and position > 0:  # read models older than the chain: seal them once
                return seal_backlog(conn, self.app, position, self.batch_size)
            if stop is not None and position >= stop:
                return 0
            notifications = self.app.recorder.select_notifications(
                start=position, limit=self.batch_size, stop=stop, inclusive_of_start=False
            )
            if not notifications:
                return 0
            batch = Batch(conn, line_keys, HANDLERS)
            for notification in notifications:
                batch.apply(notification.id, self.app.mapper.to_domain_event(notification))
            batch.flush()
            seal_batch(conn, notifications, chain.head_seal)
            conn.execute(
                update(t.tracking).where(t.tracking.c.name == "read_models").values(position=notifications[-1].id)
            )
        self._line_keys = line_keys  # only once committed
        return len(notifications)

    def catch_up(self, stop: int | None = None, progress: Progress | None = None) -> int:
        """Apply every event recorded so far (or up to ``stop``); return how many were applied."""
        applied = 0
        while count := self.run_batch(stop):
            applied += count
            if progress is not None:
                progress(applied, self.db.position())
        return applied

    def wait_for(self, position: int | None, timeout: float = 10.0) -> None:
        """Return once the read models include ``position`` (helping the projector get there):
        a caller that just wrote reads its own writes."""
        if position is None:
            return
        deadline = time.monotonic() + timeout
        while self.db.position() < position:
            if not self.run_batch(stop=position):
                if time.monotonic() > deadline:
                    raise ProjectionLagging(
                        f"the read models are at event {self.db.position()}, not yet at {position}; "
                        "try the read again in a moment"
                    )
                time.sleep(0.01)

    def follow(self, stopping: threading.Event, poll_interval: float = POLL_INTERVAL) -> None:
        """Keep the read models current until ``stopping`` is set (SQLite has no notifications:
        we poll; so do we on PostgreSQL, which keeps one code path)."""
        while not stopping.is_set():
            if not self.run_batch():
                stopping.wait(poll_interval)
