"""A hash chain over the event store: proof that the stored history was not altered.

Each stored event, in notification order, is sealed with
``seal(n) = SHA-256(seal(n-1) || position || originator id || version || topic || state)``,
the state being the exact bytes the store holds (encrypted bytes, when encryption is on).
The projector writes the seals in the same transaction as the read models, and moves the
chain's high-water mark with them, so every event is sealed exactly once: seals removed
later (or read models ahead of the chain) are tampering, and the projector refuses to seal
those positions again (``ChainBroken``). The only backlog it seals is the one-time migration
of read models made before the chain existed (no seal, no high-water mark ever written).

``verify`` recomputes the chain from the raw stored events and names the first position
where store and seals disagree: a changed byte, a deleted, inserted or reordered row, a
removed seal. Someone who can write both databases can still empty the read database and
let the projector seal a doctored history from scratch; the head seal summarises the whole
history, and an auditor who wrote it down elsewhere (``verify --expect-head POSITION:SEAL``)
sees that the history differs from it.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import Notification
from sqlalchemy import Connection, Insert, Select, Update, bindparam, func, insert, select, update

from ledger.application import GrantLedger
from projections import tables as t
from projections.batch import insert_rows
from projections.db import ReadDatabase
from projections.verdict import Anchor, Verdict

__all__ = [
    "GENESIS",
    "HIGH_WATER",
    "READ_MODELS",
    "Anchor",
    "ChainBroken",
    "Marks",
    "Stamp",
    "Verdict",
    "head",
    "marks",
    "seal",
    "seal_at",
    "seal_backlog",
    "seal_batch",
    "stamp",
    "verify",
]

#: The seal before the first event.
GENESIS = "0" * 64
_SEPARATOR = b"\x1f"
#: The rm_tracking row of the chain's high-water mark: the highest position ever sealed. It moves
#: in the same transaction as the seals, so seals removed afterwards are missed, not re-sealed.
HIGH_WATER = "chain"
#: The rm_tracking row of the read models' position.
READ_MODELS = "read_models"


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


def seal_at(conn: Connection, position: int) -> str:
    """The chain's seal at ``position`` (GENESIS at 0); LookupError if that position is not sealed."""
    if position == 0:
        return GENESIS
    found = conn.execute(select(t.chain.c.seal).where(t.chain.c.position == position)).scalar_one_or_none()
    if found is None:
        raise LookupError(f"the chain holds no seal at position {position}: no event was sealed there")
    return str(found)


@dataclass(frozen=True)
class Stamp:
    """Where in the history an export was made: the chain's head, read in the export's own
    transaction, so that an auditor can later check that history (verify --expect-head)."""

    position: int
    head_seal: str
    exported_at: datetime

    @property
    def head(self) -> str:
        """POSITION:SEAL, as verify prints it and --expect-head takes it."""
        return f"{self.position}:{self.head_seal}"

    def lines(self) -> list[str]:
        return [
            f"GrantLedger export at event position {self.position}, head seal {self.head_seal}",
            f"exported at {self.exported_at.isoformat(timespec='seconds')}",
            f"check it later: grantledger verify --expect-head {self.head}",
        ]


def stamp(conn: Connection) -> Stamp:
    """The head of the chain, now, in ``conn``'s transaction (read it with the exported data)."""
    position, head_seal = head(conn)
    return Stamp(position, head_seal, datetime.now(UTC))


def seal_batch(conn: Connection, notifications: Sequence[Notification], previous: str | None = None) -> str:
    """Seal a batch of notifications after the current head (inside the projector's transaction)
    and move the high-water mark with them; return the last seal."""
    if previous is None:
        _, previous = head(conn)
    rows = []
    for notification in notifications:
        previous = seal(previous, notification)
        rows.append({"position": notification.id, "seal": previous})
    if rows:
        insert_rows(conn, t.chain, rows)
        _raise_high_water(conn, int(notifications[-1].id))
    return previous


@functools.cache
def _high_water_statements() -> tuple[Update, Insert]:
    mark = t.tracking.c.name == HIGH_WATER
    return (
        update(t.tracking).where(mark).values(position=bindparam("mark")),
        insert(t.tracking).values(name=HIGH_WATER, position=bindparam("mark")),
    )


