"""Reimbursement payments to SMEs, and their reversal when the bank returns them."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from ledger.actors import Actor
from ledger.base import LedgerAggregate
from ledger.errors import InvalidInput, NotFound, Refused
from ledger.money import Money
from ledger.text import clean_text


class UnknownPayment(NotFound):
    title = "Unknown payment"


class PaymentAlreadyReversed(Refused):
    title = "Payment already reversed"


class Payment(LedgerAggregate):
    class Recorded(LedgerAggregate.Created):
        claim_id: UUID
        partner: str
        amount: Money
        bank_reference: str

        def apply(self, payment: Payment) -> None:
            payment.claim_id = self.claim_id
            payment.partner = self.partner
            payment.amount = self.amount
            payment.bank_reference = self.bank_reference
            payment.value_date = self.effective_date
            payment.reversed = False

    class Reversed(LedgerAggregate.Event):
        reason: str

        def apply(self, payment: Payment) -> None:
            payment.reversed = True

    if TYPE_CHECKING:
        claim_id: UUID
        partner: str
        amount: Money
        bank_reference: str
        value_date: date
        reversed: bool

    @classmethod
    def record(
        cls,
        *,
        payment_id: UUID,
        actor: Actor,
        claim_id: UUID,
        partner: str,
        amount: Money,
        bank_reference: str,
        value_date: date,
    ) -> Payment:
        return cls._create(
            cls.Recorded,
            id=payment_id,
            actor=actor,
            effective_date=value_date,
            claim_id=claim_id,
            partner=partner,
            amount=amount,
            bank_reference=clean_text(bank_reference, "bank_reference", missing="a payment needs its bank reference"),
        )

    def reverse(self, *, actor: Actor, reason: str, on: date) -> None:
        if self.reversed:
            raise PaymentAlreadyReversed(f"payment {self.id} of {self.amount} was already reversed")
        if on < self.value_date:
            raise InvalidInput(
                f"reversal date {on} is before the payment's value date {self.value_date}; "
                "a payment is reversed after it was made"
            )
        reason = clean_text(
            reason, "reason", multiline=True, missing="a payment reversal needs a reason (e.g. bank return, wrong IBAN)"
        )
        self.trigger_event(self.Reversed, actor=actor, effective_date=on, reason=reason)
