"""The journal's account tree reads like the budget overview: every parent total is a figure of
GET /budget (hledger and beancount compute them, we compare), pending never goes below zero,
SME accounts carry the SME's name, and one partner's journal reproduces that partner's lines."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import data
from sqlalchemy import select

from api.demo import load_demo
from ledger.storage import open_ledger
from projections import journal, tables
from projections.db import ReadDatabase
from projections.escaping import account_component
from projections.projector import Projector
from projections.queries import budget_overview
from tests.projections.test_journal import (
    DEMO_DATES,
    REQUESTED,
    TREE,
    beancount_accounts,
    by_beancount,
    by_hledger,
    expected,
    hledger_accounts,
)

Exported = tuple[ReadDatabase, Path, Path]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    """The demo, projected, exported in both formats."""
    app = open_ledger("memory://")
    load_demo(app)
    db = ReadDatabase("sqlite://")
    Projector(app, db).catch_up()
    directory = tmp_path_factory.mktemp("tree")
    with db.reading() as conn:
        (directory / "ledger.journal").write_text(journal.hledger(conn), encoding="utf-8")
        (directory / "ledger.beancount").write_text(journal.beancount(conn), encoding="utf-8")
    return db, directory / "ledger.journal", directory / "ledger.beancount"


class TestParentTotals:
    def test_the_trees_totals_are_the_grand_totals(self, demo: Exported) -> None:
        """hledger's totals at depth 2 and 3: allocated is the grant's total budget, remaining
        the overview's remaining, used = committed + paid + own costs, each one the overview's
        grand total; and allocated = remaining + used."""
        db, hledger_path, _ = demo
        with db.reading() as conn:
            overview = budget_overview(conn)
        assert overview is not None
        total = overview.totals(overview.booked())  # as the journal books them: E is computed
        top = hledger_accounts(hledger_path, depth=2)
        assert -top["Income:Allocated"] == overview.total == total.allocated == Decimal("500000.00")
        assert top["Assets:Remaining"] == total.remaining
        assert top["Expenses:Used"] == total.committed + total.paid + total.spent
        assert -top["Income:Allocated"] == top["Assets:Remaining"] + top["Expenses:Used"]
        used = hledger_accounts(hledger_path, depth=3)
        assert used["Expenses:Used:Committed"] == total.committed
        assert used["Expenses:Used:Paid"] == total.paid
        assert used["Expenses:Used:OwnCosts"] == total.spent
        assert used["Equity:Memo:Pending"] == total.pending == -used[REQUESTED]

    def test_each_partners_totals_are_its_subtotals(self, demo: Exported) -> None:
        """hledger's partner accounts (depth 3) hold each partner's subtotal of allocated and
        remaining, and (depth 4) of committed, paid and own costs."""
        db, hledger_path, _ = demo
        with db.reading() as conn:
            overview = budget_overview(conn)
        assert overview is not None
        three, four = hledger_accounts(hledger_path, depth=3), hledger_accounts(hledger_path, depth=4)
        for subtotal in overview.by_partner(overview.booked()):  # as booked: E is computed
            partner = account_component(subtotal.partner)
            assert -three[f"Income:Allocated:{partner}"] == subtotal.allocated
            assert three.get(f"Assets:Remaining:{partner}", Decimal(0)) == subtotal.remaining
            for measure in ("committed", "paid", "spent"):
                account = f"{TREE[measure][0]}:{partner}"
                assert four.get(account, Decimal(0)) == getattr(subtotal, measure), account


class TestPending:
    def test_pending_and_requests_never_cross_zero(self, demo: Exported) -> None:
        """Walking beancount's entries in date order, no pending line ever goes below zero and
        no SME's request above it (up on submission, down on the decision)."""
        _, _, beancount_path = demo
        entries, errors, _ = loader.load_file(str(beancount_path))
        assert not errors
        running: dict[str, Decimal] = defaultdict(Decimal)
        seen = 0
        for entry in entries:
            if not isinstance(entry, data.Transaction):
                continue
            for posting in entry.postings:
                assert posting.units is not None
                assert posting.units.number is not None
                running[posting.account] += posting.units.number
                if posting.account.startswith(TREE["pending"][0] + ":"):
                    seen += 1
                    assert running[posting.account] >= 0, (entry.date, posting.account)
                if posting.account.startswith(REQUESTED + ":"):
                    assert running[posting.account] <= 0, (entry.date, posting.account)
        assert seen > 50

    @pytest.mark.parametrize("on", DEMO_DATES)
    def test_the_memo_nets_to_zero_and_touches_no_other_tree(self, demo: Exported, on: date | None) -> None:
        """Equity:Memo sums to zero on every date: pending is a memo, not money."""
        _, _, beancount_path = demo
        memo = [v for a, v in beancount_accounts(beancount_path, on).items() if a.startswith("Equity:Memo:")]
        assert sum(memo, Decimal(0)) == 0


