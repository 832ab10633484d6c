"""How each event changes the read models: one small function per event type.

Handlers read and change rows through the ``Batch`` (projections/batch.py), which holds them
in memory and writes them when the projector's transaction ends.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from ledger.budget import BudgetLine
from ledger.claim import Claim
from ledger.cost import Cost
from ledger.grant import Category, Grant
from ledger.mission import Mission
from ledger.money import EUR, Money
from ledger.payment import Payment
from ledger.rates import ExchangeRate
from ledger.sme import Sme
from projections import tables as t
from projections.batch import MEASURES, Batch, Handler

FSTP = Category.FSTP.value

E = TypeVar("E")
HANDLERS: dict[type, Handler] = {}


def handles(*event_types: type[E]) -> Callable[[Callable[[Batch, E], None]], Callable[[Batch, E], None]]:
    def register(handler: Callable[[Batch, E], None]) -> Callable[[Batch, E], None]:
        for event_type in event_types:
            HANDLERS[event_type] = handler
        return handler

    return register


def _line(batch: Batch, event: Any) -> tuple[str, str]:
    """The (partner, category) of a budget line event (another projector may have opened it)."""
    key = batch.line_keys.get(event.originator_id)
    if key is None:
        row = batch.get(t.budget_lines, line_id=str(event.originator_id))
        key = batch.line_keys[event.originator_id] = (row.partner, row.category)
    return key


def _claim_row(batch: Batch, claim_id: UUID) -> Any:
    return batch.get(t.claims, id=str(claim_id))


def _update_claim(batch: Batch, event: Any, **values: Any) -> None:
    batch.set(
        t.claims, {"id": str(event.originator_id)}, version=event.originator_version, position=batch.position, **values
    )


def _add_to_sme_mission(batch: Batch, sme_id: UUID, mission_id: UUID, column: str, amount: Money) -> None:
    batch.add(t.sme_missions, {"sme_id": str(sme_id), "mission_id": str(mission_id)}, **{column: amount.amount})


# --- the grant and its budget lines ------------------------------------------------------
@handles(Grant.Signed)
def _grant_signed(batch: Batch, e: Grant.Signed) -> None:
    batch.insert(
        t.grant,
        {
            "id": 1,
            "code": e.code,
            "title": e.title,
            "total": e.total.amount,
            "funding_rate": e.funding_rate,
            "eu_cap": e.eu_cap.amount,
            "period_start": e.period_start,
            "period_end": e.period_end,
            "coordinator": e.coordinator,
            "indirect_rate": e.indirect_rate,
            "sme_support_cap": e.sme_support_cap.amount,
            "decision_ref": e.decision_ref,
            "signed_on": e.effective_date,
            "position": batch.position,
        },
    )
    batch.insert(t.partners, [{"code": p.code, "name": p.name, "country": p.country} for p in e.partners])


@handles(BudgetLine.Opened)
def _line_opened(batch: Batch, e: BudgetLine.Opened) -> None:
    key = (e.partner, e.category)
    batch.line_keys[e.originator_id] = key
    zero = Decimal("0.00")
    batch.insert(
        t.budget_lines,
        dict(
            partner=e.partner,
            category=e.category,
            line_id=str(e.originator_id),
            **dict.fromkeys(MEASURES, zero),
        ),
    )
    batch.move(key, "allocated", e.allocated)


@handles(BudgetLine.TransferredOut)
def _transferred_out(batch: Batch, e: BudgetLine.TransferredOut) -> None:
    batch.move(_line(batch, e), "allocated", -e.amount)


@handles(BudgetLine.TransferredIn)
def _transferred_in(batch: Batch, e: BudgetLine.TransferredIn) -> None:
    batch.move(_line(batch, e), "allocated", e.amount)


@handles(BudgetLine.Committed)
def _committed(batch: Batch, e: BudgetLine.Committed) -> None:
    batch.move(_line(batch, e), "committed", e.amount)


@handles(BudgetLine.Paid)
def _paid(batch: Batch, e: BudgetLine.Paid) -> None:
    line = _line(batch, e)
    batch.move(line, "committed", -(e.amount + e.released))
    batch.move(line, "paid", e.amount)


@handles(BudgetLine.PaymentReturned)
def _payment_returned(batch: Batch, e: BudgetLine.PaymentReturned) -> None:
    line = _line(batch, e)
    batch.move(line, "paid", -e.amount)
    batch.move(line, "committed", e.recommitted)


@handles(BudgetLine.CostCharged)
def _cost_charged(batch: Batch, e: BudgetLine.CostCharged) -> None:
    batch.move(_line(batch, e), "spent", e.amount)


# --- missions and SMEs -------------------------------------------------------------------
@handles(Mission.Opened)
def _mission_opened(batch: Batch, e: Mission.Opened) -> None:
    batch.insert(
        t.missions,
        {
            "id": str(e.originator_id),
            "code": e.code,
            "country": e.country,
            "city": e.city,
            "start": e.start,
            "end": e.end,
            "partner": e.responsible_partner,
            "reimbursement_rate": e.reimbursement_rate,
            "cap_per_sme": e.cap_per_sme.amount,
            "cost_types": ",".join(e.eligible_cost_types),
            "opened_on": e.effective_date,
        },
    )


@handles(Sme.Registered)
def _sme_registered(batch: Batch, e: Sme.Registered) -> None:
    batch.insert(
        t.smes,
        {
            "id": str(e.originator_id),
            "legal_name": e.legal_name,
            "country": e.country,
            "identifier": e.identifier,
            "registered_on": e.effective_date,
        },
    )


@handles(Sme.Selected)
def _sme_selected(batch: Batch, e: Sme.Selected) -> None:
    zero = Decimal("0.00")
    batch.insert(
        t.sme_missions,
        {
            "sme_id": str(e.originator_id),
            "mission_id": str(e.mission_id),
            "selected_on": e.effective_date,
            "requested": zero,
            "approved": zero,
            "paid": zero,
        },
    )


@handles(Sme.SupportApproved)
def _support_approved(batch: Batch, e: Sme.SupportApproved) -> None:
    _add_to_sme_mission(batch, e.originator_id, e.mission_id, "approved", e.amount)


# --- claims ------------------------------------------------------------------------------
def _add_to_mission_currency(batch: Batch, mission_id: str, currency: str, **amounts: Decimal) -> None:
    where = {"mission_id": mission_id, "currency": currency}
    row = batch.get(t.mission_currencies, **where)
    if row is None:
        zero = {"claimed": Decimal(0), "accepted": Decimal(0), "accepted_eur": Decimal("0.00")}
        batch.insert(t.mission_currencies, where | zero | amounts)
    else:
        batch.set(t.mission_currencies, where, **{k: getattr(row, k) + v for k, v in amounts.items()})


@handles(Claim.Submitted)
def _claim_submitted(batch: Batch, e: Claim.Submitted) -> None:
    claim_id = str(e.originator_id)
    batch.insert(
        t.claims,
        {
            "id": claim_id,
            "sme_id": str(e.sme_id),
            "mission_id": str(e.mission_id),
            "partner": e.partner,
            "state": "submitted",
            "submitted_on": e.effective_date,
            "requested": e.requested.amount,
            "reason": "",
            "version": e.originator_version,
            "position": batch.position,
        },
    )
    batch.insert(
        t.claim_lines,
        [
            {
                "claim_id": claim_id,
                "line_no": no,
                "cost_type": line.cost_type,
                "expense_date": line.expense_date,
                "currency": line.amount.currency,
                "amount": line.amount.amount,
                "receipt_ref": line.receipt_ref,
                "description": line.description,
                "reason": "",
            }
            for no, line in enumerate(e.lines, start=1)
        ],
    )
    for line in e.lines:
        _add_to_mission_currency(batch, str(e.mission_id), line.amount.currency, claimed=line.amount.amount)
    _add_to_sme_mission(batch, e.sme_id, e.mission_id, "requested", e.requested)
    batch.move((e.partner, FSTP), "pending", e.requested)
    batch.history(e.originator_id, e.requested)


def _decided(batch: Batch, e: Any, state: str, **values: Any) -> Any:
    """The claim leaves 'submitted': its request is no longer pending."""
    claim = _claim_row(batch, e.originator_id)
    _update_claim(batch, e, state=state, decided_on=e.effective_date, reason=e.reason, **values)
    batch.move((claim.partner, FSTP), "pending", -Money(claim.requested, EUR))
    return claim


@handles(Claim.Approved)
def _claim_approved(batch: Batch, e: Claim.Approved) -> None:
    claim = _decided(
        batch,
        e,
        "approved",
        approved=e.approved.amount,
        eligible_eur=e.eligible_eur.amount,
        capped_by=e.capped_by,
    )
    for line in e.lines:
        batch.set(
            t.claim_lines,
            {"claim_id": claim.id, "line_no": line.line_no},
            accepted=line.accepted.amount,
            rate=line.rate,
            rate_month=line.rate_month,
            rate_source=line.rate_source,
            eur=line.eur.amount,
            reason=line.reason,
        )
        _add_to_mission_currency(
            batch,
            claim.mission_id,
            line.accepted.currency,
            accepted=line.accepted.amount,
            accepted_eur=line.eur.amount,
        )
    batch.history(e.originator_id, e.approved)


@handles(Claim.Rejected)
def _claim_rejected(batch: Batch, e: Claim.Rejected) -> None:
    _decided(batch, e, "rejected")
    batch.history(e.originator_id)


@handles(Claim.Withdrawn)
def _claim_withdrawn(batch: Batch, e: Claim.Withdrawn) -> None:
    _decided(batch, e, "withdrawn")
    batch.history(e.originator_id)


@handles(Claim.ReimbursementPaid)
def _claim_paid(batch: Batch, e: Claim.ReimbursementPaid) -> None:
    claim = _claim_row(batch, e.originator_id)
    _update_claim(batch, e, state="paid", paid=e.amount.amount, payment_id=str(e.payment_id))
    _add_to_sme_mission(batch, UUID(claim.sme_id), UUID(claim.mission_id), "paid", e.amount)
    batch.history(e.originator_id, e.amount)


@handles(Claim.PaymentReversed)
def _claim_payment_reversed(batch: Batch, e: Claim.PaymentReversed) -> None:
    claim = _claim_row(batch, e.originator_id)
    _update_claim(batch, e, state="approved", paid=None, payment_id=None, reason=e.reason)
    _add_to_sme_mission(batch, UUID(claim.sme_id), UUID(claim.mission_id), "paid", -e.amount)
    batch.history(e.originator_id, e.amount)


# --- payments, costs, rates ----------------------------------------------------------------
@handles(Payment.Recorded)
def _payment_recorded(batch: Batch, e: Payment.Recorded) -> None:
    batch.insert(
        t.payments,
        {
            "id": str(e.originator_id),
            "claim_id": str(e.claim_id),
            "partner": e.partner,
            "amount": e.amount.amount,
            "bank_reference": e.bank_reference,
            "value_date": e.effective_date,
            "reversed": False,
            "reversal_reason": "",
        },
    )


@handles(Payment.Reversed)
def _payment_reversed(batch: Batch, e: Payment.Reversed) -> None:
    batch.set(t.payments, {"id": str(e.originator_id)}, reversed=True, reversal_reason=e.reason)


@handles(Cost.Recorded)
def _cost_recorded(batch: Batch, e: Cost.Recorded) -> None:
    batch.insert(
        t.costs,
        {
            "id": str(e.originator_id),
            "partner": e.partner,
            "category": e.category,
            "currency": e.amount.currency,
            "amount": e.amount.amount,
            "eur": e.eur.amount,
            "cost_date": e.effective_date,
            "document_ref": e.document_ref,
            "description": e.description,
            "version": e.originator_version,
        },
    )


@handles(Cost.Corrected)
def _cost_corrected(batch: Batch, e: Cost.Corrected) -> None:
    batch.set(
        t.costs, {"id": str(e.originator_id)}, amount=e.amount.amount, eur=e.eur.amount, version=e.originator_version
    )


@handles(ExchangeRate.Recorded)
def _rate_recorded(batch: Batch, e: ExchangeRate.Recorded) -> None:
    batch.insert(
        t.rates,
        {
            "id": str(e.originator_id),
            "currency": e.currency,
            "month": e.month,
            "rate": e.rate,
            "source": e.source,
            "version": e.originator_version,
        },
    )


@handles(ExchangeRate.Corrected)
def _rate_corrected(batch: Batch, e: ExchangeRate.Corrected) -> None:
    row = batch.get(t.rates, id=str(e.originator_id))
    where = {"currency": row.currency, "month": row.month}
    batch.set(t.rates, where, rate=e.rate, source=e.source, version=e.originator_version)
