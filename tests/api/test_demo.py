"""The demo dataset: the EU-ALLIANCE consortium, loaded through the real application.

The demo must be a ledger the application itself accepted (budget lines summing to the
total, every claim state, several currencies, one bank return), the same every time it is
loaded, refused on a store that already holds events, and projected cleanly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from api.demo import DemoSummary, load_demo
from api.demo_claims import plan_claims
from api.demo_data import (
    DEMO_ACTORS,
    GRANT_CODE,
    MISSIONS,
    PARTNERS,
    PERIOD_END,
    PERIOD_START,
    RATE_SOURCE,
    SMES,
    TOTAL,
    budget,
    demo_id,
    sme_id,
)
from api.views import budget_public
from ledger.actors import Role
from ledger.application import GrantLedger
from ledger.base import LedgerAggregate
from ledger.claim import Claim, ClaimState
from ledger.errors import Refused
from ledger.grant import Category
from ledger.mission import mission_id
from ledger.money import EUR, Money, money_sum
from ledger.storage import open_ledger
from projections.db import ReadDatabase
from projections.projector import Projector
from projections.queries import AsOf, ClaimFilter, budget_overview, claim_detail, list_claims

CURRENCIES = {"USD", "CAD", "JPY", "IDR", "EUR"}


@dataclass(frozen=True)
class Demo:
    app: GrantLedger
    summary: DemoSummary

    def claims(self) -> list[Claim]:
        return [self.app.claim(claim_id) for claim_id in self.summary.claim_ids]


@pytest.fixture(scope="module")
def demo() -> Iterator[Demo]:
    """The demo loaded once into an in-memory store (tests here only read it)."""
    app = open_ledger("memory://")
    try:
        yield Demo(app, load_demo(app))
    finally:
        app.close()


@pytest.fixture(scope="module")
def read_db(demo: Demo) -> Iterator[ReadDatabase]:
    """The demo's read models, projected from its events in an in-memory SQLite database."""
    db = ReadDatabase("sqlite://")
    try:
        Projector(demo.app, db).catch_up()
        yield db
    finally:
        db.close()


def fingerprint(app: GrantLedger, summary: DemoSummary) -> list[object]:
    """Everything a second load must reproduce: claims, budget lines, SMEs and payments."""
    claims = [app.claim(claim_id) for claim_id in summary.claim_ids]
    return [
        [(c.id, c.state, c.requested, c.approved, c.paid, c.payments, c.submitted_on, c.lines) for c in claims],
        [
            (line.partner, line.category, line.allocated, line.committed, line.paid, line.spent)
            for line in (app.budget_line(p.code, c.value) for p in PARTNERS for c in Category)
        ],
        [(s.id, s.identifier, s.missions, s.approved_total) for s in (app.sme(sme_id(p)) for p in SMES)],
        [
            (p.id, p.amount, p.bank_reference, p.value_date, p.reversed)
            for p in (app.payment(UUID(payment)) for c in claims for payment in c.payments)
        ],
    ]


class TestBudget:
    def test_the_budget_lines_sum_to_the_total(self, demo: Demo) -> None:
        """Invariant 1 after the transfers: the lines of the six partners sum to EUR 500,000."""
        lines = [demo.app.budget_line(p.code, c.value) for p in PARTNERS for c in Category]
        assert money_sum([line.allocated for line in lines]) == TOTAL == Money.eur("500000.00")
        assert demo.summary.budget_total == TOTAL
        assert demo.app.grant().code == GRANT_CODE

    def test_indirect_is_seven_percent_of_its_base(self) -> None:
        """INDIRECT is 7% of direct costs excluding subcontracting and FSTP, for every partner."""
        excluded = {Category.SUBCONTRACTING.value, Category.FSTP.value, Category.INDIRECT.value}
        for partner, lines in budget().items():
            base = money_sum([amount for category, amount in lines.items() if category not in excluded])
            assert lines[Category.INDIRECT.value] == base.times_rate(Decimal("0.07")), partner

    def test_no_fstp_line_is_overspent(self, demo: Demo) -> None:
        """Invariant 2: committed plus paid stays within every FSTP line, transfers included."""
        for partner in PARTNERS:
            line = demo.app.budget_line(partner.code, Category.FSTP.value)
            assert line.committed + line.paid <= line.allocated, partner.code

    def test_transfers_and_own_costs_are_recorded(self, demo: Demo) -> None:
        """A few budget transfers and own costs, some of them in foreign currencies."""
        assert demo.summary.transfers >= 2
        assert demo.summary.own_costs >= 3
        spent = money_sum([demo.app.budget_line(p.code, c.value).spent for p in PARTNERS for c in Category])
        assert spent.is_positive


