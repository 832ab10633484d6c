"""Period close on the read side: rm_statements follows each statement's workflow, the queries
show every partner of a period (draft when nothing is recorded), a statement's canonical
content is hand-checked, and `verify` recomputes every signed or submitted statement from the
events up to its position (invariant 10), naming the partner, period and figure that differ.
On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from api.cli import main
from ledger.application import GrantLedger
from ledger.statement import StatementState, statement_digest, statement_id
from ledger.storage import open_ledger
from projections import tables as t
from projections.chain import GENESIS, seal_at
from projections.close import statement_row, statement_rows, verify_history
from projections.db import ENV_READ_URL, ReadDatabase, read_url_for
from projections.projector import Projector
from projections.replay import replay_and_compare
from projections.statements import last_position, partner_statement, statement_content
from tests.builders import COORDINATOR, PARTNERS, PERIOD_END, PERIOD_START, eur, officer, sign_alliance
from tests.projections.test_chain import StoredEvents

FIRST_END = date(2022, 8, 31)
PERIODS = [(PERIOD_START, FIRST_END), (FIRST_END + timedelta(days=1), PERIOD_END)]
AFTER_FIRST = date(2022, 10, 3)
POINTEX = officer("POINTEX")


@dataclass
class Books:
    url: str
    app: GrantLedger
    db: ReadDatabase
    projector: Projector

    def cost(self, amount: str, on: date, category: str = "PERSONNEL") -> None:
        self.app.record_cost(
            actor=POINTEX,
            cost_id=uuid.uuid4(),
            partner="POINTEX",
            category=category,
            amount=eur(amount),
            document_ref=f"PAY-{uuid.uuid4().hex[:8]}",
            description="salary",
            on=on,
        )

    def lock(self, partner: str, number: int = 1) -> None:
        self.app.lock_statement(actor=officer(partner), partner=partner, number=number, reason="review", on=AFTER_FIRST)

    def sign(self, partner: str, number: int = 1) -> str:
        """As the reporting service signs: the statement at the read models' head, its content
        and the chain's seal there."""
        self.projector.catch_up()
        with self.db.reading() as conn:
            position = last_position(conn)
            statement = partner_statement(conn, partner, number, position=position)
            assert statement is not None
            content, seal = statement_content(statement), seal_at(conn, position)
        return self.app.sign_statement(
            actor=officer(partner),
            partner=partner,
            number=number,
            content=content,
            position=position,
            seal=seal,
            on=AFTER_FIRST,
        )

    def submit_period_one(self) -> None:
        for partner in PARTNERS:
            self.lock(partner.code)
            self.sign(partner.code)
        self.app.submit_period(actor=COORDINATOR, number=1, on=AFTER_FIRST, reason="periodic report 1")
        self.projector.catch_up()


@pytest.fixture
def books(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Books]:
    """The alliance's grant with two reporting periods and a cost of POINTEX in the first."""
    monkeypatch.delenv(ENV_READ_URL, raising=False)  # the CLI must find the same read models
    app = open_ledger(store_url)
    db = ReadDatabase(read_url_for(store_url, environ={}))
    try:
        sign_alliance(app)
        app.set_reporting_periods(actor=COORDINATOR, periods=PERIODS, reason="GA Annex 1", on=PERIOD_START)
        books = Books(store_url, app, db, Projector(app, db))
        books.cost("1000.00", date(2022, 3, 1))
        books.projector.catch_up()
        yield books
    finally:
        db.close()
        app.close()


