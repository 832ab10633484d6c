"""A partner's own costs in a budget category, and their corrections.

A cost is never edited: a correction is a new event that names the version it corrects
and says why; the budget line is charged the difference.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

from ledger.actors import Actor
from ledger.base import LedgerAggregate
from ledger.errors import InvalidInput, NotFound
from ledger.money import Money
from ledger.text import clean_optional, clean_text


class UnknownCost(NotFound):
    title = "Unknown cost"


class Cost(LedgerAggregate):
    class Recorded(LedgerAggregate.Created):
        partner: str
        category: str
        amount: Money
        eur: Money
        rate: Decimal
        rate_month: str
        rate_source: str
        document_ref: str
        description: str

        def apply(self, cost: Cost) -> None:
            cost.rate = self.rate
            cost.partner = self.partner
            cost.category = self.category
            cost.amount = self.amount
            cost.eur = self.eur
            cost.cost_date = self.effective_date
            cost.document_ref = self.document_ref
            cost.description = self.description

    class Corrected(LedgerAggregate.Event):
        amount: Money
        eur: Money
        corrects_version: int
        reason: str

        def apply(self, cost: Cost) -> None:
            cost.amount = self.amount
            cost.eur = self.eur

    if TYPE_CHECKING:
        partner: str
        category: str
        amount: Money
        eur: Money
        rate: Decimal
        cost_date: date
        document_ref: str
        description: str

    @classmethod
    def record(
        cls,
        *,
        cost_id: UUID,
        actor: Actor,
        partner: str,
        category: str,
        amount: Money,
        eur: Money,
        rate: Decimal,
        rate_month: str,
        rate_source: str,
        document_ref: str,
        description: str,
        cost_date: date,
    ) -> Cost:
        if not amount.is_positive:
            raise InvalidInput(f"a cost is a positive amount, got {amount}")
        document_ref = clean_text(
            document_ref,
            "document_ref",
            missing="a cost needs the reference of its supporting document (invoice, payslip...)",
        )
        description = clean_optional(description, "description", multiline=True)
        return cls._create(
            cls.Recorded,
            id=cost_id,
            actor=actor,
            effective_date=cost_date,
            partner=partner,
            category=category,
            amount=amount,
            eur=eur,
            rate=rate,
            rate_month=rate_month,
            rate_source=rate_source,
            document_ref=document_ref,
            description=description,
        )

    def correct(self, *, actor: Actor, amount: Money, reason: str, on: date) -> Money:
        """Record the corrected amount; returns the change in EUR charged to the budget line."""
        if amount.currency != self.amount.currency:
            raise InvalidInput(f"a correction keeps the cost's currency {self.amount.currency}, got {amount.currency}")
        if amount.amount < 0:
            raise InvalidInput(
                f"a corrected cost cannot be negative, got {amount}; use {Money.zero(amount.currency)} to cancel it"
            )
        if amount == self.amount:
            raise InvalidInput(f"the cost is already {amount}: nothing to correct")
        reason = clean_text(reason, "reason", multiline=True, missing="a correction needs a reason")
        if on < self.cost_date:
            raise InvalidInput(
                f"correction date {on} is before the cost's date {self.cost_date}; "
                "a cost is corrected after it was recorded"
            )
        eur = amount.to_eur(self.rate)  # the rate of the original, never recomputed
        delta = eur - self.eur
        self.trigger_event(
            self.Corrected,
            actor=actor,
            effective_date=on,
            amount=amount,
            eur=eur,
            corrects_version=self.version,
            reason=reason,
        )
        return delta