def _raise_high_water(conn: Connection, position: int) -> None:
    raise_it, start_it = _high_water_statements()
    if not conn.execute(raise_it, {"mark": position}).rowcount:
        conn.execute(start_it, {"mark": position})


def seal_backlog(conn: Connection, app: GrantLedger, upto: int, batch: int) -> int:
    """Seal, in this one transaction, every event up to ``upto`` that read models made before the
    chain existed already hold (their one-time migration); return how many."""
    count, position, previous = 0, 0, GENESIS
    while backlog := app.recorder.select_notifications(position, batch, stop=upto, inclusive_of_start=False):
        previous = seal_batch(conn, backlog, previous)
        count, position = count + len(backlog), backlog[-1].id
    return count


@dataclass(frozen=True)
class Marks:
    """How far the read database says the chain reaches, read in one statement (one snapshot)."""

    head: int
    head_seal: str
    high_water: int | None
    read_models: int
    audited: int

    @property
    def before_the_chain(self) -> bool:
        """Read models made before the chain existed: no seal and no high-water mark ever written."""
        return self.head == 0 and self.high_water is None

    @property
    def reached(self) -> int:
        """The position every seal must reach: the highest the chain or the read models ever reached
        (0 for read models made before the chain, whose backlog the projector seals once)."""
        return 0 if self.before_the_chain else max(self.high_water or 0, self.read_models, self.audited)

    def missing(self, after: int) -> str:
        """Why seals after ``after`` up to ``reached`` are missing."""
        whose = "the chain's high-water mark" if self.reached == self.high_water else "the read models"
        return (
            f"the seals after position {after} up to position {self.reached} are missing, though {whose} "
            "reached that far: they were removed from the read database (a position sealed once is never "
            "sealed again)"
        )

    def broken(self) -> tuple[int, int, str] | None:
        """(first, last, what is wrong) when seals were removed or the read models were moved
        against the chain; None when they agree (or the read models predate the chain)."""
        if self.reached > self.head:
            return self.head + 1, self.reached, self.missing(self.head)
        if not self.before_the_chain and self.head > self.read_models:
            return (
                self.read_models + 1,
                self.head,
                f"the read models stop at position {self.read_models} but the chain sealed up to position "
                f"{self.head}: the read models were moved back behind the chain",
            )
        return None


@functools.cache
def _marks_query() -> Select[Any]:
    """The statement ``marks`` runs, built once (building it anew cost more than running it)."""
    c, tracked = t.chain.c, t.tracking.c
    last = select(c.position, c.seal).order_by(c.position.desc()).limit(1).subquery()
    return select(
        select(last.c.position).scalar_subquery(),
        select(last.c.seal).scalar_subquery(),
        select(tracked.position).where(tracked.name == HIGH_WATER).scalar_subquery(),
        select(tracked.position).where(tracked.name == READ_MODELS).scalar_subquery(),
        select(func.max(t.audit.c.position)).scalar_subquery(),
    )


def marks(conn: Connection) -> Marks:
    """The chain's head, its high-water mark and the read models' position, as one snapshot."""
    row = conn.execute(_marks_query()).one()
    position, seal_, high_water, read_models, audited = row
    return Marks(
        head=int(position or 0),
        head_seal=seal_ or GENESIS,
        high_water=None if high_water is None else int(high_water),
        read_models=int(read_models or 0),
        audited=int(audited or 0),
    )


class ChainBroken(RuntimeError):
    """Seals the chain once held are gone, or the read models moved against it: someone changed
    the read database. A position sealed once is never sealed again, so the projector stops."""

    def __init__(self, first: int, last: int, problem: str) -> None:
        super().__init__(
            f"the hash chain is broken at positions {first} to {last}: {problem}. The projector seals "
            "no position twice, so it stops here; run `grantledger verify` (with --expect-head and the "
            "head written down before) and restore the read database from a backup"
        )
        self.first, self.last, self.problem = first, last, problem


