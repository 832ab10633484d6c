"""The demo's reporting to the EU: two reporting periods; period 1 closed in the autumn of 2022
(every partner's officer locks and signs its statement, the coordinator submits the period);
one cost of period 1 that arrived late, declared afterwards as an adjustment in period 2's
statement; period 2 still in draft.

Signing needs the read models (the figures are signed at an event position, with the chain's
seal there): the steps go through api.reporting with the context the demo is loaded with, or
with read models of its own in memory when it is loaded into a bare application.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import partial
from typing import Protocol

from api import reporting
from api.context import LedgerContext
from api.demo_data import COORDINATOR, OFFICERS, PARTNERS, PERIOD_START, CostPlan, demo_id
from ledger.application import GrantLedger
from ledger.grant import Category
from ledger.money import Money
from projections.db import ReadDatabase
from projections.projector import Projector

#: The two reporting periods (months 1-12 and 13-24), set by the coordinator with the grant.
PERIODS = ((date(2021, 9, 1), date(2022, 8, 31)), (date(2022, 9, 1), date(2023, 8, 31)))
PERIODS_SET_ON = PERIOD_START
#: Period 1 is closed in the autumn after it ends: locked, signed, then submitted.
LOCKED_ON = date(2022, 10, 3)
SIGNED_ON = date(2022, 10, 10)
SUBMITTED_ON = date(2022, 10, 14)
SUBMITTED_PERIOD = 1
REVIEW = "figures of period 1 for review"
#: A cost of period 1 whose invoice came after the period was submitted: an adjustment of
#: period 1, declared in period 2's statement.
ADJUSTMENTS = (
    CostPlan(
        date(2022, 6, 22),
        "SYSTEMATIC",
        Category.TRAVEL,
        Money.eur("640.00"),
        "SYSTEMATIC/TRV/2022-0622",
        "staff travel to Eurosatory, Paris (the invoice arrived after period 1 was submitted)",
    ),
)
ADJUSTMENT_DECLARED_ON = date(2022, 11, 21)


class Schedule(Protocol):
    def add(self, on: date, command: Callable[[], object]) -> None: ...


@contextmanager
def reporting_context(app: GrantLedger, context: LedgerContext | None) -> Iterator[LedgerContext]:
    """``context``, or the application with read models of its own in memory (closed after)."""
    if context is not None:
        yield context
        return
    read_db = ReadDatabase("sqlite://")
    try:
        yield LedgerContext(app, read_db, Projector(app, read_db))
    finally:
        read_db.close()


def schedule_reporting(timeline: Schedule, context: LedgerContext) -> None:
    """Add the reporting steps to the demo's timeline, each on its business date."""
    app = context.app
    timeline.add(
        PERIODS_SET_ON,
        partial(
            app.set_reporting_periods,
            actor=COORDINATOR,
            periods=PERIODS,
            reason="months 1-12 and 13-24, as the grant agreement sets them",
            on=PERIODS_SET_ON,
        ),
    )
    for partner in PARTNERS:
        officer = OFFICERS[partner.code]
        timeline.add(
            LOCKED_ON,
            partial(
                reporting.lock_statement, context, officer, partner.code, SUBMITTED_PERIOD, LOCKED_ON, "for review"
            ),
        )
        timeline.add(
            SIGNED_ON, partial(reporting.sign_statement, context, officer, partner.code, SUBMITTED_PERIOD, SIGNED_ON)
        )
    timeline.add(
        SUBMITTED_ON,
        partial(
            reporting.submit_period,
            context,
            COORDINATOR,
            SUBMITTED_PERIOD,
            SUBMITTED_ON,
            "periodic report 1 to the EU",
        ),
    )
    for cost in ADJUSTMENTS:
        timeline.add(ADJUSTMENT_DECLARED_ON, partial(_record_adjustment, app, cost))


def _record_adjustment(app: GrantLedger, cost: CostPlan) -> None:
    app.record_cost(
        actor=OFFICERS[cost.partner],
        cost_id=demo_id("cost", cost.document_ref),
        partner=cost.partner,
        category=cost.category.value,
        amount=cost.amount,
        document_ref=cost.document_ref,
        description=cost.description,
        on=cost.on,
        declared_on=ADJUSTMENT_DECLARED_ON,
    )


def submitted_periods(app: GrantLedger) -> tuple[int, ...]:
    """The periods whose every statement is submitted."""
    return tuple(
        period.number
        for period in app.grant().reporting_periods
        if all(
            (found := app.statement(p.code, period.number)) is not None and found.state == "submitted" for p in PARTNERS
        )
    )
