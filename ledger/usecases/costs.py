"""Use cases of exchange rates and partners' own costs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from uuid import UUID

from ledger.actors import Actor, Role, require_officer_of, require_role
from ledger.cost import Cost, check_declared
from ledger.documents import Upload
from ledger.errors import InvalidInput
from ledger.grant import (
    OWN_COST_CATEGORIES,
    Grant,
    parse_category,
)
from ledger.money import EUR, Money
from ledger.rate_file import MAX_ROWS, NewRate, RateCheck
from ledger.rates import DEFAULT_SOURCE, ExchangeRate, Quote, RateAlreadyRecorded, month_of, rate_id
from ledger.text import clean_text
from ledger.usecases.core import Outcome
from ledger.usecases.documents import DocumentCases


class CostCases(DocumentCases):
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

    def check_rates(self, *, actor: Actor, rates: Sequence[NewRate]) -> tuple[RateCheck, ...]:
        """What recording each of ``rates`` now would meet (for those who record rates: the
        preview of an import): its month too far ahead, a rate recorded already with another
        value or source (a correction's work, not an import's), the same currency and month
        given twice; or that it is recorded already as given."""
        require_role(actor, "record exchange rates", Role.OFFICER, Role.COORDINATOR)
        checks: list[RateCheck] = []
        seen: dict[tuple[str, str], int] = {}
        for number, new in enumerate(rates, start=1):
            key = (new.currency, new.month)
            if key in seen:
                checks.append(
                    RateCheck(
                        f"the {new.currency} rate for {new.month} is given twice (also as rate {seen[key]} of "
                        "this import); keep one"
                    )
                )
                continue
            seen[key] = number
            try:
                self.check_rate_month(new.month)
            except InvalidInput as error:
                checks.append(RateCheck(error.detail))
                continue
            existing = self._find(ExchangeRate, rate_id(new.currency, new.month))
            if existing is None:
                checks.append(RateCheck())
            elif (existing.rate, existing.source) == (new.rate, new.source):
                checks.append(RateCheck(already=True))
            else:
                checks.append(
                    RateCheck(
                        f"the {new.currency} rate for {new.month} is already recorded as {existing.rate} "
                        f"({existing.source}), the import says {new.rate} ({new.source}); "
                        "change a recorded rate with a correction and its reason, not an import"
                    )
                )
        return tuple(checks)

    def record_rates(self, *, actor: Actor, rates: Sequence[NewRate]) -> tuple[UUID, ...]:
        """Record several monthly rates at once, all or none: one refused rate records nothing.
        A rate recorded already as given is left as it is (a repeated import records nothing
        new). Returns the ids of the rates recorded now."""
        require_role(actor, "record exchange rates", Role.OFFICER, Role.COORDINATOR)
        if not rates:
            raise InvalidInput("an import of rates needs at least one rate; nothing was recorded")
        if len(rates) > MAX_ROWS:
            raise InvalidInput(
                f"at most {MAX_ROWS:,} rates are imported at once, got {len(rates):,}; nothing was recorded"
            )

        def decide() -> Outcome[tuple[UUID, ...]]:
            checks = self.check_rates(actor=actor, rates=rates)
            refused = [
                f"rate {n} ({new.currency} {new.month}): {check.problem}"
                for n, (new, check) in enumerate(zip(rates, checks, strict=True), start=1)
                if check.problem
            ]
            if refused:
                shown = "; ".join(refused[:3])
                more = f"; and {len(refused) - 3} more" if len(refused) > 3 else ""
                raise InvalidInput(f"{shown}{more}; nothing was recorded")
            recorded = [
                ExchangeRate.record(
                    actor=actor, currency=new.currency, month=new.month, rate=new.rate, source=new.source
                )
                for new, check in zip(rates, checks, strict=True)
                if not check.already
            ]
            return tuple(xr.id for xr in recorded), recorded

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
        declared_on: date | None = None,
        documents: Sequence[Upload] = (),
    ) -> UUID:
        """Record a partner's own cost in a direct category (converted to EUR if foreign).

        ``declared_on`` records an adjustment: a cost dated ``on`` in an earlier reporting period
        whose statement is closed (locked, signed or submitted), declared on ``declared_on`` in an
        open period, whose statement declares it. Its budget line is charged on that day.
        ``documents`` (its invoice, payslip...) are attached in the same save."""
        require_officer_of(actor, partner, f"record costs of {partner}")
        self._not_future((on, "the cost date"))
        placed, data = self.prepare_documents([(None, upload) for upload in documents])
        if declared_on is not None:
            self._not_future((declared_on, "the declaration date"))
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
                ) and (existing.amount, existing.declared_on) == (amount, declared_on)
                return self._same(existing, "cost", same), []
            grant = self.grant()
            grant.require_partner(partner)
            grant.require_in_period(on, "cost date")
            if declared_on is not None:
                self._check_adjustment(grant, partner, category, on, declared_on)
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
                declared_on=declared_on,
            )
            line = self.budget_line(partner, category)
            line.charge_cost(actor=actor, cost_id=cost_id, amount=cost.eur, on=cost.charged_on)
            indexes = self._declare_receipts(actor, [document_ref], "cost", cost_id, on)
            held = self._attach(actor, cost, "cost", placed, on)
            return cost.id, [cost, line, *indexes, *held]

        return self._write(decide, data)

    def _check_adjustment(self, grant: Grant, partner: str, category: str, on: date, declared_on: date) -> None:
        """An adjustment declares, in a later period, a cost of an earlier period that is closed."""
        check_declared(on, declared_on)
        grant.require_in_period(declared_on, "declaration date")
        period, declared_in = grant.period_of(on), grant.period_of(declared_on)
        if period is None or declared_in is None:
            raise InvalidInput(
                "an adjustment is declared in a later reporting period than its cost's; the coordinator has "
                "not set the reporting periods yet, so record the cost without a declaration date"
            )
        if declared_in.number <= period.number:
            raise InvalidInput(
                f"the cost date {on} and the declaration date {declared_on} are both in {period}: an adjustment "
                "declares a cost of an earlier period; leave the declaration date empty"
            )
        closed = self.budget_line(partner, category).closed_periods
        if not any(p.number == period.number for p in closed):
            raise InvalidInput(
                f"{period} is still open for {partner} (its statement is in draft): record the cost in it, "
                "without a declaration date"
            )

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