class TestClaims:
    def test_every_claim_state_appears(self, demo: Demo) -> None:
        """Pending, approved, paid, rejected and withdrawn claims are all in the demo."""
        states = Counter(c.state for c in demo.claims())
        assert set(states) == {s.value for s in ClaimState}
        assert dict(states) == {s: n for s, n in demo.summary.claims_by_state.items() if n}

    def test_partly_approved_claims_are_in_the_plan(self) -> None:
        """Some approvals accept less than claimed, each reduced line with its reason."""
        partial = [p for p in plan_claims() if p.decisions]
        assert len(partial) >= 5
        assert all(d.reason.strip() for p in partial for d in p.decisions)
        assert any("VAT" in d.reason for p in partial for d in p.decisions)

    def test_there_are_enough_claims_and_smes(self, demo: Demo) -> None:
        """At least 75 claims and 28 SMEs, each SME with a unique identifier and one or two missions."""
        assert demo.summary.claims == len(demo.summary.claim_ids) >= 75
        assert len(set(demo.summary.claim_ids)) == demo.summary.claims
        smes = [demo.app.sme(sme_id(s)) for s in SMES]
        assert demo.summary.smes == len(smes) >= 28
        assert len({s.identifier for s in smes}) == len(smes)
        assert all(1 <= len(s.missions) <= 2 for s in smes)
        assert len({s.country for s in smes}) >= 5

    def test_every_currency_is_used(self, demo: Demo) -> None:
        """Receipts come in USD, CAD, JPY, IDR and EUR."""
        used = {line.amount.currency for c in demo.claims() for line in c.lines}
        assert used == CURRENCIES
        assert set(demo.summary.currencies) == CURRENCIES

    def test_exactly_one_payment_was_returned_by_the_bank(self, demo: Demo) -> None:
        """One payment is reversed; its claim is approved and unpaid again."""
        plans = [p for p in plan_claims() if p.fate.pays]
        payments = [demo.app.payment(p.payment_id) for p in plans]
        reversed_payments = [p for p in payments if p.reversed]
        assert len(reversed_payments) == demo.summary.reversed_payments == 1
        claim = demo.app.claim(reversed_payments[0].claim_id)
        assert claim.state == ClaimState.APPROVED.value
        assert claim.paid.is_zero
        assert all(p.bank_reference.startswith("SEPA-") for p in payments)

    def test_figures_add_up(self, demo: Demo) -> None:
        """The summary's approved and paid totals are those of the claims, and paid <= approved."""
        claims = demo.claims()
        assert demo.summary.approved == money_sum([c.approved for c in claims if c.approved is not None])
        assert demo.summary.paid == money_sum([c.paid for c in claims if c.paid is not None])
        assert Money.zero(EUR) < demo.summary.paid < demo.summary.approved


class TestDatesAndRates:
    def test_every_event_takes_effect_inside_the_action_period(self, demo: Demo) -> None:
        """Business dates of all events lie between 2021-09-01 and 2023-08-31."""
        notifications = demo.app.recorder.select_notifications(0, 10_000, inclusive_of_start=False)
        assert len(notifications) == demo.summary.events
        for notification in notifications:
            event = demo.app.mapper.to_domain_event(notification)
            assert isinstance(event, LedgerAggregate.Event)
            assert PERIOD_START <= event.effective_date <= PERIOD_END, event

    def test_missions_are_on_their_published_dates(self, demo: Demo) -> None:
        """USA in October 2022, Indonesia early 2023 (3 days), Japan 2023 (4 days), Canada in June 2023."""
        missions = {m.code: demo.app.mission(mission_id(m.code)) for m in MISSIONS}
        assert (missions["USA-2022"].start.year, missions["USA-2022"].start.month) == (2022, 10)
        assert (missions["IDN-2023"].start.year, missions["IDN-2023"].start.month) in {(2023, 1), (2023, 2), (2023, 3)}
        assert (missions["IDN-2023"].end - missions["IDN-2023"].start).days + 1 == 3
        assert (missions["JPN-2023"].end - missions["JPN-2023"].start).days + 1 == 4
        assert (missions["CAN-2023"].start.year, missions["CAN-2023"].start.month) == (2023, 6)
        for mission in missions.values():
            assert mission.reimbursement_rate == Decimal("0.70")
            assert mission.cap_per_sme == Money.eur("2000.00")
            assert mission.eligible_cost_types == sorted(["TRAVEL", "ACCOMMODATION", "REGISTRATION_FEE", "STAND"])

    def test_every_foreign_receipt_is_converted_at_an_illustrative_rate(self, demo: Demo) -> None:
        """Each month and currency used has a recorded rate, labelled as not InforEuro's."""
        for claim in demo.claims():
            for line in claim.lines:
                if line.amount.currency != EUR:
                    quote = demo.app.quote(line.amount.currency, f"{line.expense_date:%Y-%m}")
                    assert quote.source == RATE_SOURCE
        assert "not InforEuro" in RATE_SOURCE