class TestTheReadModel:
    def test_every_step_is_shown(self, books: Books) -> None:
        """Locked (by whom), signed (signer, position, seal, digest, the content signed), sent
        back (draft again, with the coordinator's reason), submitted (by the coordinator); the
        other partners of the period are in draft; a rebuild gives the same rows."""
        with books.db.reading() as conn:
            assert statement_row(conn, "POINTEX", 1) is not None
            assert {row.state for row in statement_rows(conn, 1)} == {StatementState.DRAFT}
        books.lock("POINTEX")
        books.projector.catch_up()
        with books.db.reading() as conn:
            row = statement_row(conn, "POINTEX", 1)
            assert row is not None
            assert (row.state, row.locked_by, row.reason, row.changed_on) == (
                StatementState.LOCKED,
                "officer.pointex",
                "review",
                AFTER_FIRST,
            )
            rows = statement_rows(conn, 1)
            assert [r.partner for r in rows] == sorted(p.code for p in PARTNERS)
            assert [r.state for r in rows if r.partner != "POINTEX"] == [StatementState.DRAFT] * (len(PARTNERS) - 1)
            assert (rows[0].start, rows[0].end) == PERIODS[0]
        digest = books.sign("POINTEX")
        books.projector.catch_up()
        with books.db.reading() as conn:
            row = statement_row(conn, "POINTEX", 1)
            assert row is not None
            recomputed = partner_statement(conn, "POINTEX", 1, position=row.position)
            assert recomputed is not None
            assert row.state is StatementState.SIGNED
            assert row.signer == "officer.pointex"
            assert row.digest == digest == statement_digest(row.content)
            assert dict(row.content) == statement_content(recomputed)
            assert row.seal == seal_at(conn, row.position) != GENESIS
        books.app.send_back_statement(
            actor=COORDINATOR, partner="POINTEX", number=1, reason="travel missing", on=AFTER_FIRST
        )
        books.projector.catch_up()
        with books.db.reading() as conn:
            row = statement_row(conn, "POINTEX", 1)
            assert row is not None
            assert (row.state, row.signer, row.digest, row.position, dict(row.content), row.reason) == (
                StatementState.DRAFT,
                "",
                "",
                0,
                {},
                "travel missing",
            )
        books.submit_period_one()
        with books.db.reading() as conn:
            rows = statement_rows(conn, 1)
            assert {(r.state, r.submitted_by) for r in rows} == {(StatementState.SUBMITTED, "claire.coordinator")}
            assert {r.state for r in statement_rows(conn, 2)} == {StatementState.DRAFT}
            assert statement_rows(conn, 3) == []
            assert statement_row(conn, "NOBODY", 1) is None
        report = replay_and_compare(books.app, books.db)
        assert report.identical, report.differences

    def test_the_content_by_hand(self, books: Books) -> None:
        """POINTEX, period 1: A 1,000.00; E 7% of it, 70.00; total 1,070.00; 90% of each column
        requested, 900.00 + 63.00 = 963.00; every other column 0.00; no certificate."""
        with books.db.reading() as conn:
            statement = partner_statement(conn, "POINTEX", 1)
            assert statement is not None
            content = statement_content(statement)
        assert content["partner"] == "POINTEX"
        period = (content["period"], content["period_start"], content["period_end"])
        assert period == ("1", str(PERIOD_START), str(FIRST_END))
        assert content["position"] == str(statement.position)
        assert (content["cost.A"], content["cost.E"], content["cost.D.1"]) == ("1000.00", "70.00", "0.00")
        assert (content["contribution.A"], content["contribution.E"]) == ("900.00", "63.00")
        assert {content[f"rate.{c}"] for c in ("A", "B", "C.1", "C.2", "C.3", "D.1", "E")} == {"0.90"}
        assert (content["total"], content["requested"], content["cumulative_requested"]) == (
            "1070.00",
            "963.00",
            "963.00",
        )
        assert content["certificate_due"] == "no"
        assert len(content) == 5 + 3 * 7 + 5


class TestVerify:
    def test_a_clean_history_verifies(self, books: Books, capsys: pytest.CaptureFixture[str]) -> None:
        """Every partner's statement of period 1 submitted, a cost recorded in period 2 after it:
        each recomputes to the content, digest and seal it was signed with; verify says so."""
        books.submit_period_one()
        books.cost("50.00", date(2022, 11, 2))
        books.projector.catch_up()
        verdict = verify_history(books.app, books.db)
        assert verdict.ok, verdict
        assert (verdict.statements, verdict.statement_problems) == (len(PARTNERS), ())
        assert main(["--database-url", books.url, "verify"]) == 0
        assert f"{len(PARTNERS)} signed or submitted statements recomputed: the same figures" in capsys.readouterr().out

    def test_a_tampered_statement_is_named(self, books: Books, capsys: pytest.CaptureFixture[str]) -> None:
        """POINTEX's signed total rewritten in the event store: verify names POINTEX, period 1,
        the total signed and the total recomputed from the events, and the digest that no longer
        matches; `grantledger verify` exits 1."""
        books.submit_period_one()
        with books.db.reading() as conn:
            audit = t.audit.c
            position = conn.execute(
                select(audit.position).where(
                    audit.aggregate_id == str(statement_id("POINTEX", 1)), audit.event_type == "Signed"
                )
            ).scalar_one()
        stored = StoredEvents(books.url)
        try:
            state = json.loads(stored.row(position)["state"])
            assert state["content"]["total"] == "1070.00"
            state["content"]["total"] = "1170.00"
            stored.update_state(position, json.dumps(state).encode())
        finally:
            stored.close()
        verdict = verify_history(books.app, books.db)
        assert not verdict.ok
        where = "POINTEX's statement for period 1 (submitted"
        assert any(
            where in p and "total signed 1170.00, recomputed from the events 1070.00" in p
            for p in verdict.statement_problems
        ), verdict.statement_problems
        assert any(where in p and "is not the digest of the figures it holds" in p for p in verdict.statement_problems)
        assert all("POINTEX" in p for p in verdict.statement_problems)
        assert main(["--database-url", books.url, "verify"]) == 1
        assert "STATEMENT DIFFERS: POINTEX's statement for period 1" in capsys.readouterr().out
