"""When each API token was last used, written down off the request's path (api/security.py
notes a use each time a token authenticates)."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import Table, bindparam, or_, update
from sqlalchemy.exc import SQLAlchemyError

from projections.db import ReadDatabase

log = logging.getLogger("grantledger.api")

#: How often, at most, a token's last use is written down (per token and process).
LAST_USE_EVERY = timedelta(minutes=1)


class LastUse:
    """When each token was last used, written down off the request's path.

    Checking a token only notes its use in memory (``saw``), at most once per token every
    LAST_USE_EVERY: a read's transaction stays a read, and no request waits for a write lock
    (the projector may hold it for a batch). One worker thread writes the noted uses, in a
    transaction of its own, and only where the stored time is older than the interval (so
    several processes add little). A use that cannot be written is logged and dropped: it is a
    convenience for administrators, never a reason to refuse a request."""

    def __init__(self, db: ReadDatabase, table: Table, every: timedelta = LAST_USE_EVERY) -> None:
        self.db = db
        self.every = every
        self._record = (
            update(table)
            .where(
                table.c.id == bindparam("token_id"),
                or_(table.c.last_used_at.is_(None), table.c.last_used_at <= bindparam("before")),
            )
            .values(last_used_at=bindparam("used"))
        )
        self._lock = threading.Lock()
        self._noted: dict[int, datetime] = {}
        self._pending: dict[int, datetime] = {}
        self._writing = False
        self._writer: ThreadPoolExecutor | None = None

    def saw(self, token_id: int, stored: datetime | None, now: datetime) -> None:
        """Note a use of a token (``stored``: its last use as the database has it)."""
        with self._lock:
            noted = self._noted.get(token_id, stored)
            if noted is not None and now - noted < self.every:
                return
            self._noted[token_id] = now
            self._pending[token_id] = now
            if not self._writing:
                self._writing = True
                if self._writer is None:
                    self._writer = ThreadPoolExecutor(1, thread_name_prefix="grantledger-last-use")
                self._writer.submit(self._write)

    def _write(self) -> None:
        while True:
            with self._lock:
                batch, self._pending = self._pending, {}
                if not batch:
                    self._writing = False
                    return
            try:
                with self.db.writing() as conn:
                    conn.execute(
                        self._record,
                        [{"token_id": i, "used": at, "before": at - self.every} for i, at in batch.items()],
                    )
            except SQLAlchemyError:
                log.warning("could not record when %d tokens were last used", len(batch), exc_info=True)

    def flush(self) -> None:
        """Wait until every noted use is written (tests; the service's shutdown)."""
        writer = self._writer
        if writer is not None:
            writer.submit(lambda: None).result()

    def close(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.shutdown(wait=True)