class TestDeterminism:
    def test_two_loads_record_the_same_ledger(self) -> None:
        """Two fresh stores hold the same ids, states, amounts and dates after loading the demo."""
        first, second = open_ledger("memory://"), open_ledger("memory://")
        try:
            summaries = load_demo(first), load_demo(second)
            assert summaries[0] == summaries[1]
            assert fingerprint(first, summaries[0]) == fingerprint(second, summaries[1])
        finally:
            first.close()
            second.close()

    def test_ids_follow_from_readable_names(self, demo: Demo) -> None:
        """Claim ids derive from the mission, the SME identifier and the claim number."""
        plans = plan_claims()
        assert tuple(p.claim_id for p in plans) == demo.summary.claim_ids
        assert plans[0].claim_id == demo_id("claim", plans[0].key)
        assert plans == plan_claims()

    def test_the_actors_are_exposed_for_tokens(self) -> None:
        """A coordinator, an auditor and one officer per partner."""
        roles = Counter(actor.role for actor in DEMO_ACTORS)
        assert roles == {Role.COORDINATOR.value: 1, Role.AUDITOR.value: 1, Role.OFFICER.value: len(PARTNERS)}
        assert {a.partner for a in DEMO_ACTORS if a.role == Role.OFFICER.value} == {p.code for p in PARTNERS}


class TestRefusal:
    def test_a_store_with_events_is_refused_and_nothing_is_recorded(self) -> None:
        """Loading into a store that already holds an event raises Refused and records nothing."""
        app = open_ledger("memory://")
        try:
            officer = next(a for a in DEMO_ACTORS if a.role == Role.OFFICER.value)
            app.record_rate(actor=officer, currency="USD", month="2022-10", rate=Decimal("0.9796"))
            before = app.recorder.max_notification_id()
            with pytest.raises(Refused, match="empty event store"):
                load_demo(app)
            assert app.recorder.max_notification_id() == before == 1
        finally:
            app.close()

    def test_loading_the_demo_twice_is_refused(self, demo: Demo) -> None:
        """A second load into the demo's own store is refused: the demo is for empty stores only."""
        before = demo.app.recorder.max_notification_id()
        with pytest.raises(Refused, match="already holds events"):
            load_demo(demo.app)
        assert demo.app.recorder.max_notification_id() == before


