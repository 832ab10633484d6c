"""The figures of the EU financial statement by hand: an adjustment of an earlier period
declared in a later statement (a correction dated in the later period), the budget overview's
INDIRECT line and EU contribution, the consortium summary with the EU cap, the FSTP report."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from ledger.application import GrantLedger
from ledger.grant import Category
from ledger.money import Money
from ledger.reporting import Column
from projections.consortium import consortium_summary, fstp_report
from projections.projector import Projector
from projections.queries import budget_overview
from projections.statements import last_position, partner_statement
from tests.builders import (
    COORDINATOR,
    PERIOD_START,
    eur,
    eur_line,
    grant_terms,
    open_mission,
    selected_sme,
    submit,
)
from tests.projections.test_statements import FIRST, POINTEX, SECOND, pay

ZERO = Money.zero()


def history(app: GrantLedger, projector: Projector, **terms: object) -> tuple[int, int]:
    """Period 1: PERSONNEL 1,000.00 (2022-03-01), corrected to 1,200.00 on 2022-10-05 (period 2);
    period 2: TRAVEL 333.33, FSTP 700.00 paid, reversed, paid again. The positions before the
    correction and before the reversal."""
    app.sign_grant(**grant_terms(funding_rates={"FSTP": Decimal("1.00")}, **terms))
    app.set_reporting_periods(actor=COORDINATOR, periods=[FIRST, SECOND], reason="GA Annex 1", on=PERIOD_START)
    personnel = uuid.uuid4()
    app.record_cost(
        actor=POINTEX,
        cost_id=personnel,
        partner="POINTEX",
        category="PERSONNEL",
        amount=eur("1000.00"),
        document_ref="PAY-2022-03",
        description="salaries",
        on=date(2022, 3, 1),
    )
    projector.catch_up()
    with projector.db.engine.connect() as conn:
        before_the_correction = last_position(conn)
    app.correct_cost(actor=POINTEX, cost_id=personnel, amount=eur("1200.00"), reason="overtime", on=date(2022, 10, 5))
    app.record_cost(
        actor=POINTEX,
        cost_id=uuid.uuid4(),
        partner="POINTEX",
        category="TRAVEL",
        amount=eur("333.33"),
        document_ref="INV-7",
        description="trip",
        on=date(2022, 10, 1),
    )
    mission = open_mission(app)
    claim = submit(app, mission, selected_sme(app, mission, name="Kobe Robotics KK"), eur_line("1000.00"))
    app.approve_claim(actor=POINTEX, claim_id=claim, on=date(2023, 4, 5))
    first = pay(app, claim, "700.00", date(2023, 4, 10))
    projector.catch_up()
    with projector.db.engine.connect() as conn:
        before_the_reversal = last_position(conn)
    app.reverse_payment(actor=POINTEX, payment_id=first, reason="wrong IBAN", on=date(2023, 4, 20))
    pay(app, claim, "700.00", date(2023, 4, 21))
    projector.catch_up()
    return before_the_correction, before_the_reversal


def test_a_correction_in_a_later_period_is_an_adjustment_declared_there(app: GrantLedger, projector: Projector) -> None:
    before_the_correction, _ = history(app, projector)
    with projector.db.engine.connect() as conn:
        one = partner_statement(conn, "POINTEX", 1)
        two = partner_statement(conn, "POINTEX", 2)
        then = partner_statement(conn, "POINTEX", 2, position=before_the_correction)
    assert one is not None
    assert two is not None
    assert then is not None
    # period 1 keeps what it had: A 1,000.00, E 70.00; 900.00 + 63.00
    assert one.current[Category.PERSONNEL] == eur("1000.00")
    assert one.adjustments == {}
    assert one.figures.total == eur("1070.00")
    assert one.figures.requested == eur("963.00")
    # period 2: its own TRAVEL and FSTP, and +200.00 PERSONNEL of period 1 declared in it
    assert two.current[Category.TRAVEL] == eur("333.33")
    assert two.current[Category.FSTP] == eur("700.00")
    assert two.current[Category.PERSONNEL] == ZERO
    assert two.adjustments == {1: {c: eur("200.00") if c == Category.PERSONNEL else ZERO for c in two.current}}
    # figures over both: A 200.00, C.1 333.33, D.1 700.00, E 7% of 533.33 = 37.3331 -> 37.33;
    # 180.00 + 299.997 -> 300.00 + 700.00 (100%) + 33.597 -> 33.60 = 1,213.60
    assert two.figures.costs[Column.A] == eur("200.00")
    assert two.figures.costs[Column.E] == eur("37.33")
    assert two.figures.total == eur("1270.66")
    assert two.figures.requested == eur("1213.60")
    assert two.cumulative_requested == eur("2176.60")
    # before the correction was recorded, period 2 had no adjustment
    assert then.adjustments == {}
    assert then.figures.costs[Column.A] == ZERO


def test_the_budget_overview_counts_the_indirect_costs(app: GrantLedger, projector: Projector) -> None:
    history(app, projector)
    with projector.db.engine.connect() as conn:
        overview = budget_overview(conn)
    assert overview is not None
    [indirect] = [line for line in overview.partner("POINTEX") if line.category == Category.INDIRECT]
    # 70.00 in period 1, 37.33 in period 2: rounded per period, then added
    assert indirect.spent == Decimal("107.33")
    assert indirect.remaining == indirect.allocated - Decimal("107.33")
    # the statements' requests: 963.00 + 1,213.60 (FSTP at 100%, the rest at 90%)
    assert overview.eu_contribution == Decimal("2176.60")


def test_the_consortium_summary_and_the_eu_cap(app: GrantLedger, projector: Projector) -> None:
    history(app, projector, eu_cap=eur("2000.00"))
    with projector.db.engine.connect() as conn:
        one = consortium_summary(conn, 1)
        two = consortium_summary(conn, 2)
        assert consortium_summary(conn, 3) is None
    assert one is not None
    assert two is not None
    assert [s.partner for s in two.statements] == sorted(s.partner for s in two.statements)
    assert len(two.statements) > 1
    assert one.requested == eur("963.00")
    assert not one.capped
    assert two.totals[Column.A] == eur("200.00")
    assert two.totals[Column.D1] == eur("700.00")
    assert two.total_eligible == eur("1270.66")
    assert two.contribution == eur("1213.60")
    assert two.requested_before == eur("963.00")
    # the EU cap of 2,000.00 leaves 1,037.00 for period 2: the request is capped
    assert two.requested == eur("1037.00")
    assert two.capped
    assert two.cap_remaining == ZERO


def test_the_fstp_report(app: GrantLedger, projector: Projector) -> None:
    _, before_the_reversal = history(app, projector)
    with projector.db.engine.connect() as conn:
        assert fstp_report(conn, 1) == []
        report = fstp_report(conn, 2)
        then = fstp_report(conn, 2, position=before_the_reversal)
        assert fstp_report(conn, 2, partner="NTT") == []
        assert fstp_report(conn, 3) is None
    assert report is not None
    [row] = report
    assert (row.partner, row.legal_name, row.mission_code) == ("POINTEX", "Kobe Robotics KK", "JPN-2023")
    assert row.identifier
    assert row.country
    # 700.00 paid, reversed, paid again: 700.00 in the period and in all
    assert (row.paid, row.cumulative, row.cap) == (eur("700.00"), eur("700.00"), eur("60000.00"))
    assert not row.cap_reached
    assert then is not None
    assert [r.paid for r in then] == [eur("700.00")]


def test_a_cost_declared_later_is_an_adjustment_of_its_period(app: GrantLedger, projector: Projector) -> None:
    """Period 1 locked, an EQUIPMENT cost of 2022-05-02 declared on 2022-11-03: period 1 is as
    locked, period 2 declares it as an adjustment of period 1 and counts it."""
    history(app, projector)
    app.lock_statement(actor=POINTEX, partner="POINTEX", number=1, reason="for review", on=date(2022, 9, 15))
    app.record_cost(
        actor=POINTEX,
        cost_id=uuid.uuid4(),
        partner="POINTEX",
        category="EQUIPMENT",
        amount=eur("500.00"),
        document_ref="INV-LATE",
        description="laptop",
        on=date(2022, 5, 2),
        declared_on=date(2022, 11, 3),
    )
    projector.catch_up()
    with projector.db.engine.connect() as conn:
        one = partner_statement(conn, "POINTEX", 1)
        two = partner_statement(conn, "POINTEX", 2)
    assert one is not None
    assert two is not None
    assert one.figures.costs[Column.C2] == ZERO
    assert one.figures.total == eur("1070.00")
    assert two.current[Category.EQUIPMENT] == ZERO
    assert two.adjustments[1][Category.EQUIPMENT] == eur("500.00")
    assert two.adjustments[1][Category.PERSONNEL] == eur("200.00")
    # E: 7% of 200.00 + 333.33 + 500.00 = 72.3331 -> 72.33
    assert two.figures.costs[Column.C2] == eur("500.00")
    assert two.figures.costs[Column.E] == eur("72.33")
