"""The grant agreement: totals, funding rate, EU cap, action period and partners."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from ledger.actors import Actor
from ledger.base import LedgerAggregate
from ledger.errors import InvalidInput, NotFound, Refused
from ledger.ids import natural_id
from ledger.money import EUR, Money, parse_fraction
from ledger.text import clean_country, clean_text


class Category(StrEnum):
    """Cost categories of a partner's budget (EU grant forms)."""

    PERSONNEL = "PERSONNEL"
    SUBCONTRACTING = "SUBCONTRACTING"
    TRAVEL = "TRAVEL"
    EQUIPMENT = "EQUIPMENT"
    OTHER_GOODS_SERVICES = "OTHER_GOODS_SERVICES"
    FSTP = "FSTP"
    INDIRECT = "INDIRECT"


#: Categories a partner records its own actual costs in (FSTP is SME support, INDIRECT a flat rate).
OWN_COST_CATEGORIES = frozenset(
    {
        Category.PERSONNEL,
        Category.SUBCONTRACTING,
        Category.TRAVEL,
        Category.EQUIPMENT,
        Category.OTHER_GOODS_SERVICES,
    }
)
#: Direct categories excluded from the base of the indirect flat rate.
INDIRECT_BASE_EXCLUDED = frozenset({Category.SUBCONTRACTING, Category.FSTP, Category.INDIRECT})


def parse_category(value: str) -> Category:
    try:
        return Category(value)
    except ValueError:
        known = ", ".join(c.value for c in Category)
        raise InvalidInput(f"cost category {value!r} is unknown; use one of {known}") from None


@dataclass(frozen=True, slots=True)
class PartnerInfo:
    """A partner of the consortium: our short code, legal name and country (ISO 3166 alpha-2)."""

    code: str
    name: str
    country: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", clean_text(self.code, "partners.code"))
        object.__setattr__(self, "name", clean_text(self.name, f"partners.name ({self.code})"))
        object.__setattr__(self, "country", clean_country(self.country, f"partners.country ({self.code})"))


class GrantNotSigned(NotFound):
    title = "Grant not signed"


class GrantAlreadySigned(Refused):
    title = "Grant already signed"


class OutsideActionPeriod(Refused):
    title = "Date outside the action period"


class BeforeTheGrant(OutsideActionPeriod):
    """A business date before the grant's first day (its signing or the action period's start,
    whichever is earlier): nothing in the grant happens then (and it is outside the period)."""

    title = "Date before the grant began"


def indirect_ceiling(lines: dict[str, Money], indirect_rate: Decimal) -> Money:
    """The most INDIRECT may be: the flat rate of direct costs excluding subcontracting and FSTP."""
    base = Money.zero(EUR)
    for category, amount in lines.items():
        if Category(category) not in INDIRECT_BASE_EXCLUDED:
            base = base + amount
    return base.times_rate(indirect_rate)


def eu_contribution(accepted_costs: Money, funding_rate: Decimal, eu_cap: Money) -> Money:
    """Invariant 7: EU contribution = min(cap, funding rate x accepted eligible costs)."""
    return min(eu_cap, accepted_costs.times_rate(funding_rate))


