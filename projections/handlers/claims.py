"""SME claims: submission, decisions, payments and their reversal as the claim sees them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger.claim import Claim
from ledger.money import EUR, Money
from projections import tables as t
from projections.batch import Batch
from projections.handlers.common import FSTP, add_to_sme_mission, claim_row, handles, update_claim


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
                "estimate_rate": estimate.rate,
                "estimate_rate_month": estimate.rate_month,
                "estimate_rate_source": estimate.rate_source,
                "estimate_eur": estimate.eur.amount,
            }
            for (no, line), estimate in zip(enumerate(e.lines, start=1), e.estimate, strict=True)
        ],
    )
    for line in e.lines:
        _add_to_mission_currency(batch, str(e.mission_id), line.amount.currency, claimed=line.amount.amount)
    add_to_sme_mission(batch, e.sme_id, e.mission_id, "requested", e.requested)
    batch.move((e.partner, FSTP), "pending", e.requested)
    batch.history(e.originator_id, e.requested)


def _decided(batch: Batch, e: Any, state: str, **values: Any) -> Any:
    """The claim leaves 'submitted': its request is no longer pending."""
    claim = claim_row(batch, e.originator_id)
    update_claim(batch, e, state=state, decided_on=e.effective_date, reason=e.reason, **values)
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
    claim = claim_row(batch, e.originator_id)
    update_claim(batch, e, state="paid", paid=e.amount.amount, payment_id=str(e.payment_id))
    add_to_sme_mission(batch, UUID(claim.sme_id), UUID(claim.mission_id), "paid", e.amount)
    batch.history(e.originator_id, e.amount)


@handles(Claim.PaymentReversed)
def _claim_payment_reversed(batch: Batch, e: Claim.PaymentReversed) -> None:
    claim = claim_row(batch, e.originator_id)
    update_claim(batch, e, state="approved", paid=None, payment_id=None, reason=e.reason)
    add_to_sme_mission(batch, UUID(claim.sme_id), UUID(claim.mission_id), "paid", -e.amount)
    batch.history(e.originator_id, e.amount)
