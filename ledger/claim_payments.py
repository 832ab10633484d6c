"""A claim's money after approval: payments, their reversal, settling the rest short, and
revoking an unpaid approval (methods of ``ledger.claim.Claim``, kept here by area).

At every step ``approved = committed + paid + settled short`` (invariant 4: paid <= approved).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from ledger.actors import Actor
from ledger.claim_dates import not_before_last_change
from ledger.claim_state import ClaimNotInState, ClaimState, Overpayment, state_label
from ledger.errors import InvalidInput
from ledger.money import EUR, Money
from ledger.text import clean_text

if TYPE_CHECKING:
    from ledger.claim import Claim


def record_payment(
    claim: Claim, *, actor: Actor, payment_id: UUID, amount: Money, bank_reference: str, on: date
) -> None:
    """Invariant 4: paid + settled short <= approved; a payment is at most what is outstanding."""
    if claim.state == ClaimState.PAID.value:
        raise ClaimNotInState(
            f"claim {claim.id} is already paid: {claim.paid} paid and {claim.settled_short} settled short of the "
            f"approved {claim.approved}; nothing is outstanding. Reverse a payment first if one was returned"
        )
    if claim.state not in (ClaimState.APPROVED.value, ClaimState.PARTLY_PAID.value):
        raise ClaimNotInState(
            f"cannot pay claim {claim.id}: it is {state_label(claim.state)}, "
            "and only an approved or partly paid claim can be"
        )
    if amount.currency != EUR or not amount.is_positive:
        raise InvalidInput(f"a reimbursement is a positive EUR amount, got {amount}")
    if amount > claim.outstanding:
        raise Overpayment(
            f"payment of {amount} exceeds what is outstanding on claim {claim.id}: approved {claim.approved}, "
            f"already paid {claim.paid}, settled short {claim.settled_short}, outstanding {claim.outstanding}; "
            f"pay at most {claim.outstanding}"
        )
    claim._not_before_approval(on, "payment value date", "paid")
    not_before_last_change(claim, on, "payment value date")
    bank_reference = clean_text(bank_reference, "bank_reference", missing="a payment needs its bank reference")
    claim.trigger_event(
        claim.ReimbursementPaid,
        actor=actor,
        effective_date=on,
        payment_id=payment_id,
        amount=amount,
        bank_reference=bank_reference,
        closes=False,
    )


def reverse_payment(claim: Claim, *, actor: Actor, payment_id: UUID, reason: str, on: date) -> Money:
    """Undo one live payment; returns what it paid, which is committed again."""
    amount = claim.payments.get(str(payment_id))
    if amount is None:
        raise ClaimNotInState(f"payment {payment_id} is not a live payment of claim {claim.id}")
    reason = clean_text(
        reason, "reason", multiline=True, missing="a payment reversal needs a reason (e.g. bank return, wrong IBAN)"
    )
    not_before_last_change(claim, on, "reversal date")
    claim.trigger_event(
        claim.PaymentReversed,
        actor=actor,
        effective_date=on,
        payment_id=payment_id,
        amount=amount,
        reason=reason,
        recommits_all=False,
    )
    return amount


def settle_short(claim: Claim, *, actor: Actor, reason: str, on: date, last_paid_on: date) -> Money:
    """Release what a partly paid claim still has outstanding; returns that amount.
    ``last_paid_on`` is the latest value date of its live payments, as their records
    say now (a corrected value date is recorded on the payment, not on the claim)."""
    if claim.state != ClaimState.PARTLY_PAID.value:
        raise ClaimNotInState(
            f"cannot settle claim {claim.id} short: it is {state_label(claim.state)}, and only a partly paid "
            "claim can be (an unpaid approval is revoked instead; a paid claim has nothing outstanding)"
        )
    reason = clean_text(
        reason, "reason", multiline=True, missing="settling a claim short needs a reason (e.g. the SME agreed)"
    )
    if on < last_paid_on:
        raise InvalidInput(
            f"settlement date {on} is before the claim's last payment on {last_paid_on}; "
            "a claim is settled short after its last payment"
        )
    not_before_last_change(claim, on, "settlement date")
    amount = claim.outstanding
    claim.trigger_event(claim.SettledShort, actor=actor, effective_date=on, amount=amount, reason=reason)
    return amount


def revoke_approval(claim: Claim, *, actor: Actor, reason: str, on: date) -> tuple[Money, Money]:
    """Take back the approval of an unpaid claim; returns (the commitment released, the SME
    support released)."""
    if claim.payments:
        raise ClaimNotInState(
            f"cannot revoke the approval of claim {claim.id}: it is {state_label(claim.state)}, with live "
            f"payments {claim.describe_payments()}; reverse them first (a bank return), then revoke"
        )
    claim._require(ClaimState.APPROVED, "revoke the approval of")
    reason = clean_text(reason, "reason", multiline=True, missing="revoking an approval needs a reason")
    claim._not_before_approval(on, "revocation date", "revoked")
    not_before_last_change(claim, on, "revocation date")
    released, support = claim.outstanding, claim.support_held
    claim.trigger_event(claim.ApprovalRevoked, actor=actor, effective_date=on, reason=reason, released=released)
    return released, support
