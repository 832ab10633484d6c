"""The demo's reporting: period 1 submitted in the autumn of 2022 (every partner locked and
signed its statement), one adjustment of it declared afterwards in period 2, period 2 in draft;
a submitted statement recomputed at its position gives the figures it was signed with."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest

from api.demo import DemoSummary, load_demo
from api.demo_data import OFFICERS, PARTNERS, demo_id
from api.demo_reporting import ADJUSTMENT_DECLARED_ON, ADJUSTMENTS, LOCKED_ON, PERIODS, SIGNED_ON, SUBMITTED_ON
from ledger.application import GrantLedger
from ledger.base import LedgerAggregate
from ledger.reporting import COLUMN_OF
from ledger.statement import Statement, StatementState, statement_digest
from ledger.storage import open_ledger
from projections.chain import seal_at
from projections.db import ReadDatabase
from projections.projector import Projector
from projections.statements import partner_statement, statement_content


@dataclass(frozen=True)
class Loaded:
    app: GrantLedger
    summary: DemoSummary
    read_db: ReadDatabase


@pytest.fixture(scope="module")
def demo() -> Iterator[Loaded]:
    """The demo in memory, and its read models projected afresh from its events."""
    app = open_ledger("memory://")
    db = ReadDatabase("sqlite://")
    try:
        summary = load_demo(app)
        Projector(app, db).catch_up()
        yield Loaded(app, summary, db)
    finally:
        db.close()
        app.close()


def submitted(demo: Loaded, partner: str) -> Statement:
    statement = demo.app.statement(partner, 1)
    assert statement is not None, partner
    return statement


class TestPeriods:
    def test_two_periods_period_1_submitted_period_2_in_draft(self, demo: Loaded) -> None:
        """The summary says so, and so does every partner's statement."""
        periods = demo.app.grant().reporting_periods
        assert [(p.start, p.end) for p in periods] == list(PERIODS)
        assert (demo.summary.reporting_periods, demo.summary.submitted_periods) == (2, (1,))
        assert demo.summary.adjustments == len(ADJUSTMENTS) == 1
        assert "2 reporting periods: submitted period 1" in "\n".join(demo.summary.lines())
        for partner in PARTNERS:
            statement = submitted(demo, partner.code)
            assert statement.state is StatementState.SUBMITTED
            assert statement.signer == OFFICERS[partner.code].id
            assert demo.app.statement(partner.code, 2) is None

    def test_the_steps_are_dated_in_the_autumn_after_period_1(self, demo: Loaded) -> None:
        """Each partner's lock, signature and the submission on their dates after the period
        ends, in business-date order with the other commands: everything before the first lock
        is dated before it; everything after the submission is dated after it, but for the
        adjustment's cost (dated in period 1, declared later)."""
        (cost,) = ADJUSTMENTS
        adjustment = demo_id("cost", cost.document_ref)
        events = []
        for notification in demo.app.recorder.select_notifications(0, 100_000, inclusive_of_start=False):
            event = demo.app.mapper.to_domain_event(notification)
            assert isinstance(event, LedgerAggregate.Event)
            events.append(event)
        steps = [i for i, e in enumerate(events) if isinstance(e, Statement.Event)]
        by_step: dict[str, list[date]] = {}
        for i in steps:
            by_step.setdefault(type(events[i]).__name__, []).append(events[i].effective_date)
        assert by_step["Locked"] == [LOCKED_ON] * len(PARTNERS)
        assert by_step["Signed"] == [SIGNED_ON] * len(PARTNERS)
        assert by_step["Submitted"] == [SUBMITTED_ON] * len(PARTNERS)
        assert all(e.effective_date <= LOCKED_ON for e in events[: steps[0]])
        later = [
            e for e in events[steps[-1] + 1 :] if adjustment not in (e.originator_id, getattr(e, "holder_id", None))
        ]
        assert later
        assert all(e.effective_date >= SUBMITTED_ON for e in later)
        assert PERIODS[0][1] < LOCKED_ON < SIGNED_ON < SUBMITTED_ON < ADJUSTMENT_DECLARED_ON


class TestSignedFigures:
    def test_a_submitted_statement_recomputed_at_its_position_is_what_was_signed(self, demo: Loaded) -> None:
        """Invariant 10 on read models rebuilt from the events: the same content, digest and
        seal at the position it was signed at; and the same figures now, the adjustment since
        recorded (it is period 2's)."""
        with demo.read_db.reading() as conn:
            for partner in PARTNERS:
                signed = submitted(demo, partner.code)
                again = partner_statement(conn, partner.code, 1, position=signed.position)
                assert again is not None
                assert statement_content(again) == signed.content, partner.code
                assert statement_digest(signed.content) == signed.digest
                assert seal_at(conn, signed.position) == signed.seal
                now = partner_statement(conn, partner.code, 1)
                assert now is not None
                figures_now = {k: v for k, v in statement_content(now).items() if k != "position"}
                assert figures_now == {k: v for k, v in signed.content.items() if k != "position"}, partner.code

    def test_the_adjustment_is_declared_in_period_2(self, demo: Loaded) -> None:
        """The late cost of period 1 shows apart in its partner's period 2 statement, counted in it."""
        (cost,) = ADJUSTMENTS
        with demo.read_db.reading() as conn:
            second = partner_statement(conn, cost.partner, 2)
        assert second is not None
        assert list(second.adjustments) == [1]
        assert second.adjustments[1][cost.category] == cost.amount
        assert all(a.is_zero for c, a in second.adjustments[1].items() if c != cost.category)
        column = COLUMN_OF[cost.category]
        assert second.figures.costs[column] == second.current[cost.category] + cost.amount
