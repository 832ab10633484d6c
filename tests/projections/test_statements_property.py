"""Every partner's statement equals an independent computation from the stored events, for
random histories of own costs in two periods, their corrections (some dated in the later
period: adjustments), and FSTP payments and reversals. The computation below reads the decoded
events (tests.projections.fold.read_log) and does its own sums and rounding: it shares nothing
with projections/ but the column mapping's constants."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.application import GrantLedger
from ledger.errors import InvalidInput, Refused
from ledger.reporting import COLUMN_OF, Column
from ledger.storage import open_ledger
from projections.db import ReadDatabase, read_url_for
from projections.projector import Projector
from projections.statements import partner_statement
from tests.builders import (
    COORDINATOR,
    PERIOD_END,
    PERIOD_START,
    eur,
    eur_line,
    grant_terms,
    officer,
    open_mission,
    selected_sme,
    submit,
)
from tests.projections.fold import read_log
from tests.projections.test_statements import FIRST, SECOND

OWN = ("PERSONNEL", "SUBCONTRACTING", "TRAVEL", "EQUIPMENT", "OTHER_GOODS_SERVICES")
PARTNERS = ("POINTEX", "NTT")
CENT = Decimal("0.01")
DAYS = (PERIOD_END - PERIOD_START).days
#: The grant's terms in this test: 7% flat rate, 90% by default, FSTP at 100%.
FLAT, DEFAULT_RATE, RATES = Decimal("0.07"), Decimal("0.90"), {"FSTP": Decimal("1.00")}

costs = st.lists(
    st.tuples(st.sampled_from(PARTNERS), st.sampled_from(OWN), st.integers(1, 500_000), st.integers(0, DAYS)),
    min_size=1,
    max_size=6,
)
corrections = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 500_000), st.integers(0, DAYS)), max_size=4)
payments = st.lists(st.tuples(st.integers(1, 20_000), st.integers(0, 100), st.booleans()), max_size=3)


def half_up(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, ROUND_HALF_UP)


def expected(app: GrantLedger) -> dict[tuple[str, int], tuple[dict[str, Decimal], dict[int, dict[str, Decimal]]]]:
    """(partner, period) -> (current costs per category, {earlier period: costs per category}),
    from the events: each line's charges by their date, each cost's date from its record."""
    lines: dict[Any, tuple[str, str]] = {}
    cost_dates: dict[Any, date] = {}
    moves: list[tuple[str, str, date, date | None, Decimal]] = []
    for logged in read_log(app):
        e: Any = logged.event
        kind = type(e).__qualname__
        if kind == "BudgetLine.Opened":
            lines[e.originator_id] = (e.partner, e.category)
        elif kind == "Cost.Recorded":
            cost_dates[e.originator_id] = e.effective_date
        elif kind == "BudgetLine.CostCharged":
            moves.append((*lines[e.originator_id], e.effective_date, cost_dates[e.cost_id], e.amount.amount))
        elif kind == "BudgetLine.Paid":
            moves.append((*lines[e.originator_id], e.effective_date, None, e.amount.amount))
        elif kind == "BudgetLine.PaymentReturned":
            moves.append((*lines[e.originator_id], e.effective_date, None, -e.amount.amount))
    periods = {1: FIRST, 2: SECOND}

    def number(day: date) -> int:
        return next(n for n, (start, end) in periods.items() if start <= day <= end)

    out: dict[tuple[str, int], tuple[dict[str, Decimal], dict[int, dict[str, Decimal]]]] = {}
    for partner in PARTNERS:
        for n in periods:
            current: dict[str, Decimal] = defaultdict(Decimal)
            adjustments: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
            for p, category, day, cost_date, amount in moves:
                if p != partner or number(day) != n:
                    continue
                if cost_date is not None and number(cost_date) < n:
                    adjustments[number(cost_date)][category] += amount
                else:
                    current[category] += amount
            out[partner, n] = (dict(current), {m: dict(c) for m, c in adjustments.items()})
    return out


def figures(direct: dict[str, Decimal]) -> tuple[dict[Column, Decimal], Decimal]:
    """The columns (E computed, half up) and the contribution (per column at its rate, half up)."""
    base = sum((amount for c, amount in direct.items() if c not in ("SUBCONTRACTING", "FSTP")), Decimal(0))
    by_category = {**direct, "INDIRECT": half_up(base * FLAT)}
    contribution = sum((half_up(a * RATES.get(c, DEFAULT_RATE)) for c, a in by_category.items()), Decimal(0))
    columns = {column: Decimal(0) for column in Column}
    for category, amount in by_category.items():
        columns[next(col for cat, col in COLUMN_OF.items() if cat.value == category)] += amount
    return columns, contribution


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(costs=costs, corrections=corrections, payments=payments)
def test_every_statement_equals_the_events(
    costs: list[tuple[str, str, int, int]],
    corrections: list[tuple[int, int, int]],
    payments: list[tuple[int, int, bool]],
) -> None:
    app = open_ledger("memory://")
    db = ReadDatabase(read_url_for("memory://", environ={}))
    try:
        app.sign_grant(**grant_terms(funding_rates=RATES))
        app.set_reporting_periods(actor=COORDINATOR, periods=[FIRST, SECOND], reason="GA", on=PERIOD_START)
        recorded = []
        for partner, category, cents, day in costs:
            cost_id, on = uuid.uuid4(), PERIOD_START + timedelta(days=day)
            app.record_cost(
                actor=officer(partner),
                cost_id=cost_id,
                partner=partner,
                category=category,
                amount=eur(str(Decimal(cents) / 100)),
                document_ref=f"INV-{cost_id.hex[:8]}",
                description="cost",
                on=on,
            )
            recorded.append((partner, cost_id, on))
        for index, cents, day in corrections:
            partner, cost_id, on = recorded[index % len(recorded)]
            when = min(PERIOD_END, on + timedelta(days=day))
            try:
                app.correct_cost(
                    actor=officer(partner),
                    cost_id=cost_id,
                    amount=eur(str(Decimal(cents) / 100)),
                    reason="fix",
                    on=when,
                )
            except (InvalidInput, Refused):
                continue  # the cost is that amount already: nothing recorded
        if payments:
            mission = open_mission(app)
            claim = submit(app, mission, selected_sme(app, mission), eur_line("2000.00"))
            app.approve_claim(actor=officer("POINTEX"), claim_id=claim, on=date(2023, 4, 5))  # 1,400.00
            for cents, day, reversed_ in payments:
                on = date(2023, 4, 10) + timedelta(days=day)
                try:
                    paid = app.record_payment(
                        actor=officer("POINTEX"),
                        payment_id=uuid.uuid4(),
                        claim_id=claim,
                        amount=eur(str(Decimal(cents) / 100)),
                        bank_reference="SEPA",
                        on=on,
                    )
                except (InvalidInput, Refused):
                    continue  # more than is outstanding: nothing recorded
                if reversed_:
                    app.reverse_payment(
                        actor=officer("POINTEX"), payment_id=paid, reason="returned", on=on + timedelta(days=3)
                    )
        Projector(app, db).catch_up()
        want = expected(app)
        with db.engine.connect() as conn:
            for (partner, n), (current, adjustments) in want.items():
                statement = partner_statement(conn, partner, n)
                assert statement is not None
                got_current = {c.value: a.amount for c, a in statement.current.items() if a.amount}
                assert got_current == {c: a for c, a in current.items() if a}, (partner, n)
                got_adjustments = {
                    m: {c.value: a.amount for c, a in costs.items() if a.amount}
                    for m, costs in statement.adjustments.items()
                }
                want_adjustments = {m: {c: a for c, a in costs.items() if a} for m, costs in adjustments.items()}
                assert {m: c for m, c in got_adjustments.items() if c} == {
                    m: c for m, c in want_adjustments.items() if c
                }, (partner, n)
                assert all(m < n for m in statement.adjustments), "an adjustment is of an earlier period"
                direct: dict[str, Decimal] = defaultdict(Decimal)
                for costs_ in (current, *adjustments.values()):
                    for c, a in costs_.items():
                        direct[c] += a
                columns, contribution = figures(dict(direct))
                for column, amount in columns.items():
                    assert statement.figures.costs[column].amount == amount, (partner, n, column)
                assert statement.figures.contribution.amount == contribution, (partner, n)
    finally:
        db.close()
        app.close()