class _Watch:
    """Looks for the anchor in the chain recomputed from the stored events."""

    def __init__(self, anchor: Anchor) -> None:
        self.anchor = anchor
        self.seen: str | None = GENESIS if anchor.position == 0 else None
        self.found_at: int | None = 0 if anchor.position is None and anchor.seal == GENESIS else None

    def see(self, position: int, recomputed: str) -> None:
        if self.anchor.position is None:
            if self.found_at is None and recomputed == self.anchor.seal:
                self.found_at = position
        elif position == self.anchor.position:
            self.seen = recomputed

    def settled(self, position: int) -> bool:
        """Nothing after ``position`` can change the outcome."""
        if self.anchor.position is None:
            return self.found_at is not None
        return position >= self.anchor.position

    def outcome(self, last: int) -> tuple[bool, str]:
        at, expected = self.anchor.position, self.anchor.seal
        if at is None:
            if self.found_at is not None:
                return True, ""
            return False, (
                f"no position from 1 to {last} of the history recomputed from the stored events has the "
                f"anchor's seal: the history differs from the one the anchor was written down from"
            )
        if self.seen is None:
            return False, (
                f"the store holds no event at position {at}, where the anchor was written down (it was "
                "removed, or the history was cut short): the history differs from the anchor"
            )
        if self.seen != expected:
            return False, (
                f"the history up to position {at} differs from the anchor: the seal recomputed there from "
                f"the stored events is {self.seen} (an event at or before position {at} was changed, "
                "removed, inserted or moved)"
            )
        return True, ""


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


def verify(app: GrantLedger, db: ReadDatabase, *, expect_head: Anchor | None = None, batch: int = 2000) -> Verdict:
    """Recompute the chain from the raw stored events and name the first disagreement with the
    seals, the high-water mark or the read models' position; with ``expect_head``, also whether
    the recomputed chain holds that head."""
    with db.reading() as conn:
        known = marks(conn)  # before the seals: the chain read afterwards only ever reaches further
    reached = known.reached
    watch = None if expect_head is None else _Watch(expect_head)
    stored, sealed = _stored(app, batch), _seals(db)
    kept = next(sealed, None)
    recomputed = previous = GENESIS
    checked = position = unsealed = last = 0
    problem: tuple[int, str] | None = None
    for event in stored:
        recomputed, last = seal(recomputed, event), event.id
        if watch is not None:
            watch.see(event.id, recomputed)
        if problem is None:
            if kept is not None and kept[0] < event.id:
                problem = (kept[0], f"the event sealed at position {kept[0]} is missing from the store (deleted)")
            elif kept is not None and kept[0] > event.id:
                problem = (
                    event.id,
                    f"the store holds an event at position {event.id} that was never sealed (inserted)",
                )
            elif kept is not None and recomputed != kept[1]:
                problem = (
                    event.id,
                    f"the event at position {event.id} ({event.topic.rsplit(':', 1)[-1]} of "
                    f"{event.originator_id} v{event.originator_version}) is not the event that was sealed "
                    "there (changed or moved)",
                )
            elif kept is not None:
                previous, position, checked = kept[1], kept[0], checked + 1
                kept = next(sealed, None)
            elif event.id <= reached:
                problem = (event.id, known.missing(position))
            else:
                unsealed += 1
        if problem is not None and (watch is None or watch.settled(event.id)):
            break
    if problem is None and kept is not None:
        problem = (kept[0], f"the event sealed at position {kept[0]} is missing from the store (deleted)")
    if problem is None and reached > position:
        problem = (position + 1, known.missing(position) + "; so are the events")
    if problem is None and (broken := known.broken()) is not None:
        problem = (broken[0], broken[2])
    anchored, anchor_problem = (None, "") if watch is None else watch.outcome(last)
    verdict = Verdict(True, checked, position, previous, unsealed=unsealed, anchor=expect_head, anchored=anchored)
    if anchor_problem:
        verdict = replace(verdict, anchor_problem=anchor_problem)
    if problem is not None:
        verdict = replace(verdict, intact=False, first_bad_position=problem[0], problem=problem[1], unsealed=0)
    return verdict
