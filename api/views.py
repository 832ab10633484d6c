"""Read models -> response bodies, and request bodies -> ledger values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

from fastapi import HTTPException, Request, Response
from sqlalchemy import Connection, select

from api.schemas import (
    AssessedLinePublic,
    BudgetPublic,
    CategoryTotals,
    ClaimEventPublic,
    ClaimLinePublic,
    ClaimPaymentPublic,
    ClaimPublic,
    CostPublic,
    CurrencyTotals,
    LinePublic,
    MissionPublic,
    MoneyIn,
    MoneyOut,
    PartnerTotals,
    PaymentPublic,
    RateAssessmentsPublic,
    RatePublic,
    SearchHit,
    SearchMatch,
    SmeMission,
    SmePublic,
    TransferPublic,
)
from ledger.actors import Actor
from ledger.ids import derived_id
from ledger.money import Money
from projections import queries as q
from projections import search
from projections import tables as t
from projections.assessments import rate_assessments


class LatestBody:
    """One rendered response body and the read-model position it was read at.

    The read models change only when the projector applies events, and every batch moves the
    tracking position in the same transaction: reading the same position again gives the same
    body, so it is rendered once per position. A request that sees another position (a write
    was projected) renders it anew and keeps that one instead. Read the position before the
    figures, in the same transaction: the figures are then never older than the key."""

    def __init__(self) -> None:
        self._kept: tuple[int, bytes] | None = None

    def get(self, position: int, render: Callable[[], bytes]) -> bytes:
        kept = self._kept
        if kept is not None and kept[0] == position:
            return kept[1]
        body = render()
        self._kept = (position, body)
        return body


def json_response(body: bytes) -> Response:
    """A body already rendered from its response model (FastAPI would validate it again)."""
    return Response(body, media_type="application/json")


def money(value: MoneyIn) -> Money:
    return Money(value.amount, value.currency)


def new_id(request: Request, actor: Actor, given: UUID | None) -> UUID:
    """The id of a created record: the client's, else one derived from the Idempotency-Key
    (so a retry creates nothing new even if the first response was lost; a version-8 UUID,
    never one the ledger derives from a natural key), else a fresh one."""
    if given is not None:
        return given
    key = request.headers.get("Idempotency-Key")
    return derived_id("idempotency-key", actor.id, key) if key else uuid4()


def not_found(what: str) -> HTTPException:
    return HTTPException(404, f"{what} is not in the ledger (or not yet projected)")


def _eur(value: Any) -> MoneyOut:
    out = MoneyOut.eur(value)
    assert out is not None  # noqa: S101 - callers pass non-null columns
    return out


def _figures(line: q.LineFigures) -> dict[str, MoneyOut]:
    return {
        "allocated": _eur(line.allocated),
        "pending": _eur(line.pending),
        "committed": _eur(line.committed),
        "paid": _eur(line.paid),
        "own_costs": _eur(line.spent),
        "remaining": _eur(line.remaining),
        "remaining_after_pending": _eur(line.remaining_after_pending),
    }


def line_public(line: q.LineFigures) -> LinePublic:
    return LinePublic(partner=line.partner, category=line.category, **_figures(line))


def budget_public(overview: q.BudgetOverview, lines: tuple[q.LineFigures, ...] | None = None) -> BudgetPublic:
    chosen = overview.lines if lines is None else lines
    return BudgetPublic(
        code=overview.code,
        title=overview.title,
        total=_eur(overview.total),
        eu_cap=_eur(overview.eu_cap),
        funding_rate=str(overview.funding_rate),
        eu_contribution=_eur(overview.eu_contribution),
        position=overview.as_of.position,
        effective_on=overview.as_of.effective,
        totals=line_public(overview.totals(chosen)),
        by_partner=[PartnerTotals(partner=p.partner, **_figures(p)) for p in overview.by_partner(chosen)],
        by_category=[CategoryTotals(category=c.category, **_figures(c)) for c in overview.by_category(chosen)],
        lines=[line_public(line) for line in chosen],
    )


def mission_public(m: q.MissionSummary) -> MissionPublic:
    return MissionPublic(
        id=m.id,
        code=m.code,
        country=m.country,
        city=m.city,
        start=m.start,
        end=m.end,
        responsible_partner=m.partner,
        reimbursement_rate=str(m.reimbursement_rate),
        cap_per_sme=_eur(m.cap_per_sme),
        eligible_cost_types=list(m.cost_types),
        smes_selected=m.smes_selected,
        claims_by_state=m.claims_by_state,
        requested=_eur(m.requested),
        approved=_eur(m.approved),
        paid=_eur(m.paid),
        by_currency=[
            CurrencyTotals(
                currency=cur,
                claimed=MoneyOut.of(claimed, cur),
                accepted=MoneyOut.of(accepted, cur),
                accepted_eur=_eur(accepted_eur),
            )
            for cur, (claimed, accepted, accepted_eur) in m.by_currency.items()
        ],
    )


def sme_public(s: q.SmeSummary) -> SmePublic:
    return SmePublic(
        id=s.id,
        legal_name=s.legal_name,
        country=s.country,
        identifier=s.identifier,
        missions=[
            SmeMission(
                mission_id=m.mission_id,
                mission_code=m.mission_code,
                cap=_eur(m.cap),
                requested=_eur(m.requested),
                approved=_eur(m.approved),
                paid=_eur(m.paid),
                remaining_cap=_eur(m.remaining_cap),
            )
            for m in s.missions
        ],
        claims_by_state=s.claims_by_state,
        approved=_eur(s.approved),
        remaining_overall=_eur(s.remaining_overall),
        history_url=history_url(s.id),
    )


def claim_public(row: Any, detail: q.ClaimDetail | None = None) -> ClaimPublic:
    claim = ClaimPublic(
        id=row.id,
        sme_id=row.sme_id,
        mission_id=row.mission_id,
        partner=row.partner,
        state=row.state,
        submitted_on=row.submitted_on,
        requested=_eur(row.requested),
        eligible_eur=MoneyOut.eur(row.eligible_eur),
        approved=MoneyOut.eur(row.approved),
        capped_by=row.capped_by,
        decided_on=row.decided_on,
        paid=MoneyOut.eur(row.paid),
        settled_short=MoneyOut.eur(row.settled_short),
        outstanding=MoneyOut.eur(row.outstanding),
        payment_id=row.payment_id,
        reason=row.reason,
        version=row.version,
    )
    if detail is not None:
        claim.lines = [
            ClaimLinePublic(
                line_no=line.line_no,
                cost_type=line.cost_type,
                expense_date=line.expense_date,
                amount=MoneyOut.of(line.amount, line.currency),
                receipt_ref=line.receipt_ref,
                description=line.description,
                accepted=None if line.accepted is None else MoneyOut.of(line.accepted, line.currency),
                rate=None if line.rate is None else str(line.rate),
                rate_month=line.rate_month,
                rate_source=line.rate_source,
                eur=MoneyOut.eur(line.eur),
                reason=line.reason,
            )
            for line in detail.lines
        ]
        claim.history = [
            ClaimEventPublic(
                version=h.version,
                position=h.position,
                event_type=h.event_type,
                recorded_at=h.recorded_at,
                effective_date=h.effective_date,
                actor_id=h.actor_id,
                role=h.role,
                amount=MoneyOut.eur(h.amount),
                reason=h.reason,
            )
            for h in detail.history
        ]
        claim.payments = [
            ClaimPaymentPublic(
                id=p.id,
                amount=_eur(p.amount),
                value_date=p.value_date,
                bank_reference=p.bank_reference,
                reversed=p.reversed,
            )
            for p in detail.payments
        ]
    return claim


def claim_by_id(conn: Connection, claim_id: UUID) -> ClaimPublic:
    detail = q.claim_detail(conn, str(claim_id))
    if detail is None:
        raise not_found(f"claim {claim_id}")
    return claim_public(detail.claim, detail)


def history_url(record_id: str | UUID) -> str:
    """The path of a record's audit history (GET /api/v1/audit/entities/{id})."""
    return f"/api/v1/audit/entities/{record_id}"


