"""A partner's financial statement per reporting period from the read models, by hand: own
costs by their date, FSTP by the value date of payments less reversals, indirect at the flat
rate, FSTP funded at its own rate; as recorded up to a position; on every store."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import event

from ledger.application import GrantLedger
from ledger.grant import Category
from ledger.money import Money
from ledger.periods import ReportingPeriod
from ledger.reporting import Column
from projections.db import ReadDatabase
from projections.projector import Projector
from projections.statements import last_position, partner_statement, period_costs, reporting_terms
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

POINTEX = officer("POINTEX")
FIRST, SECOND = (PERIOD_START, date(2022, 8, 31)), (date(2022, 9, 1), PERIOD_END)


def cost(app: GrantLedger, category: str, amount: str, on: date) -> None:
    app.record_cost(
        actor=POINTEX,
        cost_id=uuid.uuid4(),
        partner="POINTEX",
        category=category,
        amount=eur(amount),
        document_ref=f"INV-{uuid.uuid4().hex[:8]}",
        description="cost",
        on=on,
    )


def pay(app: GrantLedger, claim_id: uuid.UUID, amount: str, on: date) -> uuid.UUID:
    return app.record_payment(
        actor=POINTEX, payment_id=uuid.uuid4(), claim_id=claim_id, amount=eur(amount), bank_reference="SEPA", on=on
    )


def test_two_periods_by_hand(app: GrantLedger, projector: Projector) -> None:
    app.sign_grant(**grant_terms(funding_rates={"FSTP": Decimal("1.00")}))
    app.set_reporting_periods(actor=COORDINATOR, periods=[FIRST, SECOND], reason="GA Annex 1", on=PERIOD_START)
    cost(app, "PERSONNEL", "1000.00", date(2022, 3, 1))
    cost(app, "TRAVEL", "333.33", date(2022, 10, 1))
    mission = open_mission(app)
    claim = submit(app, mission, selected_sme(app, mission), eur_line("1000.00"))
    app.approve_claim(actor=POINTEX, claim_id=claim, on=date(2023, 4, 5))  # 70% of 1,000.00: 700.00
    first = pay(app, claim, "700.00", date(2023, 4, 10))
    projector.catch_up()
    with projector.db.engine.connect() as conn:
        before_the_reversal = last_position(conn)
    app.reverse_payment(actor=POINTEX, payment_id=first, reason="wrong IBAN", on=date(2023, 4, 20))
    pay(app, claim, "700.00", date(2023, 4, 21))
    projector.catch_up()

    with projector.db.engine.connect() as conn:
        terms = reporting_terms(conn)
        assert terms is not None
        assert [p.number for p in terms.periods] == [1, 2]
        assert terms.rates.of(Category.FSTP) == Decimal("1.00")
        one = partner_statement(conn, "POINTEX", 1)
        two = partner_statement(conn, "POINTEX", 2)
        assert one is not None
        assert two is not None
        # period 1: A 1,000.00; E 7% of it 70.00; 90% of each: 900.00 + 63.00
        assert one.figures.costs[Column.A] == eur("1000.00")
        assert one.figures.costs[Column.E] == eur("70.00")
        assert one.figures.total == eur("1070.00")
        assert one.figures.requested == eur("963.00")
        # period 2: C.1 333.33, D.1 700.00 (paid, reversed, paid again), E 7% of 333.33 = 23.33;
        # 90% of 333.33 = 299.997 -> 300.00, 100% of 700.00, 90% of 23.33 = 20.997 -> 21.00
        assert two.figures.costs[Column.C1] == eur("333.33")
        assert two.figures.costs[Column.D1] == eur("700.00")
        assert two.figures.costs[Column.E] == eur("23.33")
        assert two.figures.total == eur("1056.66")
        assert two.figures.requested == eur("1021.00")
        assert two.cumulative_requested == eur("1984.00")
        assert not two.certificate_due
        # as recorded before the reversal: the first payment counted once
        then = partner_statement(conn, "POINTEX", 2, position=before_the_reversal)
        assert then is not None
        assert then.figures.costs[Column.D1] == eur("700.00")
        assert then.position == before_the_reversal
        assert period_costs(conn, "NTT", terms.periods[1])[Category.TRAVEL] == Money.zero()
        assert partner_statement(conn, "POINTEX", 3) is None


def test_periods_set_anew_replace_the_old_ones(app: GrantLedger, projector: Projector) -> None:
    app.sign_grant(**grant_terms())
    app.set_reporting_periods(actor=COORDINATOR, periods=[FIRST, SECOND], reason="GA", on=PERIOD_START)
    app.set_reporting_periods(actor=COORDINATOR, periods=[(PERIOD_START, PERIOD_END)], reason="one", on=PERIOD_START)
    projector.catch_up()
    with projector.db.engine.connect() as conn:
        terms = reporting_terms(conn)
        assert terms is not None
        assert [(p.number, p.start, p.end) for p in terms.periods] == [(1, PERIOD_START, PERIOD_END)]


def test_a_partners_costs_of_a_period_are_found_by_its_own_index(tmp_path: Path) -> None:
    """On SQLite, the query of a partner's costs in a period searches the movements by partner,
    measure and date (ix_rm_budget_movements_costs) instead of reading every partner's movements
    of the period: at a million events that is what makes every partner's statement fast."""
    db = ReadDatabase(f"sqlite:///{tmp_path}/read.db")
    statements: list[tuple[str, tuple[object, ...]]] = []

    def seen(_conn: object, _cursor: object, statement: str, parameters: tuple[object, ...], *_: object) -> None:
        if "rm_budget_movements" in statement:
            statements.append((statement, parameters))

    try:
        event.listen(db.engine, "before_cursor_execute", seen)
        with db.reading() as conn:
            period_costs(conn, "POINTEX", ReportingPeriod(1, *FIRST), position=10)
            assert len(statements) == 1
            statement, parameters = statements[0]
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
    finally:
        db.close()
    assert "USING INDEX ix_rm_budget_movements_costs (partner=? AND measure=? AND effective_date>? AND" in plan
