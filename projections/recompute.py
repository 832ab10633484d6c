"""An independent recompute for auditors: every budget line's figures folded from the raw
stored events in memory, compared with the read models (``grantledger verify --recompute``).

It shares nothing with the projector but the event store: it selects only the events that move
a budget line (by topic, in the store's own query), reads their stored JSON as it is (no domain
objects, no transcoder hooks), and adds up exact decimals: allocated (opened, transferred in and
out), committed (approvals, payments, returns, releases), paid, spent (own costs and their
corrections), and pending (claims submitted and not yet decided, on the FSTP line of the
mission's partner). Nothing is written anywhere. An encrypted store is decrypted record by record
with the ledger's own cipher, bound to each record's place as it was written (ledger.records).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic
from sqlalchemy import Connection, select

from ledger.budget import BudgetLine
from ledger.claim import Claim
from ledger.grant import Category
from ledger.records import BoundMapper
from projections import tables as t

if TYPE_CHECKING:
    from ledger.application import GrantLedger
    from projections.db import ReadDatabase

MEASURES = ("allocated", "pending", "committed", "paid", "spent")
Figures = dict[str, Decimal]
Line = tuple[str, str]


def _money(value: Any) -> Decimal:
    """An amount as the transcoder stored it: {"_type_": "money", "_data_": [amount, currency]}."""
    return Decimal(value["_data_"][0])


def _uuid(value: Any) -> str:
    return str(value["_data_"])


@dataclass
class _Fold:
    """The running figures, keyed by the budget line's id until its partner and category are known."""

    lines: dict[str, Line] = field(default_factory=dict)
    figures: defaultdict[str, Figures] = field(
        default_factory=lambda: defaultdict(lambda: dict.fromkeys(MEASURES, Decimal(0)))
    )
    claims: dict[str, tuple[str, Decimal]] = field(default_factory=dict)
    pending: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    def line(self, n: Notification, state: dict[str, Any]) -> None:
        topic, figures = n.topic, self.figures[str(n.originator_id)]
        kind = topic.rsplit(".", 1)[-1]
        if kind == "Opened":
            self.lines[str(n.originator_id)] = (state["partner"], state["category"])
            figures["allocated"] += _money(state["allocated"])
        elif kind == "TransferredIn":
            figures["allocated"] += _money(state["amount"])
        elif kind == "TransferredOut":
            figures["allocated"] -= _money(state["amount"])
        elif kind == "Committed":
            figures["committed"] += _money(state["amount"])
        elif kind == "Paid":
            amount = _money(state["amount"])
            figures["committed"] -= amount + _money(state["released"])
            figures["paid"] += amount
        elif kind == "PaymentReturned":
            figures["paid"] -= _money(state["amount"])
            figures["committed"] += _money(state["recommitted"])
        elif kind == "Released":
            figures["committed"] -= _money(state["amount"])
        elif kind == "CostCharged":
            figures["spent"] += _money(state["amount"])

    def claim(self, n: Notification, state: dict[str, Any]) -> None:
        claim_id, kind = str(n.originator_id), n.topic.rsplit(".", 1)[-1]
        if kind == "Submitted":
            self.claims[claim_id] = (state["partner"], _money(state["requested"]))
            sign = 1
        else:  # decided (approved, rejected, withdrawn: -1), or its approval revoked (+1)
            sign = 1 if kind == "ApprovalRevoked" else -1
        partner, requested = self.claims[claim_id]
        self.pending[partner] += sign * requested

    def result(self) -> dict[Line, Figures]:
        out = {self.lines[line_id]: figures for line_id, figures in self.figures.items() if line_id in self.lines}
        for partner, pending in self.pending.items():
            out.setdefault((partner, Category.FSTP.value), dict.fromkeys(MEASURES, Decimal(0)))["pending"] += pending
        return out


#: The events that move a budget line, and which fold takes each.
LINE_TOPICS = tuple(
    get_topic(cls)
    for cls in (
        BudgetLine.Opened,
        BudgetLine.TransferredIn,
        BudgetLine.TransferredOut,
        BudgetLine.Committed,
        BudgetLine.Paid,
        BudgetLine.PaymentReturned,
        BudgetLine.Released,
        BudgetLine.CostCharged,
    )
)
CLAIM_TOPICS = tuple(
    get_topic(cls) for cls in (Claim.Submitted, Claim.Approved, Claim.Rejected, Claim.Withdrawn, Claim.ApprovalRevoked)
)


@dataclass(frozen=True)
class Recomputed:
    """The figures of every budget line, folded from ``events`` stored events up to ``position``."""

    figures: dict[Line, Figures]
    events: int
    position: int


def _states(app: GrantLedger, upto: int | None, batch: int) -> Iterator[tuple[Notification, dict[str, Any]]]:
    mapper = app.mapper
    plain = mapper.decrypted if isinstance(mapper, BoundMapper) else None
    compressor = mapper.compressor
    topics = LINE_TOPICS + CLAIM_TOPICS
    start: int | None = None
    while True:
        page = app.recorder.select_notifications(start, batch, stop=upto, topics=topics, inclusive_of_start=False)
        if not page:
            return
        for n in page:
            state = plain(n).state if plain is not None else n.state
            if compressor is not None:
                state = compressor.decompress(state)
            yield n, json.loads(state)
        start = page[-1].id


def recompute(app: GrantLedger, *, upto: int | None = None, batch: int = 10_000) -> Recomputed:
    """Every budget line's figures from the stored events (up to ``upto``, else all)."""
    fold = _Fold()
    lines = set(LINE_TOPICS)
    events = position = 0
    for n, state in _states(app, upto, batch):
        if n.topic in lines:
            fold.line(n, state)
        else:
            fold.claim(n, state)
        events, position = events + 1, n.id
    return Recomputed(fold.result(), events, position if upto is None else upto)


def differences(recomputed: Recomputed, conn: Connection) -> list[str]:
    """Where the read models' budget lines differ from the recomputed figures, in words."""
    stored = {(r.partner, r.category): r for r in conn.execute(select(t.budget_lines))}
    problems = []
    for line in sorted(set(stored) | set(recomputed.figures)):
        row, figures = stored.get(line), recomputed.figures.get(line)
        if row is None or figures is None:
            where = "the read models" if row is None else "the events"
            problems.append(f"{line[0]} {line[1]}: the line is missing from {where}")
            continue
        for measure in MEASURES:
            if getattr(row, measure) != figures[measure]:
                problems.append(
                    f"{line[0]} {line[1]} {measure}: the read models show {getattr(row, measure)}, "
                    f"the events add up to {figures[measure]}"
                )
    return problems


@dataclass(frozen=True)
class BooksCheck:
    """The read models' budget lines beside the figures the events add up to, at the same position."""

    recomputed: Recomputed
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        lines = len(self.recomputed.figures)
        head = (
            f"recompute: {lines} budget lines folded from {self.recomputed.events:,} stored events up to position "
            f"{self.recomputed.position:,}"
        )
        if self.ok:
            return f"{head}: every figure equals the read models'"
        return "\n".join(
            [
                f"{head}: {len(self.problems)} figures differ (rebuild the read models: `grantledger replay`)",
                *self.problems,
            ]
        )


def check_books(app: GrantLedger, db: ReadDatabase) -> BooksCheck:
    """Recompute every budget line up to the read models' position and compare (nothing written)."""
    with db.reading(snapshot=True) as conn:
        tracked = t.tracking.c
        position = int(conn.execute(select(tracked.position).where(tracked.name == "read_models")).scalar_one())
        recomputed = recompute(app, upto=position)
        return BooksCheck(recomputed, differences(recomputed, conn))