def payment_public(row: Any) -> PaymentPublic:
    """A payment row with the ``sme_id`` of its claim (``lists.list_payments`` gives both)."""
    return PaymentPublic(
        id=row.id,
        claim_id=row.claim_id,
        sme_id=row.sme_id,
        partner=row.partner,
        amount=_eur(row.amount),
        bank_reference=row.bank_reference,
        value_date=row.value_date,
        reversed=row.reversed,
        reversal_reason=row.reversal_reason,
        history_url=history_url(row.id),
    )


def payment_by_id(conn: Connection, payment_id: UUID) -> PaymentPublic:
    p = t.payments.c
    query = select(t.payments, t.claims.c.sme_id).join(t.claims, t.claims.c.id == p.claim_id)
    row = conn.execute(query.where(p.id == str(payment_id))).one_or_none()
    if row is None:
        raise not_found(f"payment {payment_id}")
    return payment_public(row)


def cost_public(row: Any) -> CostPublic:
    return CostPublic(
        id=row.id,
        partner=row.partner,
        category=row.category,
        amount=MoneyOut.of(row.amount, row.currency),
        eur=_eur(row.eur),
        cost_date=row.cost_date,
        document_ref=row.document_ref,
        description=row.description,
        history_url=history_url(row.id),
    )


def cost_by_id(conn: Connection, cost_id: UUID) -> CostPublic:
    row = conn.execute(select(t.costs).where(t.costs.c.id == str(cost_id))).one_or_none()
    if row is None:
        raise not_found(f"cost {cost_id}")
    return cost_public(row)


