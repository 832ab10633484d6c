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
            "live_payments": "",
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
        paid=Decimal("0.00"),
        settled_short=Decimal("0.00"),
        outstanding=e.approved.amount,
        payment_id=None,
        live_payments="",
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


def _paid_figures(claim: Any, paid: Decimal, settled_short: Decimal, live: list[str]) -> dict[str, Any]:
    """The payment columns of a claim row, and its state from them."""
    outstanding = claim.approved - paid - settled_short
    state = "paid" if outstanding == 0 else "partly_paid" if paid > 0 else "approved"
    return {
        "state": state,
        "paid": paid,
        "settled_short": settled_short,
        "outstanding": outstanding,
        "payment_id": live[-1] if live else None,
        "live_payments": ",".join(live),
    }


def _live(claim: Any) -> list[str]:
    return [p for p in claim.live_payments.split(",") if p]


@handles(Claim.ReimbursementPaid)
def _claim_paid(batch: Batch, e: Claim.ReimbursementPaid) -> None:
    claim = claim_row(batch, e.originator_id)
    paid = claim.paid + e.amount.amount
    settled = claim.approved - paid if e.closes else claim.settled_short
    update_claim(batch, e, **_paid_figures(claim, paid, settled, [*_live(claim), str(e.payment_id)]))
    add_to_sme_mission(batch, UUID(claim.sme_id), UUID(claim.mission_id), "paid", e.amount)
    batch.history(e.originator_id, e.amount)


@handles(Claim.PaymentReversed)
def _claim_payment_reversed(batch: Batch, e: Claim.PaymentReversed) -> None:
    claim = claim_row(batch, e.originator_id)
    live = [p for p in _live(claim) if p != str(e.payment_id)]
    settled = Decimal("0.00") if e.recommits_all else claim.settled_short
    update_claim(batch, e, reason=e.reason, **_paid_figures(claim, claim.paid - e.amount.amount, settled, live))
    add_to_sme_mission(batch, UUID(claim.sme_id), UUID(claim.mission_id), "paid", -e.amount)
    batch.history(e.originator_id, e.amount)


@handles(Claim.SettledShort)
def _claim_settled_short(batch: Batch, e: Claim.SettledShort) -> None:
    claim = claim_row(batch, e.originator_id)
    settled = claim.settled_short + e.amount.amount
    update_claim(batch, e, reason=e.reason, **_paid_figures(claim, claim.paid, settled, _live(claim)))
    batch.history(e.originator_id, e.amount)


@handles(Claim.ApprovalRevoked)
def _claim_approval_revoked(batch: Batch, e: Claim.ApprovalRevoked) -> None:
    """Submitted again: pending once more, its assessment taken back from its lines and mission."""
    claim = claim_row(batch, e.originator_id)
    no = 1
    while (line := batch.get(t.claim_lines, claim_id=claim.id, line_no=no)) is not None:
        if line.accepted is not None:
            _add_to_mission_currency(
                batch, claim.mission_id, line.currency, accepted=-line.accepted, accepted_eur=-line.eur
            )
        batch.set(
            t.claim_lines,
            {"claim_id": claim.id, "line_no": no},
            accepted=None,
            rate=None,
            rate_month=None,
            rate_source=None,
            eur=None,
            reason="",
        )
        no += 1
    update_claim(
        batch,
        e,
        state="submitted",
        eligible_eur=None,
        approved=None,
        capped_by=None,
        decided_on=None,
        paid=None,
        settled_short=None,
        outstanding=None,
        payment_id=None,
        live_payments="",
        reason=e.reason,
    )
    batch.move((claim.partner, FSTP), "pending", Money(claim.requested, EUR))
    batch.history(e.originator_id, e.released)
