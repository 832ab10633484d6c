"""The grant agreement: totals, funding rate, EU cap, action period and partners."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ledger.actors import Actor
from ledger.base import LedgerAggregate
from ledger.errors import InvalidInput, NotFound, Refused
from ledger.ids import natural_id
from ledger.money import EUR, Money, parse_fraction
from ledger.periods import ReportingPeriod, check_periods, period_of
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


#: The requested EU contribution from which a partner attaches a certificate on the financial
#: statements to its final statement (a term of the grant; the COSME-era rule by default).
CERTIFICATE_THRESHOLD = Money.eur("325000")


def funding_overrides(rates: dict[str, Decimal], default: Decimal) -> dict[str, Decimal]:
    """The funding rates that differ from the grant's one rate, per category (checked)."""
    overrides = {}
    for category, rate in rates.items():
        known = parse_category(category)
        checked = parse_fraction(rate, f"the funding rate of {known.value}")
        if checked != default:
            overrides[known.value] = checked
    return overrides


def eu_contribution(accepted_costs: Money, funding_rate: Decimal, eu_cap: Money) -> Money:
    """Invariant 7: EU contribution = min(cap, funding rate x accepted eligible costs)."""
    return min(eu_cap, accepted_costs.times_rate(funding_rate))


class Grant(LedgerAggregate):
    """The one grant agreement this ledger keeps the books of."""

    ID = natural_id("grant")

    class Signed(LedgerAggregate.Created):
        """Version 2 added ``funding_rates`` (the categories funded at another rate than
        ``funding_rate``; version-1 grants funded every category at one rate) and
        ``certificate_threshold`` (version-1 grants: the COSME-era EUR 325,000)."""

        class_version = 2

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
        funding_rates: dict[str, Decimal]
        certificate_threshold: Money

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["funding_rates"] = {}
            state["certificate_threshold"] = CERTIFICATE_THRESHOLD

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
            grant.funding_rates = dict(self.funding_rates)
            grant.certificate_threshold = self.certificate_threshold
            grant.reporting_periods = ()

    class ReportingPeriodsSet(LedgerAggregate.Event):
        """The coordinator cut the action period into reporting periods (or cut it anew)."""

        periods: list[ReportingPeriod]
        reason: str

        def apply(self, grant: Grant) -> None:
            grant.reporting_periods = tuple(self.periods)

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
        funding_rates: dict[str, Decimal]
        certificate_threshold: Money
        reporting_periods: tuple[ReportingPeriod, ...]

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
        funding_rates: dict[str, Decimal] | None = None,
        certificate_threshold: Money = CERTIFICATE_THRESHOLD,
    ) -> Grant:
        code = clean_text(code, "code", missing="a grant needs its code, e.g. EU-ALLIANCE")
        title = clean_text(title, "title")
        coordinator = clean_text(coordinator, "coordinator")
        decision_ref = clean_text(decision_ref, "decision_ref", missing="write the grant agreement's reference")
        funding_rate = parse_fraction(funding_rate, "funding rate")
        overrides = funding_overrides(funding_rates or {}, funding_rate)
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
        for amount, what in (
            (total, "total eligible budget"),
            (eu_cap, "EU cap"),
            (sme_support_cap, "cap per SME"),
            (certificate_threshold, "certificate threshold"),
        ):
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
            funding_rates=overrides,
            certificate_threshold=certificate_threshold,
        )

    def funding_rate_of(self, category: str) -> Decimal:
        """The EU funding rate of a cost category (the grant's one rate unless the call sets another)."""
        return self.funding_rates.get(category, self.funding_rate)

    def set_reporting_periods(self, *, actor: Actor, periods: list[ReportingPeriod], reason: str, on: date) -> None:
        """Cut the action period into ``periods`` (they must tile it: ledger.periods)."""
        checked = check_periods(periods, self.period_start, self.period_end)
        self.trigger_event(
            self.ReportingPeriodsSet,
            actor=actor,
            effective_date=on,
            periods=list(checked),
            reason=clean_text(reason, "reason", missing="say why, e.g. the grant agreement's reporting schedule"),
        )

    def period_of(self, day: date) -> ReportingPeriod | None:
        """The reporting period ``day`` falls in (None: none set, or outside the action period)."""
        return period_of(self.reporting_periods, day)

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
