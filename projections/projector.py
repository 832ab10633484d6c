"""The projector: reads the event log in order and applies each event to the read models once.

Each batch is one transaction on the read database: take the write lock, read the tracking
position, fetch the next notifications after it (ids may have gaps: we ask for ids after the
position, never position + 1), apply them, write the new position, commit. A crash before the
commit loses the whole batch and the next run applies it again; after the commit it is never
applied again. Several projectors (threads or processes) may run: the lock lets one at a time
take a batch. Each batch first checks the hash chain against the read models: seals removed
below the chain's high-water mark, or read models ahead of the chain, stop the projector
(``ChainBroken``) rather than let it seal a doctored history.

When a batch fails (a handler, the flush, the seal or the commit raises), the projector
applies the events of that batch one by one, so that the read models reach the event just
before the one that fails, and records what failed (``Projector.failure``): the position, the
event and the error in one line. The service reads it to say it is degraded and to refuse
writes it could not show; it is cleared once a batch gets past that position.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.persistence import Notification
from sqlalchemy import Connection, bindparam, select, update

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
#: Longest pause, in seconds, between retries of a batch that keeps failing while following.
MAX_BACKOFF = 30.0
#: The read models' position, locked for the batch; and moving it (built once: every batch runs them).
_TRACKED = select(t.tracking.c.position).where(t.tracking.c.name == "read_models").with_for_update()
_MOVE_TRACKED = update(t.tracking).where(t.tracking.c.name == "read_models").values(position=bindparam("moved_to"))

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


class ProjectionLagging(TimeoutError):
    """The read models did not reach a position in time."""


@dataclass(frozen=True)
class ProjectionFailure:
    """The event the read models could not apply, and why (the error's first line)."""

    #: Position of the event in the log (None if the failure came before any event was read).
    position: int | None
    #: The event's class, e.g. ``Sme.Registered``, and its full topic.
    event_type: str | None
    topic: str | None
    aggregate_id: str | None
    version: int | None
    #: ``ExceptionType: first line of its message``.
    error: str
    failed_at: datetime

    @classmethod
    def of(cls, notification: Notification | None, error: BaseException) -> ProjectionFailure:
        lines = str(error).strip().splitlines()
        message = f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")
        if notification is None:
            return cls(None, None, None, None, None, message[:500], datetime.now(UTC))
        return cls(
            position=notification.id,
            event_type=notification.topic.rpartition(":")[2],
            topic=notification.topic,
            aggregate_id=str(notification.originator_id),
            version=notification.originator_version,
            error=message[:500],
            failed_at=datetime.now(UTC),
        )

    @property
    def event(self) -> str:
        """``event 42 (Sme.Registered of <id>, version 1)``."""
        if self.position is None:
            return "the next batch of events"
        return f"event {self.position} ({self.event_type} of {self.aggregate_id}, version {self.version})"

    def describe(self) -> str:
        return f"the read models cannot apply {self.event}: {self.error}"

    def as_dict(self) -> dict[str, object]:
        return {
            "position": self.position,
            "event_type": self.event_type,
            "topic": self.topic,
            "aggregate_id": self.aggregate_id,
            "version": self.version,
            "error": self.error,
            "failed_at": self.failed_at.isoformat(),
        }


class ProjectionFailed(RuntimeError):
    """The read models stopped at an event they cannot apply (see ``failure``)."""

    def __init__(self, failure: ProjectionFailure) -> None:
        super().__init__(failure.describe())
        self.failure = failure


class Projector:
    """Feeds one ReadDatabase from one GrantLedger's event log."""

    def __init__(self, app: GrantLedger, db: ReadDatabase, *, batch_size: int = BATCH_SIZE) -> None:
        self.app = app
        self.db = db
        self.batch_size = batch_size
        self._line_keys: dict[UUID, tuple[str, str]] | None = None
        #: What stopped the read models, until a batch gets past it (None when all is well).
        self.failure: ProjectionFailure | None = None
        #: The notification being applied or written, for the failure record.
        self._current: Notification | None = None
        #: The read models' position as this projector last saw it commit (or read it), and a
        #: condition notified each time it moves: writers waiting for their position sleep on
        #: it while the follower (``follow``) applies everyone's events in batches.
        self._reached = 0
        self._advanced = threading.Condition()
        #: Set by a waiting writer to wake the follower at once (it otherwise polls).
        self._wake = threading.Event()
        self._following = 0
        #: When this projector last ran a batch (monotonic seconds; 0: never).
        self._batched_at = 0.0

    def _known_lines(self) -> dict[UUID, tuple[str, str]]:
        if self._line_keys is None:
            c = t.budget_lines.c
            with self.db.reading() as conn:
                rows = conn.execute(select(c.line_id, c.partner, c.category)).all()
            self._line_keys = {UUID(row.line_id): (row.partner, row.category) for row in rows}
        return self._line_keys

    def run_batch(self, stop: int | None = None) -> int:
        """Apply the next batch of events (up to position ``stop``); return how many.

        If the batch fails, apply its events one at a time up to the one that fails, record
        the failure (``self.failure``) and re-raise that event's error."""
        self._batched_at = time.monotonic()
        try:
            applied, position = self._run_batch(stop, self.batch_size)
        except Exception as error:
            if self._current is None or self.batch_size == 1:
                self._failed(error)
                raise
            applied, position = self._one_by_one(stop)
        self._advance(position)
        if self.failure is not None and (self.failure.position is None or position >= self.failure.position):
            log.warning("the read models got past %s and are current again", self.failure.event)
            self.failure = None
        return applied

    def _behind(self) -> bool:
        """Whether the log may hold events past the read models (one read of the event store, not
        a write transaction on the read models: the follower looks often, mostly finding nothing).
        A failed batch is always tried again; so is a look the event store did not answer, so that
        the batch records and logs what is wrong (and the waiting writers stop relying on us)."""
        if self.failure is not None:
            return True
        try:
            return (self.app.recorder.max_notification_id() or 0) > self._reached
        except Exception:  # any failure of the store: the batch finds it out and records it
            return True

    def _idle(self, stopping: threading.Event, poll_interval: float) -> None:
        """Wait for the next look at the log: woken at once by a writer waiting for its events,
        and within a tenth of a second of ``stopping``."""
        deadline = time.monotonic() + poll_interval
        while not stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or self._wake.wait(min(0.1, left)):
                break
        self._wake.clear()

    def _advance(self, position: int) -> None:
        """Tell the waiting writers where the read models are now."""
        with self._advanced:
            if position > self._reached:
                self._reached = position
            self._advanced.notify_all()

    def _one_by_one(self, stop: int | None) -> tuple[int, int]:
        """Apply a failed batch's events in transactions of one event: all but the failing
        one are applied; its error is recorded and raised."""
        applied, position = 0, 0
        for _ in range(self.batch_size):
            try:
                count, position = self._run_batch(stop, 1)
            except Exception as error:
                self._failed(error)
                raise
            if not count:
                break
            applied += count
        return applied, position

    def _failed(self, error: BaseException) -> None:
        self.failure = ProjectionFailure.of(self._current, error)
        log.error("projection stopped: %s", self.failure.describe())

    def _run_batch(self, stop: int | None, limit: int) -> tuple[int, int]:
        """One transaction of at most ``limit`` events: how many it applied and the read
        models' position after it."""
        self._current = None
        line_keys = dict(self._known_lines())
        with self.db.writing() as conn:
            position = int(conn.execute(_TRACKED).scalar_one())
            chain = marks(conn)
            if (broken := chain.broken()) is not None:
                raise ChainBroken(*broken)
            if chain.before_the_chain and position > 0:  # read models older than the chain: seal them once
                return seal_backlog(conn, self.app, position, self.batch_size), position
            if stop is not None and position >= stop:
                return 0, position
            notifications = self.app.recorder.select_notifications(
                start=position, limit=limit, stop=stop, inclusive_of_start=False
            )
            if not notifications:
                return 0, position
            self._apply(conn, line_keys, notifications)
            self._current = notifications[0]  # flushing, sealing, committing: the batch as a whole
            seal_batch(conn, notifications, chain.head_seal)
            conn.execute(_MOVE_TRACKED, {"moved_to": notifications[-1].id})
        self._line_keys = line_keys  # only once committed
        self._current = None
        return len(notifications), notifications[-1].id

    def _apply(
        self, conn: Connection, line_keys: dict[UUID, tuple[str, str]], notifications: Sequence[Notification]
    ) -> None:
        batch = Batch(conn, line_keys, HANDLERS)
        for notification in notifications:
            self._current = notification
            batch.apply(notification.id, self.app.mapper.to_domain_event(notification))
        self._current = notifications[0]
        batch.flush()

    def catch_up(self, stop: int | None = None, progress: Progress | None = None) -> int:
        """Apply every event recorded so far (or up to ``stop``); return how many were applied."""
        applied = 0
        while count := self.run_batch(stop):
            applied += count
            if progress is not None:
                progress(applied, self.db.position())
        return applied

    def wait_for(self, position: int | None, timeout: float = 10.0) -> None:
        """Return once the read models include ``position``: a caller that just wrote reads its
        own writes. While this projector follows the log (``follow``, as the service does), the
        caller wakes the follower and sleeps until it has applied the position, so that one
        thread applies everyone's events in batches; otherwise (the command line, or after a
        failure, to try the failing event again and report it) the caller applies them itself."""
        if position is None or self._reached >= position:
            return
        deadline = time.monotonic() + timeout
        while True:
            if self._following and self.failure is None:
                # No query of our own: the follower's next batch reads the position, even when
                # another process's projector applied the events (it then applies none).
                self._wake.set()
                with self._advanced:
                    self._advanced.wait_for(lambda: self._reached >= position, timeout=0.05)
                if self._reached >= position:
                    return
            elif self.db.position() >= position:
                return
            else:
                try:
                    applied = self.run_batch()
                except Exception as error:
                    if self.failure is None:
                        raise
                    raise ProjectionFailed(self.failure) from error
                if applied:
                    continue
                time.sleep(0.01)
            if time.monotonic() > deadline:
                raise ProjectionLagging(
                    f"the read models are at event {self.db.position()}, not yet at {position}; "
                    "try the read again in a moment"
                )

    def follow(self, stopping: threading.Event, poll_interval: float = POLL_INTERVAL) -> None:
        """Keep the read models current until ``stopping`` is set (SQLite has no notifications:
        we poll; so do we on PostgreSQL, which keeps one code path).

        A batch that fails does not end the follower: the failure stays recorded (the service
        reports it) and the batch is tried again after a pause that doubles up to MAX_BACKOFF,
        so that a release that can apply the event, or a database back online, resumes it."""
        backoff = poll_interval
        self._following += 1
        try:
            while not stopping.is_set():
                try:
                    # At least one batch per poll interval, behind or not: a batch checks the
                    # hash chain, so doctored read models are noticed on a quiet service too.
                    due = time.monotonic() - self._batched_at >= poll_interval
                    applied = self.run_batch() if due or self._behind() else 0
                except Exception:  # recorded in self.failure and logged by run_batch
                    stopping.wait(backoff)
                    backoff = min(max(backoff, 0.05) * 2, MAX_BACKOFF)
                    continue
                backoff = poll_interval
                if applied < self.batch_size:  # the log's end (as it was): no empty batch, wait for a writer
                    self._idle(stopping, poll_interval)
        finally:
            self._following -= 1
