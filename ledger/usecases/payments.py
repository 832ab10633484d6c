"""Use cases of a claim's payments: pay (in one or more payments), reverse one (a bank return),
settle the rest short.

Each keeps ``approved = committed + paid + settled short`` on the claim and on the partner's
FSTP line: a payment moves what it pays from committed to paid, a reversal moves it back, and
settling short releases what is still committed, on the line and on the SME's caps.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from ledger.actors import Actor, require_officer_of
from ledger.errors import InvalidInput
from ledger.grant import Category
from ledger.money import Money
from ledger.payment import Payment
from ledger.text import clean_text
from ledger.usecases.core import LedgerCore, Outcome


class PaymentCases(LedgerCore):
    """Payments of approved claims, their reversal, and settling a claim short."""

    def record_payment(
        self, *, actor: Actor, payment_id: UUID, claim_id: UUID, amount: Money, bank_reference: str, on: date
    ) -> UUID:
        """Record a reimbursement paid to the SME (value date ``on``): any positive EUR amount
        up to what is outstanding on an approved or partly paid claim. Less leaves the rest
        committed and the claim partly paid."""
        self._not_future((on, "the payment's value date"))

        def decide() -> Outcome[UUID]:
            claim = self.claim(claim_id)
            require_officer_of(actor, claim.partner, "record payments of this claim")
            existing = self._find(Payment, payment_id)
            if existing is not None:
                same = (existing.claim_id, existing.amount, existing.bank_reference, existing.value_date) == (
                    claim_id,
                    amount,
                    clean_text(bank_reference, "bank_reference"),
                    on,
                )
                return self._same(existing, "payment", same), []
            line = self.budget_line(claim.partner, Category.FSTP.value)
            live = list(claim.payments)
            claim.record_payment(
                actor=actor, payment_id=payment_id, amount=amount, bank_reference=bank_reference, on=on
            )
            self._not_before_live_payments(live, on)  # after the claim's own checks; nothing is saved yet
            line.pay(actor=actor, claim_id=claim_id, payment_id=payment_id, amount=amount, on=on)
            payment = Payment.record(
                payment_id=self._new_id("payment", payment_id),
                actor=actor,
                claim_id=claim_id,
                partner=claim.partner,
                amount=amount,
                bank_reference=bank_reference,
                value_date=on,
            )
            return payment.id, [payment, claim, line]

        return self._write(decide)

    def _not_before_live_payments(self, live: list[str], on: date) -> None:
        """A new payment is not dated before a live payment of the claim, as its record says now
        (a corrected value date is recorded on the payment, not on the claim)."""
        for pid in live:
            value_date = self.payment(UUID(pid)).value_date
            if on < value_date:
                raise InvalidInput(
                    f"payment value date {on} is before the claim's payment {pid} of {value_date} (its value "
                    f"date as corrected); date it on or after {value_date}"
                )

    def reverse_payment(self, *, actor: Actor, payment_id: UUID, reason: str, on: date) -> None:
        """A bank return: exactly that payment is undone and what it paid is committed again
        (committed + paid does not change, so no budget check can refuse it). The claim is
        partly paid again, or approved when nothing remains paid."""
        self._not_future((on, "the reversal date"))

        def decide() -> Outcome[None]:
            payment = self.payment(payment_id)
            require_officer_of(actor, payment.partner, "reverse this payment")
            claim = self.claim(payment.claim_id)
            line = self.budget_line(claim.partner, Category.FSTP.value)
            payment.reverse(actor=actor, reason=reason, on=on)
            amount = claim.reverse_payment(actor=actor, payment_id=payment_id, reason=reason, on=on)
            line.return_payment(actor=actor, claim_id=claim.id, payment_id=payment_id, amount=amount, on=on)
            return None, [payment, claim, line]

        self._write(decide)

    def settle_claim(self, *, actor: Actor, claim_id: UUID, reason: str, on: date) -> Money:
        """Settle a partly paid claim short: what is outstanding will not be paid. It is released
        on the FSTP line and on the SME's caps, and the claim is paid. Returns the amount released."""
        self._not_future((on, "the settlement date"))

        def decide() -> Outcome[Money]:
            claim = self.claim(claim_id)
            require_officer_of(actor, claim.partner, "settle this claim")
            line = self.budget_line(claim.partner, Category.FSTP.value)
            sme = self.sme(claim.sme_id)
            last_paid_on = max((self.payment(UUID(pid)).value_date for pid in claim.payments), default=date.min)
            amount = claim.settle_short(actor=actor, reason=reason, on=on, last_paid_on=last_paid_on)
            why = f"settled short: {reason.strip()}"
            line.release(actor=actor, claim_id=claim.id, amount=amount, reason=why, on=on)
            sme.release_support(
                actor=actor, claim_id=claim.id, mission_id=claim.mission_id, amount=amount, reason=why, on=on
            )
            return amount, [claim, line, sme]

        return self._write(decide)
