"""Use cases of exchange rates and partners' own costs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from ledger.actors import Actor, Role, require_officer_of, require_role
from ledger.cost import Cost
from ledger.errors import InvalidInput
from ledger.grant import (
    OWN_COST_CATEGORIES,
    parse_category,
)
from ledger.money import EUR, Money
from ledger.rates import DEFAULT_SOURCE, ExchangeRate, Quote, RateAlreadyRecorded, month_of
from ledger.text import clean_text
from ledger.usecases.core import LedgerCore, Outcome


class CostCases(LedgerCore):
    """Monthly exchange rates and the partners' own costs."""

    def record_rate(
        self, *, actor: Actor, currency: str, month: str, rate: Decimal, source: str = DEFAULT_SOURCE
    ) -> UUID:
        """Record the monthly rate (units of the currency one euro buys) for a currency and month."""
        require_role(actor, "record exchange rates", Role.OFFICER, Role.COORDINATOR)
        self.check_rate_month(month)

        def decide() -> Outcome[UUID]:
            xr = ExchangeRate.record(actor=actor, currency=currency, month=month, rate=rate, source=source)
            existing = self._find(ExchangeRate, xr.id)
            if existing is not None:
                if (existing.rate, existing.source) != (rate, xr.source):
                    raise RateAlreadyRecorded(
                        f"the {currency} rate for {month} is already recorded as {existing.rate} "
                        f"({existing.source}); to change it, record a correction with a reason"
                    )
                return existing.id, []
            return xr.id, [xr]

        return self._write(decide)

    def record_cost(
        self,
        *,
        actor: Actor,
        cost_id: UUID,
        partner: str,
        category: str,
        amount: Money,
        document_ref: str,
        description: str,
        on: date,
    ) -> UUID:
        """Record a partner's own cost in a direct category (converted to EUR if foreign)."""
        require_officer_of(actor, partner, f"record costs of {partner}")
        self._not_future((on, "the cost date"))
        if parse_category(category) not in OWN_COST_CATEGORIES:
            raise InvalidInput(
                f"own costs are recorded in {', '.join(sorted(c.value for c in OWN_COST_CATEGORIES))}; "
                f"{category} is computed (INDIRECT) or SME support (FSTP)"
            )

        def decide() -> Outcome[UUID]:
            existing = self._find(Cost, cost_id)
            if existing is not None:
                same = (existing.partner, existing.category, existing.cost_date, existing.document_ref) == (
                    partner,
                    category,
                    on,
                    clean_text(document_ref, "document_ref"),
                ) and existing.amount == amount
                return self._same(existing, "cost", same), []
            grant = self.grant()
            grant.require_partner(partner)
            grant.require_in_period(on, "cost date")
            quote = (
                Quote(EUR, month_of(on), Decimal(1), "identity")
                if amount.currency == EUR
                else self.quote(amount.currency, month_of(on))
            )
            cost = Cost.record(
                cost_id=self._new_id("cost", cost_id),
                actor=actor,
                partner=partner,
                category=category,
                amount=amount,
                eur=amount.to_eur(quote.rate),
                rate=quote.rate,
                rate_month=quote.month,
                rate_source=quote.source,
                document_ref=document_ref,
                description=description,
                cost_date=on,
            )
            line = self.budget_line(partner, category)
            line.charge_cost(actor=actor, cost_id=cost_id, amount=cost.eur, on=on)
            indexes = self._declare_receipts(actor, [document_ref], "cost", cost_id, on)
            return cost.id, [cost, line, *indexes]

        return self._write(decide)

    def correct_cost(self, *, actor: Actor, cost_id: UUID, amount: Money, reason: str, on: date) -> Money:
        """Correct a recorded cost (0 cancels it); returns the corrected EUR amount."""
        self._not_future((on, "the correction date"))

        def decide() -> Outcome[Money]:
            cost = self.cost(cost_id)
            require_officer_of(actor, cost.partner, "correct this cost")
            delta = cost.correct(actor=actor, amount=amount, reason=reason, on=on)
            line = self.budget_line(cost.partner, cost.category)
            line.charge_cost(actor=actor, cost_id=cost_id, amount=delta, on=on)
            return cost.eur, [cost, line]

        return self._write(decide)
