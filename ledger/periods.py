"""Reporting periods: consecutive, non-overlapping spans that tile the action period (e.g.
months 1-12 and 13-24); each partner files a financial statement per period (ledger.reporting)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from ledger.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class ReportingPeriod:
    """Reporting period ``number`` (from 1), from ``start`` to ``end``, both days included."""

    number: int
    start: date
    end: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def __str__(self) -> str:
        return f"period {self.number} ({self.start} to {self.end})"


def check_periods(
    periods: Sequence[ReportingPeriod], action_start: date, action_end: date
) -> tuple[ReportingPeriod, ...]:
    """The periods if they tile the action period: numbered 1, 2, ... in order, the first
    starting on its first day, each the day after the one before ends, the last ending on its
    last day; else InvalidInput saying which period is wrong and what it should be."""
    action = f"the action period {action_start} to {action_end}"
    if not periods:
        raise InvalidInput(f"give at least one reporting period; together they must cover {action}")
    expected_start = action_start
    for index, period in enumerate(periods):
        number = index + 1
        if period.number != number:
            raise InvalidInput(f"reporting periods are numbered 1, 2, ... in order; the {number}. is {period.number}")
        if period.start != expected_start:
            after = (
                "start on the action period's first day" if index == 0 else "start the day after the one before ends"
            )
            raise InvalidInput(
                f"{period} must {after}, {expected_start}: the periods follow each other with no gap or overlap"
            )
        if period.end < period.start:
            raise InvalidInput(f"{period} ends before it starts")
        expected_start = period.end + timedelta(days=1)
    last = periods[-1]
    if last.end != action_end:
        raise InvalidInput(f"the last reporting period must end with {action}, on {action_end}; {last} does not")
    return tuple(periods)


def period_of(periods: Sequence[ReportingPeriod], day: date) -> ReportingPeriod | None:
    """The period ``day`` falls in (None: outside the action period)."""
    return next((period for period in periods if day in period), None)
