"""Reimbursement payments to SMEs, and their reversal when the bank returns them."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from ledger.actors import Actor
from ledger.base import LedgerAggregate
from ledger.claim_dates import PaymentDates, value_date_in_place
from ledger.errors import InvalidInput, NotFound, NothingToCorrect, Refused
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
            payment.reversed_on = None

    class Reversed(LedgerAggregate.Event):
        reason: str

        def apply(self, payment: Payment) -> None:
            payment.reversed = True
            payment.reversed_on = self.effective_date

    class RecordCorrected(LedgerAggregate.Event):
        """The bank reference and value date as the bank shows them, and why; its business
        date is the corrected value date. The amount is never corrected: a wrong amount is
        a reversal and a new payment."""

        bank_reference: str
        value_date: date
        corrects_version: int
        reason: str

        def apply(self, payment: Payment) -> None:
            payment.bank_reference = self.bank_reference
            payment.value_date = self.value_date

    if TYPE_CHECKING:
        claim_id: UUID
        partner: str
        amount: Money
        bank_reference: str
        value_date: date
        reversed: bool
        reversed_on: date | None

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

    def correct_record(
        self, *, actor: Actor, bank_reference: str, value_date: date, reason: str, place: PaymentDates
    ) -> None:
        """Correct the bank reference or value date: still not before the approval it was made
        under (``place.approved_on``) nor after the payment's reversal, and a new value date
        between the claim's change before the payment and its next change after it (``place``,
        ledger/claim_dates.py). The caller checks the action period and that the date is not
        in the future."""
        approved_on = place.approved_on
        bank_reference = clean_text(bank_reference, "bank_reference", missing="a payment needs its bank reference")
        reason = clean_text(reason, "reason", multiline=True, missing="a correction of a payment needs a reason")
        if value_date < approved_on:
            raise InvalidInput(
                f"value date {value_date} is before the claim's approval date {approved_on}; "
                "a claim is paid after it is approved"
            )
        if self.reversed_on is not None and value_date > self.reversed_on:
            raise InvalidInput(
                f"value date {value_date} is after the payment's reversal on {self.reversed_on}; "
                "a payment is made before the bank returns it"
            )
        if value_date != self.value_date:
            value_date_in_place(place, value_date)
        if (bank_reference, value_date) == (self.bank_reference, self.value_date):
            raise NothingToCorrect(
                f"payment {self.id} already has bank reference {bank_reference!r} and value date {value_date}; "
                "a correction gives a different bank reference or value date"
            )
        self.trigger_event(
            self.RecordCorrected,
            actor=actor,
            effective_date=value_date,
            bank_reference=bank_reference,
            value_date=value_date,
            corrects_version=self.version,
            reason=reason,
        )