class TestProjection:
    def test_budget_overview_matches_the_ledger(self, demo: Demo, read_db: ReadDatabase) -> None:
        """Every projected budget line equals the ledger's, and the totals are EUR 500,000."""
        with read_db.reading() as conn:
            overview = budget_overview(conn)
        assert overview is not None
        assert len(overview.lines) == len(PARTNERS) * len(Category)
        pending: dict[str, Decimal] = {}
        for claim in demo.claims():
            if claim.state == ClaimState.SUBMITTED.value:
                pending[claim.partner] = pending.get(claim.partner, Decimal(0)) + claim.requested.amount
        for figures in overview.booked():  # as the ledger books them: indirect costs are computed
            line = demo.app.budget_line(figures.partner, figures.category)
            assert (figures.allocated, figures.committed, figures.paid, figures.spent) == (
                line.allocated.amount,
                line.committed.amount,
                line.paid.amount,
                line.spent.amount,
            ), (figures.partner, figures.category)
            expected_pending = pending.get(figures.partner, 0) if figures.category == Category.FSTP.value else 0
            assert figures.pending == expected_pending, (figures.partner, figures.category)
        totals = overview.totals()
        assert overview.total == totals.allocated == TOTAL.amount
        assert totals.paid == demo.summary.paid.amount

    def test_claims_by_state_match_the_summary(self, read_db: ReadDatabase, demo: Demo) -> None:
        """The read model counts the same claims in each state as the ledger."""
        with read_db.reading() as conn:
            counts = {s.value: list_claims(conn, ClaimFilter(state=s.value), limit=0)[1] for s in ClaimState}
        assert counts == dict(demo.summary.claims_by_state)

    def test_decisions_say_why(self, read_db: ReadDatabase, demo: Demo) -> None:
        """Rejections and withdrawals carry a reason; every reduced line carries its own."""
        reduced = 0
        with read_db.reading() as conn:
            for claim_id in demo.summary.claim_ids:
                detail = claim_detail(conn, str(claim_id))
                assert detail is not None
                if detail.claim.state in {ClaimState.REJECTED.value, ClaimState.WITHDRAWN.value}:
                    assert detail.claim.reason.strip()
                for line in detail.lines:
                    if line.accepted is not None and line.accepted < line.amount:
                        reduced += 1
                        assert line.reason.strip()
        assert reduced >= 5


class TestSubtotals:
    """The overview's subtotals per partner and per category, and its grand total, are each the
    sum of their lines: now, as recorded up to a past position, and as effective on a past date."""

    FIGURES = ("allocated", "pending", "committed", "paid", "own_costs", "remaining", "remaining_after_pending")

    @staticmethod
    def amount(row: object, figure: str) -> Decimal:
        money_out = getattr(row, figure)
        assert money_out.currency == EUR
        return Decimal(money_out.amount)

    def total(self, rows: list[Any], figure: str) -> Decimal:
        return sum((self.amount(row, figure) for row in rows), Decimal("0.00"))

    @pytest.mark.parametrize(
        "as_of",
        [AsOf(), AsOf(position=400), AsOf(effective=date(2023, 1, 31))],
        ids=["now", "position-400", "effective-2023-01-31"],
    )
    def test_subtotals_and_the_grand_total_are_sums_of_their_lines(self, read_db: ReadDatabase, as_of: AsOf) -> None:
        """Every figure of each partner's subtotal sums that partner's lines, of each category's
        subtotal that category's lines, and the grand total sums every line (and both sets of
        subtotals); remaining after pending is remaining - pending throughout."""
        with read_db.reading() as conn:
            overview = budget_overview(conn, as_of)
        assert overview is not None
        body = budget_public(overview)
        assert [p.partner for p in body.by_partner] == sorted(p.code for p in PARTNERS)
        assert [c.category for c in body.by_category] == [c.value for c in Category]
        for figure in self.FIGURES:
            for subtotal in body.by_partner:
                lines = [line for line in body.lines if line.partner == subtotal.partner]
                assert self.amount(subtotal, figure) == self.total(lines, figure), (subtotal.partner, figure)
            for category in body.by_category:
                lines = [line for line in body.lines if line.category == category.category]
                assert self.amount(category, figure) == self.total(lines, figure), (category.category, figure)
            grand = self.amount(body.totals, figure)
            assert grand == self.total(body.lines, figure) == self.total(body.by_partner, figure), figure
            assert grand == self.total(body.by_category, figure), figure
        for row in (*body.lines, *body.by_partner, *body.by_category, body.totals):
            assert self.amount(row, "remaining_after_pending") == self.amount(row, "remaining") - self.amount(
                row, "pending"
            )
        assert self.amount(body.totals, "allocated") == TOTAL.amount

    def test_pending_claims_lower_what_remains_after_pending(self, read_db: ReadDatabase, demo: Demo) -> None:
        """The demo has submitted claims: each partner's FSTP line with pending claims shows less
        remaining after pending than remaining, by exactly what is pending."""
        with read_db.reading() as conn:
            overview = budget_overview(conn)
        assert overview is not None
        pending = [line for line in overview.lines if line.pending > 0]
        assert pending, "the demo has claims waiting for a decision"
        for line in pending:
            assert line.category == Category.FSTP.value
            assert line.remaining_after_pending == line.remaining - line.pending < line.remaining
        fstp = next(c for c in overview.by_category() if c.category == Category.FSTP.value)
        assert fstp.pending == sum((line.pending for line in pending), Decimal("0.00")) > 0
