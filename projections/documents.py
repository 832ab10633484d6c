"""Supporting documents on the read side: a claim's or a cost's documents, who holds a digest,
what still lacks one, and the documents behind a period's statement.

Rows come from rm_documents (projections/handlers/documents.py): one per attachment, superseded
ones kept (``live`` False, with the reason). The bytes are never here: they are in the event
store's blob table (``app.blobs``), found by ``sha256``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Select, and_, exists, func, or_, select

from projections import tables as t
from projections.statements import reporting_terms

#: Claims whose lines need no document any more: the claim is closed without funding.
CLOSED = ("rejected", "withdrawn")


@dataclass(frozen=True)
class DocumentRow:
    """One document attached to a claim's expense line or to an own cost."""

    sha256: str
    holder_kind: str  # "claim" | "cost"
    holder_id: str
    partner: str
    #: The claim's expense line (1-based); None for a cost.
    line: int | None
    #: The claim line's receipt reference, or the cost's document reference.
    receipt_ref: str
    filename: str
    media_type: str
    size: int
    attached_on: date
    recorded_at: datetime
    attached_by: str
    #: Not superseded (a superseded document is kept, bytes and all, with its reason).
    live: bool
    superseded_reason: str
    #: The event position that attached it.
    position: int


@dataclass(frozen=True)
class MissingRow:
    """A claim line (of a claim neither rejected nor withdrawn) or a cost with no live document."""

    holder_kind: str  # "claim" | "cost"
    holder_id: str
    partner: str
    line: int | None
    receipt_ref: str
    #: The claim's state ("submitted", "approved", "paid", ...), "recorded" for a cost.
    state: str
    #: The claim line's or the cost's description.
    description: str


def _document(row: Any) -> DocumentRow:
    return DocumentRow(
        sha256=row.sha256,
        holder_kind=row.holder_kind,
        holder_id=row.holder_id,
        partner=row.partner,
        line=row.line,
        receipt_ref=row.receipt_ref,
        filename=row.filename,
        media_type=row.media_type,
        size=int(row.size),
        attached_on=row.attached_on,
        recorded_at=row.recorded_at,
        attached_by=row.attached_by,
        live=bool(row.live),
        superseded_reason=row.superseded_reason,
        position=int(row.position),
    )


def _rows(conn: Connection, query: Select[Any]) -> list[DocumentRow]:
    return [_document(row) for row in conn.execute(query)]


def documents_of(conn: Connection, holder_id: str) -> list[DocumentRow]:
    """Every document of a claim or a cost, superseded ones too: by line, in the order attached."""
    d = t.documents.c
    return _rows(conn, select(t.documents).where(d.holder_id == holder_id).order_by(d.line, d.position))


def documents_with(conn: Connection, sha256: str) -> list[DocumentRow]:
    """Every attachment of a digest, superseded ones too, in the order attached: whose the
    document is (and so who may download it)."""
    d = t.documents.c
    return _rows(conn, select(t.documents).where(d.sha256 == sha256).order_by(d.position))


def missing_documents(conn: Connection, *, partner: str | None = None) -> list[MissingRow]:
    """The expense lines of claims neither rejected nor withdrawn, and the own costs, that have
    no live document: by partner, claims (by submission date) before costs (by cost date)."""
    d, c, line, cost = t.documents.c, t.claims.c, t.claim_lines.c, t.costs.c
    line_has = exists().where(d.holder_id == line.claim_id, d.line == line.line_no, d.live.is_(True))
    claims = (
        select(c.id, c.partner, c.state, line.line_no, line.receipt_ref, line.description)
        .select_from(t.claim_lines.join(t.claims, c.id == line.claim_id))
        .where(c.state.not_in(CLOSED), ~line_has)
        .order_by(c.partner, c.submitted_on, c.id, line.line_no)
    )
    cost_has = exists().where(d.holder_id == cost.id, d.live.is_(True))
    costs = select(cost.id, cost.partner, cost.document_ref, cost.description).where(~cost_has)
    costs = costs.order_by(cost.partner, cost.cost_date, cost.id)
    if partner is not None:
        claims, costs = claims.where(c.partner == partner), costs.where(cost.partner == partner)
    missing = [
        MissingRow("claim", r.id, r.partner, r.line_no, r.receipt_ref, r.state, r.description)
        for r in conn.execute(claims)
    ]
    missing += [
        MissingRow("cost", r.id, r.partner, None, r.document_ref, "recorded", r.description)
        for r in conn.execute(costs)
    ]
    return sorted(missing, key=lambda row: row.partner)  # stable: each kind keeps its order


def period_bounds(conn: Connection, period: int) -> tuple[date, date] | None:
    """The first and last day of reporting period ``period`` (the whole action period as period
    1 while no periods are set, as the statements count it); None: no such period."""
    terms = reporting_terms(conn)
    if terms is None:
        return None
    span = next((span for span in terms.spans() if span.number == period), None)
    return None if span is None else (span.start, span.end)


def period_documents(conn: Connection, period: int, *, partner: str | None = None) -> list[DocumentRow]:
    """The live documents behind period ``period``'s statements (of ``partner``'s alone, if
    given): those of the own costs the statement counts (charged in the period: costs dated in
    it, adjustments declared in it, corrections made in it) and of the claims whose payments it
    counts (value-dated in the period, net of reversals). By partner, claims before costs, by
    holder and line. Empty when there is no such period."""
    bounds = period_bounds(conn, period)
    if bounds is None:
        return []
    m, p, d = t.movements.c, t.payments.c, t.documents.c
    within = and_(m.effective_date >= bounds[0], m.effective_date <= bounds[1])
    counted = func.sum(m.delta) != Decimal(0)
    costs = select(m.ref).where(m.measure == "spent", m.ref.is_not(None), within).group_by(m.ref).having(counted)
    paid = (
        select(p.claim_id)
        .select_from(t.movements.join(t.payments, p.id == m.ref))
        .where(m.measure == "paid", within)
        .group_by(m.ref, p.claim_id)
        .having(counted)
    )
    query = select(t.documents).where(
        d.live.is_(True),
        or_(
            and_(d.holder_kind == "cost", d.holder_id.in_(costs.scalar_subquery())),
            and_(d.holder_kind == "claim", d.holder_id.in_(paid.scalar_subquery())),
        ),
    )
    if partner is not None:
        query = query.where(d.partner == partner)
    return _rows(conn, query.order_by(d.partner, d.holder_kind, d.holder_id, d.line, d.position))
