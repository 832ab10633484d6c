"""Oracle tests: hledger and beancount, on the exported journal, reproduce the read models.

The auditor's own tools compute the balances; we only compare. Per budget line and figure
(allocated, pending, committed, paid, own costs), to the cent, now and as effective on past
business dates (hledger's -e is an exclusive end date, so DATE + 1 day; for beancount we
realize the entries dated on or before DATE).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import data, realization
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from api.demo import load_demo
from bench.workload import Workload
from ledger.application import GrantLedger
from ledger.money import Money
from ledger.storage import open_ledger
from projections import journal, tables
from projections.db import ReadDatabase
from projections.escaping import account_component, journal_text
from projections.projector import Projector
from projections.queries import AsOf, LineFigures, budget_overview
from tests.builders import eur_line, officer, open_mission, selected_sme, sign_alliance, submit
from tests.projections.hostile import PARTNER_ATTACKS, hostile_read_models

REQUIRE_HLEDGER = os.environ.get("GRANTLEDGER_REQUIRE_HLEDGER") == "1"
Balances = dict[str, Decimal]
#: The account tree the journal promises (projections/journal.py, README): each budget-line
#: figure's account, below it the line, and the sign of its balance (allocated is a credit).
TREE = {
    "allocated": ("Income:Allocated", -1),
    "pending": ("Equity:Memo:Pending", 1),
    "committed": ("Expenses:Used:Committed", 1),
    "paid": ("Expenses:Used:Paid", 1),
    "spent": ("Expenses:Used:OwnCosts", 1),
    "remaining": ("Assets:Remaining", 1),
}
REQUESTED = "Equity:Memo:Requested"


def line_of(root: str, line: LineFigures) -> str:
    return f"{root}:{account_component(line.partner)}:{account_component(line.category)}"


def expected(db: ReadDatabase, on: date | None = None) -> Balances:
    """The read models' figures (GET /budget's) as booked (the indirect costs are computed, not
    booked), as the journal's line accounts, with their signs (zero figures left out, as the
    tools do)."""
    with db.reading() as conn:
        overview = budget_overview(conn, AsOf(effective=on))
    if overview is None:
        return {}
    figures = {}
    for line in overview.booked():
        for measure, (root, sign) in TREE.items():
            value = getattr(line, measure)
            if value:
                figures[line_of(root, line)] = sign * value
    return figures


def lines(balances: Balances) -> Balances:
    """The tools' balances of every account summed up to its budget line's account (an SME's
    account below its line's); accounts outside the figures' trees (Requested) left out."""
    summed: Balances = {}
    for account, amount in balances.items():
        for root, _ in TREE.values():
            if account.startswith(root + ":"):
                line = ":".join(account.split(":")[: root.count(":") + 3])
                summed[line] = summed.get(line, Decimal(0)) + amount
    return {account: amount for account, amount in summed.items() if amount}


def hledger_csv(path: Path, *args: str) -> list[list[str]]:
    """An hledger report on the journal at ``path`` as CSV rows (without the header)."""
    hledger = shutil.which("hledger")
    if hledger is None:
        message = "hledger is not installed (apt-get install hledger; .ci/run installs it)"
        if REQUIRE_HLEDGER:
            pytest.fail(message)
        pytest.skip(message)
    done = subprocess.run([hledger, "-f", str(path), *args], capture_output=True, text=True, check=True, timeout=120)
    return list(csv.reader(io.StringIO(done.stdout)))[1:]


def hledger_accounts(path: Path, on: date | None = None, depth: int | None = None) -> Balances:
    """`hledger bal` of every account (with ``depth``: totals of the accounts at that depth), as CSV."""
    args = ["bal", "-O", "csv", "--no-total", "--flat"]
    if on is not None:
        args += ["-e", (on + timedelta(days=1)).isoformat()]
    if depth is not None:
        args += ["--depth", str(depth)]
    balances = {}
    for account, amount in hledger_csv(path, *args):
        value = Decimal(amount.replace("EUR", "").strip() or "0")
        if value:
            balances[account] = value
    return balances


def by_hledger(path: Path, on: date | None = None) -> Balances:
    """hledger's balances, per budget line account."""
    return lines(hledger_accounts(path, on))


def beancount_accounts(path: Path, on: date | None = None) -> Balances:
    """beancount: load (which checks the journal), keep entries up to the date, realize."""
    entries, errors, _options = loader.load_file(str(path))
    assert not errors, errors[:3]
    if on is not None:
        entries = [e for e in entries if not isinstance(e, data.Transaction) or e.date <= on]
    root = realization.realize(entries)  # type: ignore[no-untyped-call]
    balances = {}
    for account in realization.iter_children(root):  # type: ignore[no-untyped-call]
        for position in account.balance:
            if position.units.number:
                balances[account.account] = Decimal(position.units.number)
    return balances


def by_beancount(path: Path, on: date | None = None) -> Balances:
    """beancount's balances, per budget line account."""
    return lines(beancount_accounts(path, on))


def export(app: GrantLedger, tmp_path: Path) -> tuple[ReadDatabase, Path, Path]:
    db = ReadDatabase("sqlite://")
    Projector(app, db).catch_up()
    with db.reading() as conn:
        hledger_path = tmp_path / "ledger.journal"
        hledger_path.write_text(journal.hledger(conn), encoding="utf-8")
        beancount_path = tmp_path / "ledger.beancount"
        beancount_path.write_text(journal.beancount(conn), encoding="utf-8")
    return db, hledger_path, beancount_path


DEMO_DATES = (date(2021, 9, 1), date(2022, 11, 30), date(2023, 3, 31), date(2023, 6, 30), None)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReadDatabase, Path, Path]:
    """The demo, projected, exported in both formats."""
    app = open_ledger("memory://")
    load_demo(app)
    return export(app, tmp_path_factory.mktemp("journal"))


