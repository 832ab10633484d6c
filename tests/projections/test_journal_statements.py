"""hledger as an oracle of the statements: per period and category, `hledger bal -b START -e
END+1day` on the exported journal reproduces each partner's statement's cost figures (own
costs under Expenses:Used:OwnCosts, FSTP under Expenses:Used:Paid; E is computed, not booked)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from ledger.grant import Category
from ledger.reporting import CATEGORY_OF, Column
from ledger.storage import open_ledger
from projections import journal
from projections.db import ReadDatabase
from projections.escaping import account_component
from projections.projector import Projector
from projections.statements import partner_statement
from tests.projections.test_journal import hledger_csv
from tests.projections.test_statement_figures import history
from tests.projections.test_statements import FIRST, SECOND

ROOTS = ("Expenses:Used:OwnCosts", "Expenses:Used:Paid")


def test_hledger_reproduces_the_statements_cost_figures(tmp_path: Path) -> None:
    app = open_ledger("memory://")
    db = ReadDatabase("sqlite://")
    try:
        history(app, Projector(app, db))
        path = tmp_path / "ledger.journal"
        with db.reading() as conn:
            path.write_text(journal.hledger(conn), encoding="utf-8")
        for number, (start, end) in enumerate((FIRST, SECOND), start=1):
            args = ["bal", "-O", "csv", "--no-total", "--flat", "-b", start.isoformat()]
            rows = hledger_csv(path, *args, "-e", (end + timedelta(days=1)).isoformat(), *ROOTS)
            booked: dict[tuple[str, str], Decimal] = {}
            for account, amount in rows:
                parts = account.split(":")
                key = (parts[3], parts[4])  # Expenses:Used:<figure>:PARTNER:CATEGORY[:SME]
                booked[key] = booked.get(key, Decimal(0)) + Decimal(amount.replace("EUR", "").strip() or "0")
            with db.reading() as conn:
                for partner in ("POINTEX", "NTT"):
                    statement = partner_statement(conn, partner, number)
                    assert statement is not None
                    for column in Column:
                        if column == Column.E:
                            continue
                        category = CATEGORY_OF[column]
                        key = (account_component(partner), account_component(category.value))
                        got = booked.get(key, Decimal(0))
                        assert got == statement.figures.costs[column].amount, (number, partner, column, got)
            assert booked.get(("POINTEX", Category.PERSONNEL.value)) == (
                Decimal("1000.00") if number == 1 else Decimal("200.00")
            )
    finally:
        db.close()
        app.close()
