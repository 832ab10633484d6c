"""What an SME declares and how an officer assesses it: expense lines, per-line decisions,
and the conversion of accepted amounts to EUR (docs/domain.md, "Money and currencies").

Each expense line is converted to EUR with the monthly rate of its expense month and rounded
half up to the cent; the reimbursement is the mission rate times their sum, rounded half up.
Every conversion stores the rate, month and source it used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ledger.errors import InvalidInput
from ledger.money import EUR, Money, money_sum
from ledger.rates import Quote, RateMissing, month_of
from ledger.text import clean_optional, clean_text


@dataclass(frozen=True, slots=True)
class ExpenseLine:
    """One cost an SME declares: what, when, how much (original currency) and its receipt."""

    cost_type: str
    expense_date: date
    amount: Money
    receipt_ref: str
    description: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "cost_type", clean_text(self.cost_type, "lines.cost_type"))
        object.__setattr__(
            self,
            "receipt_ref",
            clean_text(self.receipt_ref, "lines.receipt_ref", missing="the receipt reference is missing"),
        )
        object.__setattr__(self, "description", clean_optional(self.description, "lines.description", multiline=True))


@dataclass(frozen=True, slots=True)
class LineDecision:
    """An officer's decision on one line (numbered from 1): the amount accepted and why."""

    line_no: int
    accepted: Money
    reason: str

    def __post_init__(self) -> None:
        field = f"decisions.reason (line {self.line_no})"
        object.__setattr__(self, "reason", clean_optional(self.reason, field, multiline=True))


@dataclass(frozen=True, slots=True)
class ConvertedLine:
    """A line as assessed: the amount accepted, the rate used (with its month and source),
    the EUR value rounded half up to the cent, and the reason for any reduction."""

    line_no: int
    accepted: Money
    rate: Decimal
    rate_month: str
    rate_source: str
    eur: Money
    reason: str


@dataclass(frozen=True, slots=True)
class Assessment:
    lines: tuple[ConvertedLine, ...]
    eligible_eur: Money
    reimbursement: Money


QuoteLookup = Callable[[str, str], Quote]


def assess(
    lines: Sequence[ExpenseLine],
    decisions: Mapping[int, LineDecision],
    quote_for: QuoteLookup,
    reimbursement_rate: Decimal,
) -> Assessment:
    """Convert each accepted line to EUR, sum, and apply the mission's reimbursement rate.
    Each currency and month is looked up once (lines of one trip share them)."""
    quotes: dict[tuple[str, str], Quote] = {}

    def quote_once(currency: str, month: str) -> Quote:
        if (currency, month) not in quotes:
            quotes[currency, month] = quote_for(currency, month)
        return quotes[currency, month]

    converted = []
    for no, line in enumerate(lines, start=1):
        decision = decisions.get(no)
        accepted = decision.accepted if decision else line.amount
        converted.append(convert(no, line, accepted, decision.reason if decision else "", quote_once))
    eligible = money_sum([c.eur for c in converted])
    return Assessment(tuple(converted), eligible, eligible.times_rate(reimbursement_rate))


def convert(no: int, line: ExpenseLine, accepted: Money, reason: str, quote_for: QuoteLookup) -> ConvertedLine:
    """One line's accepted amount in EUR at the rate of its expense month, half up to the cent."""
    if line.amount.currency == EUR:
        quote = Quote(EUR, month_of(line.expense_date), Decimal(1), "identity")
    else:
        quote = quote_for(line.amount.currency, month_of(line.expense_date))
    return ConvertedLine(no, accepted, quote.rate, quote.month, quote.source, accepted.to_eur(quote.rate), reason)


@dataclass(frozen=True, slots=True)
class MissingRate:
    """A line that cannot be converted yet: no rate is recorded for its currency and month."""

    line_no: int
    currency: str
    month: str


@dataclass(frozen=True, slots=True)
class Estimate:
    """A claim's lines in EUR as they would be assessed now (each converted, or its missing
    rate), and the assessment of them all when every rate is known."""

    lines: tuple[ConvertedLine | MissingRate, ...]
    total: Assessment | None

    @property
    def missing(self) -> tuple[MissingRate, ...]:
        """The missing rates, one per currency and month."""
        seen: dict[tuple[str, str], MissingRate] = {}
        for line in self.lines:
            if isinstance(line, MissingRate):
                seen.setdefault((line.currency, line.month), line)
        return tuple(seen.values())


def estimate(
    lines: Mapping[int, ExpenseLine], known: Callable[[str, str], Quote | None], reimbursement_rate: Decimal
) -> Estimate:
    """The lines (by their number) in EUR at the recorded rates ``known`` gives, by the rule of
    ``assess``; a line whose rate is not recorded is named with what is missing, and then
    there is no total (a missing rate is an error, not a guess)."""

    def quote_for(currency: str, month: str) -> Quote:
        found = known(currency, month)
        if found is None:
            raise RateMissing(f"no {currency} exchange rate is recorded for {month}")
        return found

    shown: list[ConvertedLine | MissingRate] = []
    for no, line in sorted(lines.items()):
        try:
            shown.append(convert(no, line, line.amount, "", quote_for))
        except RateMissing:
            shown.append(MissingRate(no, line.amount.currency, month_of(line.expense_date)))
    complete = bool(shown) and not any(isinstance(line, MissingRate) for line in shown)
    total = assess(list(lines.values()), {}, quote_for, reimbursement_rate) if complete else None
    return Estimate(tuple(shown), total)


def check_decisions(lines: Sequence[ExpenseLine], decisions: Sequence[LineDecision]) -> dict[int, LineDecision]:
    """Per-line decisions must name real lines once, accept 0..claimed, and say why when less."""
    by_no: dict[int, LineDecision] = {}
    for d in decisions:
        if not 1 <= d.line_no <= len(lines):
            raise InvalidInput(f"decision names line {d.line_no}, but the claim has lines 1 to {len(lines)}")
        if d.line_no in by_no:
            raise InvalidInput(f"line {d.line_no} has two decisions; give one per line")
        claimed = lines[d.line_no - 1].amount
        if d.accepted.currency != claimed.currency:
            raise InvalidInput(
                f"line {d.line_no}: accepted amount must be in {claimed.currency}, the currency of the receipt"
            )
        if d.accepted.amount < 0 or d.accepted > claimed:
            raise InvalidInput(
                f"line {d.line_no}: accepted {d.accepted} must be between {Money.zero(claimed.currency)} "
                f"and the claimed {claimed}"
            )
        if d.accepted < claimed and not d.reason.strip():
            raise InvalidInput(
                f"line {d.line_no}: accepting {d.accepted} of the claimed {claimed} needs a reason "
                "(e.g. recoverable VAT, not on the receipt)"
            )
        by_no[d.line_no] = d
    return by_no