class TestSmeAccounts:
    def test_paid_smes_are_named_by_their_legal_name(self, demo: Exported) -> None:
        """Every SME account below Expenses:Used:Paid is the SME's legal name in capitals with the
        start of its record id, one per SME paid."""
        db, hledger_path, _ = demo
        with db.reading() as conn:
            names = dict(conn.execute(select(tables.smes.c.id, tables.smes.c.legal_name)).tuples().all())
            query = select(tables.claims.c.sme_id).where(tables.claims.c.paid > Decimal("0.00")).distinct()
            paid = set(conn.execute(query).scalars())
        shown = {a.split(":")[-1] for a in hledger_accounts(hledger_path) if a.startswith("Expenses:Used:Paid:")}
        assert shown == {journal.sme_component(names[sme], sme) for sme in paid}
        assert "LUMEN-SENSORIK-GMBH-" + next(s for s in paid if names[s] == "Lumen Sensorik GmbH")[:6].upper() in shown

    def test_names_are_cleaned_to_account_names(self) -> None:
        """Accents dropped, anything but letters and digits a hyphen, an empty name 'SME'."""
        sme = "3f9a1c22-0000-4000-8000-000000000001"
        assert journal.sme_component("Société Générale S.A.", sme) == "SOCIETE-GENERALE-S-A-3F9A1C"
        assert journal.sme_component(' =A:B  "x";\n', sme) == "A-B-X-3F9A1C"
        assert journal.sme_component("株式会社", sme) == "SME-3F9A1C"

    def test_two_smes_never_share_an_account(self) -> None:
        """Two SMEs of one name whose ids start alike get their whole ids; another keeps its short name."""
        a, b, c = (f"3f9a1c{n}2-0000-4000-8000-00000000000{n}" for n in (1, 2, 3))
        names = journal.sme_components([(a, "Acme"), (b, "ACME"), (c, "Other")])
        assert len(set(names.values())) == 3
        assert names[a] == "ACME-" + a.replace("-", "").upper()
        assert names[c] == "OTHER-3F9A1C"


class TestOnePartner:
    def test_a_partners_journal_reproduces_its_lines_in_both_tools(self, demo: Exported, tmp_path: Path) -> None:
        """The POINTEX journal (an officer's download) holds POINTEX's lines only, equal to the
        read models in hledger and beancount."""
        db, _, _ = demo
        with db.reading() as conn:
            (tmp_path / "p.journal").write_text(journal.hledger(conn, "POINTEX"), encoding="utf-8")
            (tmp_path / "p.beancount").write_text(journal.beancount(conn, "POINTEX"), encoding="utf-8")
        want = {a: v for a, v in expected(db).items() if a.split(":")[-2] == "POINTEX"}
        assert len(want) > 6
        assert by_hledger(tmp_path / "p.journal") == want
        assert by_beancount(tmp_path / "p.beancount") == want