def rate_row_public(row: Any) -> RatePublic:
    return RatePublic(
        id=row.id,
        currency=row.currency,
        month=row.month,
        rate=str(row.rate),
        source=row.source,
        history_url=history_url(row.id),
    )


def rate_public(conn: Connection, currency: str, month: str) -> RatePublic:
    c = t.rates.c
    row = conn.execute(select(t.rates).where(c.currency == currency, c.month == month)).one_or_none()
    if row is None:
        raise not_found(f"the {currency} rate for {month}")
    return rate_row_public(row)


def assessments_public(conn: Connection, currency: str, month: str) -> RateAssessmentsPublic:
    """The claims assessed with an earlier rate of the currency and month (projections.assessments)."""
    report = rate_assessments(conn, currency, month)
    if report is None:
        raise not_found(f"the {currency} rate for {month}")
    return RateAssessmentsPublic(
        rate=rate_public(conn, report.currency, report.month),
        version=report.version,
        lines=[
            AssessedLinePublic(
                claim_id=line.claim_id,
                sme_id=line.sme_id,
                sme_name=line.sme_name,
                mission_id=line.mission_id,
                mission_code=line.mission_code,
                partner=line.partner,
                state=line.state,
                basis=line.basis,
                line_no=line.line_no,
                expense_date=line.expense_date,
                amount=MoneyOut.of(line.amount, line.currency),
                rate_used=str(line.rate_used),
                source_used=line.source_used,
                eur=_eur(line.eur),
                eur_at_rate_now=_eur(line.eur_at_rate_now),
                difference=_eur(line.difference),
            )
            for line in report.lines
        ],
        count=len(report.lines),
        difference=_eur(report.difference),
    )


def transfer_public(row: Any) -> TransferPublic:
    return TransferPublic(
        id=row.id,
        from_partner=row.from_partner,
        from_category=row.from_category,
        to_partner=row.to_partner,
        to_category=row.to_category,
        amount=_eur(row.amount),
        decision_ref=row.decision_ref,
        reason=row.reason,
        effective_date=row.effective_date,
        history_url=history_url(row.id),
    )


def transfer_by_id(conn: Connection, transfer_id: UUID) -> TransferPublic:
    row = conn.execute(select(t.transfers).where(t.transfers.c.id == str(transfer_id))).one_or_none()
    if row is None:
        raise not_found(f"transfer {transfer_id}")
    return transfer_public(row)


#: Where each kind of search hit is read (GET), by its id.
_RECORD_PATHS = {"sme": "/api/v1/smes/{}", "claim": "/api/v1/claims/{}", "payment": "/api/v1/payments/{}"}


def search_hit(hit: search.Hit) -> SearchHit:
    """A hit with links: the record (an own cost has no page of its own: its history) and its history."""
    path = _RECORD_PATHS.get(hit.kind)
    return SearchHit(
        kind=hit.kind,
        id=hit.record_id,
        label=hit.label,
        matches=[SearchMatch(field=m.field, line_no=m.part or None, value=m.value) for m in hit.matches],
        url=path.format(hit.record_id) if path else history_url(hit.record_id),
        history_url=history_url(hit.record_id),
    )
