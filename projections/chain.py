"""A hash chain over the event store: proof that the stored history was not altered.

Each stored event, in notification order, is sealed with
``seal(n) = SHA-256(seal(n-1) || position || originator id || version || topic || state)``,
the state being the exact bytes the store holds (encrypted bytes, when encryption is on).
The projector writes the seals in the same transaction as the read models, so every event
is sealed exactly once. The head seal summarises the whole history: an auditor writes it
down with its position and compares it later.

``verify`` recomputes the chain from the raw stored events and names the first position
where store and seals disagree: a changed byte, a deleted, inserted or reordered row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from eventsourcing.persistence import Notification
from sqlalchemy import Connection, select

from ledger.application import GrantLedger
from projections import tables as t
from projections.batch import insert_rows
from projections.db import ReadDatabase

#: The seal before the first event.
GENESIS = "0" * 64
_SEPARATOR = b"\x1f"


def seal(previous: str, notification: Notification) -> str:
    """The seal of one stored event, chained to the seal before it."""
    digest = hashlib.sha256(previous.encode())
    for part in (
        str(notification.id),
        str(notification.originator_id),
        str(notification.originator_version),
        notification.topic,
    ):
        digest.update(part.encode())
        digest.update(_SEPARATOR)
    digest.update(notification.state)
    return digest.hexdigest()


def head(conn: Connection) -> tuple[int, str]:
    """The last sealed position and its seal ((0, GENESIS) before any event)."""
    row = conn.execute(select(t.chain).order_by(t.chain.c.position.desc()).limit(1)).one_or_none()
    return (0, GENESIS) if row is None else (int(row.position), row.seal)


def seal_batch(conn: Connection, notifications: Sequence[Notification]) -> None:
    """Seal a batch of notifications after the current head (inside the projector's transaction)."""
    _, previous = head(conn)
    rows = []
    for notification in notifications:
        previous = seal(previous, notification)
        rows.append({"position": notification.id, "seal": previous})
    if rows:
        insert_rows(conn, t.chain, rows)


@dataclass(frozen=True)
class Verdict:
    """What verification found."""

    intact: bool
    checked: int
    head_position: int
    head_seal: str
    first_bad_position: int | None = None
    problem: str = ""
    unsealed: int = 0

    def __str__(self) -> str:
        if not self.intact:
            return f"TAMPERED at position {self.first_bad_position}: {self.problem}"
        tail = f"; {self.unsealed} newer events not sealed yet (the projector seals them)" if self.unsealed else ""
        return (
            f"intact: {self.checked} events match their seals; head seal {self.head_seal} "
            f"at position {self.head_position}{tail}"
        )


def _stored(app: GrantLedger, batch: int) -> Iterator[Notification]:
    position = 0
    while notifications := app.recorder.select_notifications(position, batch, inclusive_of_start=False):
        yield from notifications
        position = notifications[-1].id


def _seals(db: ReadDatabase) -> Iterator[tuple[int, str]]:
    with (
        db.engine.connect() as conn,
        conn.execution_options(yield_per=5000).execute(select(t.chain).order_by(t.chain.c.position)) as result,
    ):
        for row in result:
            yield int(row.position), row.seal


def verify(app: GrantLedger, db: ReadDatabase, *, batch: int = 2000) -> Verdict:
    """Recompute the chain from the raw stored events; stop at the first disagreement."""
    stored, sealed = _stored(app, batch), _seals(db)
    event, kept = next(stored, None), next(sealed, None)
    previous, checked, position = GENESIS, 0, 0

    def bad(at: int, problem: str) -> Verdict:
        return Verdict(False, checked, position, previous, at, problem)

    while kept is not None:
        if event is None or event.id > kept[0]:
            return bad(kept[0], f"the event sealed at position {kept[0]} is missing from the store (deleted)")
        if event.id < kept[0]:
            return bad(event.id, f"the store holds an event at position {event.id} that was never sealed (inserted)")
        if seal(previous, event) != kept[1]:
            return bad(
                event.id,
                f"the event at position {event.id} ({event.topic.rsplit(':', 1)[-1]} of {event.originator_id} "
                f"v{event.originator_version}) is not the event that was sealed there (changed or moved)",
            )
        previous, position, checked = kept[1], kept[0], checked + 1
        event, kept = next(stored, None), next(sealed, None)
    unsealed = 0
    while event is not None:
        unsealed += 1
        event = next(stored, None)
    return Verdict(True, checked, position, previous, unsealed=unsealed)
