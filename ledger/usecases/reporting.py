"""Use cases of reporting to the EU: the reporting periods that tile the action period."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ledger.actors import Actor, Role, require_role
from ledger.periods import ReportingPeriod
from ledger.usecases.close import CloseCases
from ledger.usecases.core import Outcome


class ReportingCases(CloseCases):
    """Reporting periods, and (``CloseCases``) the close of each partner's statement per period."""

    def set_reporting_periods(
        self, *, actor: Actor, periods: Sequence[tuple[date, date]], reason: str, on: date
    ) -> tuple[ReportingPeriod, ...]:
        """The coordinator cuts the action period into consecutive reporting periods, given as
        (first day, last day) in order; they are numbered from 1. Setting the same periods
        again records nothing."""
        require_role(actor, "set the reporting periods", Role.COORDINATOR)
        self._not_future((on, "the date of the reporting schedule"))
        wanted = [ReportingPeriod(number, start, end) for number, (start, end) in enumerate(periods, start=1)]

        def decide() -> Outcome[tuple[ReportingPeriod, ...]]:
            grant = self.grant()
            if list(grant.reporting_periods) == wanted:
                return grant.reporting_periods, []
            self._require_no_closed_statement(grant)
            grant.set_reporting_periods(actor=actor, periods=wanted, reason=reason, on=on)
            return grant.reporting_periods, [grant]

        return self._write(decide)