class TestDemoJournal:
    @pytest.mark.parametrize("on", DEMO_DATES)
    def test_hledger_reproduces_the_budget(self, exported: tuple[ReadDatabase, Path, Path], on: date | None) -> None:
        """hledger's balances equal the read models, now and as effective on past dates."""
        db, hledger_path, _ = exported
        assert by_hledger(hledger_path, on) == expected(db, on)

    @pytest.mark.parametrize("on", DEMO_DATES)
    def test_beancount_reproduces_the_budget(self, exported: tuple[ReadDatabase, Path, Path], on: date | None) -> None:
        """bean-check finds no error and beancount's realization equals the read models."""
        db, _, beancount_path = exported
        assert by_beancount(beancount_path, on) == expected(db, on)

    def test_pending_claims_are_flagged_and_each_money_event_names_its_position(
        self, exported: tuple[ReadDatabase, Path, Path]
    ) -> None:
        """Submissions (pending) carry '!'; every transaction says its position and actor."""
        _, hledger_path, beancount_path = exported
        text = hledger_path.read_text()
        assert " ! Claim Submitted" in text
        headers = [line for line in text.splitlines() if line[:4].isdigit()]
        assert all("position:" in line and "actor:" in line for line in headers)
        assert 'position: "' in beancount_path.read_text()


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10_000), claims=st.integers(1, 25))
def test_random_histories_balance_in_both_tools(
    seed: int, claims: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """For generated histories (claims approved, partly paid, reversed, costs), both tools
    compute the read models' balances to the cent."""
    app = open_ledger("memory://")
    Workload(app, seed=seed).run(claims)
    db, hledger_path, beancount_path = export(app, tmp_path_factory.mktemp("random"))
    want = expected(db)
    assert by_beancount(beancount_path) == want
    assert by_hledger(hledger_path) == want


Hostile = tuple[ReadDatabase, list[journal.Transaction], Path, Path]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Hostile:
    """A ledger whose every free text is hostile (tests/projections/hostile.py), in both formats."""
    db, _ = hostile_read_models()
    directory = tmp_path_factory.mktemp("hostile")
    with db.reading() as conn:
        txs = list(journal.transactions(conn))
        hledger_path = directory / "ledger.journal"
        hledger_path.write_text(journal.hledger(conn), encoding="utf-8")
        beancount_path = directory / "ledger.beancount"
        beancount_path.write_text(journal.beancount(conn), encoding="utf-8")
    return db, txs, hledger_path, beancount_path


def _meant(tx: journal.Transaction) -> tuple[int, str, str, list[tuple[str, Decimal]]]:
    """A transaction as the journal means it: its texts as escaped, its postings."""
    return tx.position, journal_text(tx.narration), journal_text(tx.actor), [(p.account, p.amount) for p in tx.postings]


def units(posting: data.Posting) -> Decimal | None:
    return None if posting.units is None else posting.units.number


class TestHostileText:
    """No free text (actors, partner codes, SME names, reasons, references, descriptions, mission
    codes) adds a line, a posting, a comment or a directive to either journal."""

    def test_the_texts_are_hostile(self, hostile: Hostile) -> None:
        """The journal's actors carry line breaks and quotes, its partner codes are no account
        names (so that the other tests here prove something)."""
        db, txs, _, _ = hostile
        actors = {tx.actor for tx in txs}
        assert any("\n" in actor for actor in actors)
        assert any('"' in actor for actor in actors)
        with db.reading() as conn:
            partners = set(conn.execute(select(tables.budget_lines.c.partner)).scalars())
        assert partners == set(PARTNER_ATTACKS)

    def test_both_tools_reproduce_the_read_models(self, hostile: Hostile) -> None:
        """hledger and beancount compute the read models' balances to the cent."""
        db, _, hledger_path, beancount_path = hostile
        want = expected(db)
        assert len(want) > 20
        assert by_hledger(hledger_path) == want
        assert by_beancount(beancount_path) == want

    def test_hledger_reads_exactly_the_transactions_written(self, hostile: Hostile) -> None:
        """hledger finds each transaction, no code, its description, its comment (position and
        actor tags) and its postings as written; nothing more."""
        _, txs, hledger_path, _ = hostile
        read: dict[str, tuple[str, str, str, list[tuple[str, Decimal]]]] = {}
        for row in hledger_csv(hledger_path, "print", "-O", "csv"):
            txnidx, _, _, _, code, description, comment, account, amount = row[:9]
            read.setdefault(txnidx, (code, description, comment, []))[3].append((account, Decimal(amount)))
        meant = [
            ("", text, f"position:{position}, actor:{actor}", postings)
            for position, text, actor, postings in map(_meant, txs)
        ]
        assert sorted(read.values()) == sorted(meant)

    def test_beancount_reads_exactly_the_transactions_written(self, hostile: Hostile) -> None:
        """beancount finds no error, an open directive per account used and nothing else, and each
        transaction with its narration, position and actor metadata and postings as written."""
        _, txs, _, beancount_path = hostile
        entries, errors, _options = loader.load_file(str(beancount_path))
        assert not errors, errors[:3]
        assert {type(e) for e in entries} == {data.Open, data.Transaction}
        opened = [e.account for e in entries if isinstance(e, data.Open)]
        assert sorted(opened) == sorted({p.account for tx in txs for p in tx.postings})
        read = [
            (int(e.meta["position"]), e.narration, e.meta["actor"], [(p.account, units(p)) for p in e.postings])
            for e in entries
            if isinstance(e, data.Transaction)
        ]
        assert sorted(read) == sorted(map(_meant, txs))


class TestCorrectedValueDate:
    @pytest.mark.parametrize("on", [date(2023, 4, 20), date(2023, 4, 24), date(2023, 4, 25), None])
    def test_both_tools_follow_a_payment_moved_to_its_real_value_date(self, tmp_path: Path, on: date | None) -> None:
        """A payment recorded on 04-20 whose value date is corrected to 04-25: as effective on
        04-20 and 04-24 it is still committed, from 04-25 paid, in both tools as in the read
        models (the correction's movements are two transactions, one per date)."""
        app = open_ledger("memory://")
        sign_alliance(app)
        mission = open_mission(app)
        claim = submit(app, mission, selected_sme(app, mission), eur_line("1000.00"))
        app.approve_claim(actor=officer("POINTEX"), claim_id=claim, on=date(2023, 4, 10))
        payment = app.record_payment(
            actor=officer("POINTEX"),
            payment_id=uuid.uuid4(),
            claim_id=claim,
            amount=Money.eur("300.00"),
            bank_reference="SEPA-1",
            on=date(2023, 4, 20),
        )
        app.correct_payment(actor=officer("POINTEX"), payment_id=payment, value_date=date(2023, 4, 25), reason="bank")
        db, hledger_path, beancount_path = export(app, tmp_path)
        want = expected(db, on)
        paid = {k: v for k, v in want.items() if "Paid" in k}
        assert bool(paid) == (on is None or on >= date(2023, 4, 25)), "the read models move the payment"
        assert by_hledger(hledger_path, on) == want
        assert by_beancount(beancount_path, on) == want