class Grant(LedgerAggregate):
    """The one grant agreement this ledger keeps the books of."""

    ID = natural_id("grant")

    class Signed(LedgerAggregate.Created):
        code: str
        title: str
        total: Money
        funding_rate: Decimal
        eu_cap: Money
        period_start: date
        period_end: date
        coordinator: str
        partners: list[PartnerInfo]
        budget: dict[str, dict[str, Money]]
        indirect_rate: Decimal
        sme_support_cap: Money
        decision_ref: str

        def apply(self, grant: Grant) -> None:
            grant.code = self.code
            grant.title = self.title
            grant.total = self.total
            grant.funding_rate = self.funding_rate
            grant.eu_cap = self.eu_cap
            grant.period_start = self.period_start
            grant.period_end = self.period_end
            grant.coordinator = self.coordinator
            grant.partners = {p.code: p for p in self.partners}
            grant.indirect_rate = self.indirect_rate
            grant.sme_support_cap = self.sme_support_cap
            grant.budget = self.budget
            grant.decision_ref = self.decision_ref

    if TYPE_CHECKING:
        code: str
        title: str
        total: Money
        funding_rate: Decimal
        eu_cap: Money
        period_start: date
        period_end: date
        coordinator: str
        partners: dict[str, PartnerInfo]
        indirect_rate: Decimal
        budget: dict[str, dict[str, Money]]
        decision_ref: str
        sme_support_cap: Money

    @classmethod
    def sign(
        cls,
        *,
        actor: Actor,
        code: str,
        title: str,
        total: Money,
        funding_rate: Decimal,
        eu_cap: Money,
        period_start: date,
        period_end: date,
        coordinator: str,
        partners: list[PartnerInfo],
        budget: dict[str, dict[str, Money]],
        indirect_rate: Decimal,
        sme_support_cap: Money,
        decision_ref: str,
        signed_on: date,
    ) -> Grant:
        code = clean_text(code, "code", missing="a grant needs its code, e.g. EU-ALLIANCE")
        title = clean_text(title, "title")
        coordinator = clean_text(coordinator, "coordinator")
        decision_ref = clean_text(decision_ref, "decision_ref", missing="write the grant agreement's reference")
        funding_rate = parse_fraction(funding_rate, "funding rate")
        if not Decimal(0) <= indirect_rate < 1:
            raise InvalidInput(f"the indirect flat rate must be a fraction such as 0.07, got {indirect_rate}")
        codes = [p.code for p in partners]
        if not partners:
            raise InvalidInput("a grant needs at least one partner")
        if len(set(codes)) != len(codes):
            raise InvalidInput(f"partner codes must be unique, got {', '.join(codes)}")
        if coordinator not in codes:
            raise InvalidInput(f"coordinator {coordinator} is not one of the partners {', '.join(codes)}")
        if period_end <= period_start:
            raise InvalidInput(f"the action period must end after it starts ({period_start} to {period_end})")
        for amount, what in ((total, "total eligible budget"), (eu_cap, "EU cap"), (sme_support_cap, "cap per SME")):
            if amount.currency != EUR or not amount.is_positive:
                raise InvalidInput(f"the {what} must be a positive EUR amount, got {amount}")
        if eu_cap > total:
            raise InvalidInput(f"the EU cap {eu_cap} exceeds the total eligible budget {total}")
        unknown = set(budget) - set(codes)
        if unknown:
            raise InvalidInput(f"budget names partners that are not in the grant: {', '.join(sorted(unknown))}")
        allocated = Money.zero(EUR)
        for partner, lines in budget.items():
            for category, amount in lines.items():
                parse_category(category)
                if amount.currency != EUR or amount.amount < 0:
                    raise InvalidInput(
                        f"budget line {partner} {category} must be a non-negative EUR amount, got {amount}"
                    )
                allocated = allocated + amount
            ceiling = indirect_ceiling(lines, indirect_rate)
            indirect = lines.get(Category.INDIRECT.value, Money.zero(EUR))
            if indirect > ceiling:
                raise InvalidInput(
                    f"{partner}'s INDIRECT line {indirect} exceeds the flat rate "
                    f"{indirect_rate:%} of its direct costs excluding subcontracting and FSTP ({ceiling})"
                )
        if allocated != total:
            raise InvalidInput(
                f"the budget lines sum to {allocated} but the total eligible budget is {total}; "
                f"they must be equal (difference {total - allocated})"
            )
        return cls._create(
            cls.Signed,
            id=cls.ID,
            actor=actor,
            effective_date=signed_on,
            code=code,
            title=title,
            total=total,
            funding_rate=funding_rate,
            eu_cap=eu_cap,
            period_start=period_start,
            period_end=period_end,
            coordinator=coordinator,
            partners=list(partners),
            budget=budget,
            indirect_rate=indirect_rate,
            sme_support_cap=sme_support_cap,
            decision_ref=decision_ref,
        )

    def require_partner(self, code: str) -> PartnerInfo:
        try:
            return self.partners[code]
        except KeyError:
            raise NotFound(
                f"partner {code!r} is not in the grant; the partners are {', '.join(sorted(self.partners))}"
            ) from None

    def require_in_period(self, day: date, what: str) -> None:
        """Invariant 6: expense and cost dates fall inside the action period."""
        if not self.period_start <= day <= self.period_end:
            raise OutsideActionPeriod(
                f"{what} {day} is outside the action period "
                f"{self.period_start} to {self.period_end}; such costs are not eligible"
            )
