"""A partner's own costs in a budget category, and their corrections.

A cost is never edited: a correction is a new event that names the version it corrects
and says why; the budget line is charged the difference.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger.actors import Actor
from ledger.base import LedgerAggregate
from ledger.documents import AttachedDocument, DocumentHolder, SupersededDocument
from ledger.errors import InvalidInput, NotFound
from ledger.money import Money
from ledger.text import clean_optional, clean_text


class UnknownCost(NotFound):
    title = "Unknown cost"


def check_declared(cost_date: date, declared_on: date) -> None:
    """An adjustment is declared after its cost's date."""
    if declared_on <= cost_date:
        raise InvalidInput(
            f"an adjustment is declared after the cost's date: the declaration date {declared_on} is not "
            f"after the cost date {cost_date}; leave the declaration date empty for a cost of an open period"
        )


class Cost(DocumentHolder, LedgerAggregate):
    class Recorded(LedgerAggregate.Created):
        """Version 2 added ``declared_on``: the day an adjustment (a cost of an earlier, closed
        reporting period recorded later) is declared, in an open period; None for a cost
        declared in its own period (every version-1 cost)."""

        class_version = 2

        partner: str
        category: str
        amount: Money
        eur: Money
        rate: Decimal
        rate_month: str
        rate_source: str
        document_ref: str
        description: str
        declared_on: date | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["declared_on"] = None

        def apply(self, cost: Cost) -> None:
            cost.rate = self.rate
            cost.partner = self.partner
            cost.category = self.category
            cost.amount = self.amount
            cost.eur = self.eur
            cost.cost_date = self.effective_date
            cost.document_ref = self.document_ref
            cost.description = self.description
            cost.declared_on = self.declared_on

    class Corrected(LedgerAggregate.Event):
        amount: Money
        eur: Money
        corrects_version: int
        reason: str

        def apply(self, cost: Cost) -> None:
            cost.amount = self.amount
            cost.eur = self.eur

    class DocumentAttached(AttachedDocument):
        """A supporting document attached to the cost (ledger/documents.py; ``line`` is None)."""

    class DocumentSuperseded(SupersededDocument):
        """One of its documents superseded, with why."""

    if TYPE_CHECKING:
        partner: str
        category: str
        amount: Money
        eur: Money
        rate: Decimal
        cost_date: date
        document_ref: str
        description: str
        declared_on: date | None

    @property
    def charged_on(self) -> date:
        """The day the cost is charged to its budget line: its date, or an adjustment's declaration."""
        return self.declared_on or self.cost_date

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
        declared_on: date | None = None,
    ) -> Cost:
        if not amount.is_positive:
            raise InvalidInput(f"a cost is a positive amount, got {amount}")
        document_ref = clean_text(
            document_ref,
            "document_ref",
            missing="a cost needs the reference of its supporting document (invoice, payslip...)",
        )
        description = clean_optional(description, "description", multiline=True)
        if declared_on is not None:
            check_declared(cost_date, declared_on)
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
            declared_on=declared_on,
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
