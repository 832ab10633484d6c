"""Period close: a partner's statement is locked, signed, sent back and submitted; while it is
locked nothing dated in its period can be charged to the partner's budget (invariant 9), and an
own cost of a closed period is declared later as an adjustment."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import date, timedelta
from uuid import UUID

import pytest

from ledger.application import GrantLedger
from ledger.budget import BudgetLine
from ledger.cost import Cost
from ledger.errors import InvalidInput, NotAllowed, NotFound
from ledger.statement import PeriodLocked, Statement, StatementState, StatementStep, statement_digest
from ledger.storage import open_ledger
from tests.builders import (
    COORDINATOR,
    PARTNERS,
    PERIOD_END,
    PERIOD_START,
    eur,
    eur_line,
    officer,
    open_mission,
    selected_sme,
    sign_alliance,
    submit,
)

FIRST_END = date(2022, 8, 31)
SECOND_START = FIRST_END + timedelta(days=1)
PERIODS = [(PERIOD_START, FIRST_END), (SECOND_START, PERIOD_END)]
POINTEX = officer("POINTEX")
AFTER_FIRST = date(2022, 10, 3)
CONTENT = {"partner": "POINTEX", "period": "1", "total": "100.00"}


def cost(app: GrantLedger, on: date, amount: str = "100.00", declared_on: date | None = None) -> UUID:
    return app.record_cost(
        actor=POINTEX,
        cost_id=uuid.uuid4(),
        partner="POINTEX",
        category="PERSONNEL",
        amount=eur(amount),
        document_ref=f"PAY-{uuid.uuid4().hex[:8]}",
        description="salary",
        on=on,
        declared_on=declared_on,
    )


def ready(app: GrantLedger) -> None:
    sign_alliance(app)
    app.set_reporting_periods(actor=COORDINATOR, periods=PERIODS, reason="GA Annex 1", on=PERIOD_START)


def lock(app: GrantLedger, partner: str = "POINTEX", number: int = 1, on: date = AFTER_FIRST) -> None:
    app.lock_statement(actor=officer(partner), partner=partner, number=number, reason="", on=on)


def sign(app: GrantLedger, partner: str = "POINTEX", number: int = 1) -> str:
    position = app.recorder.max_notification_id() or 0
    return app.sign_statement(
        actor=officer(partner),
        partner=partner,
        number=number,
        content={**CONTENT, "partner": partner},
        position=position,
        seal="ab" * 32,
        on=AFTER_FIRST,
    )


def head(app: GrantLedger) -> int:
    return app.recorder.max_notification_id() or 0


class TestTheWorkflow:
    def test_lock_sign_submit(self, memory_app: GrantLedger) -> None:
        ready(memory_app)
        for partner in PARTNERS:
            lock(memory_app, partner.code)
            digest = sign(memory_app, partner.code)
            assert digest == statement_digest({**CONTENT, "partner": partner.code})
        memory_app.submit_period(actor=COORDINATOR, number=1, on=AFTER_FIRST, reason="periodic report 1")
        statement = memory_app.statement("POINTEX", 1)
        assert statement is not None
        assert statement.state is StatementState.SUBMITTED
        assert statement.signer == POINTEX.id
        assert statement.content == CONTENT
        assert statement.digest == statement_digest(CONTENT)
        kinds = [type(e).__name__ for e in memory_app.events.get(statement.id)]
        assert kinds == ["Started", "Locked", "Signed", "Submitted"]
        assert all(isinstance(e, Statement.Event) and e.actor.id for e in memory_app.events.get(statement.id))
        line = memory_app.budget_line("POINTEX", "TRAVEL")
        assert line.submitted_periods == (1,)

    def test_a_statement_not_locked_is_draft_and_cannot_be_signed(self, memory_app: GrantLedger) -> None:
        ready(memory_app)
        assert memory_app.statement("POINTEX", 1) is None
        before = head(memory_app)
        with pytest.raises(StatementStep, match=r"in draft.*lock it for review first"):
            sign(memory_app)
        assert head(memory_app) == before

    def test_a_period_is_locked_only_after_it_ends(self, memory_app: GrantLedger) -> None:
        ready(memory_app)
        with pytest.raises(StatementStep, match="from 2022-09-01; the date given is 2022-08-31"):
            lock(memory_app, on=FIRST_END)
        assert memory_app.statement("POINTEX", 1) is None

    def test_only_its_officers_lock_and_sign(self, memory_app: GrantLedger) -> None:
        ready(memory_app)
        with pytest.raises(NotAllowed):
            memory_app.lock_statement(actor=officer("NTT"), partner="POINTEX", number=1, reason="", on=AFTER_FIRST)
        with pytest.raises(NotAllowed):
            memory_app.lock_statement(actor=COORDINATOR, partner="POINTEX", number=1, reason="", on=AFTER_FIRST)
        lock(memory_app)
        with pytest.raises(NotAllowed):
            memory_app.sign_statement(
                actor=officer("NTT"), partner="POINTEX", number=1, content=CONTENT, position=1, seal="x", on=AFTER_FIRST
            )

    def test_an_unknown_period_names_the_periods(self, memory_app: GrantLedger) -> None:
        ready(memory_app)
        with pytest.raises(NotFound, match="no reporting period 3; the periods are: period 1"):
            lock(memory_app, number=3)

    def test_locking_twice_records_nothing(self, memory_app: GrantLedger) -> None:
        ready(memory_app)
        lock(memory_app)
        before = head(memory_app)
        lock(memory_app)
        assert head(memory_app) == before

    def test_submitting_waits_for_every_partner(self, memory_app: GrantLedger) -> None:
        ready(memory_app)
        lock(memory_app)
        sign(memory_app)
        lock(memory_app, "NTT")
        before = head(memory_app)
        with pytest.raises(StatementStep, match=r"not yet signed: NIDV \(in draft\), NTT \(locked for review\)"):
            memory_app.submit_period(actor=COORDINATOR, number=1, on=AFTER_FIRST)
        assert head(memory_app) == before
        with pytest.raises(NotAllowed):
            memory_app.submit_period(actor=POINTEX, number=1, on=AFTER_FIRST)

    def test_the_coordinator_sends_back_with_a_reason(self, memory_app: GrantLedger) -> None:
        ready(memory_app)
        lock(memory_app)
        sign(memory_app)
        with pytest.raises(InvalidInput, match="say why"):
            memory_app.send_back_statement(actor=COORDINATOR, partner="POINTEX", number=1, reason=" ", on=AFTER_FIRST)
        with pytest.raises(NotAllowed):
            memory_app.send_back_statement(actor=POINTEX, partner="POINTEX", number=1, reason="x", on=AFTER_FIRST)
        memory_app.send_back_statement(
            actor=COORDINATOR, partner="POINTEX", number=1, reason="payslip of June missing", on=AFTER_FIRST
        )
        statement = memory_app.statement("POINTEX", 1)
        assert statement is not None
        assert (statement.state, statement.reason, statement.digest) == (
            StatementState.DRAFT,
            "payslip of June missing",
            "",
        )
        cost(memory_app, date(2022, 6, 30))  # the period is open again
        lock(memory_app)
        sign(memory_app)

    def test_a_submitted_statement_is_never_sent_back_or_locked_again(self, memory_app: GrantLedger) -> None:
        ready(memory_app)
        for partner in PARTNERS:
            lock(memory_app, partner.code)
            sign(memory_app, partner.code)
        memory_app.submit_period(actor=COORDINATOR, number=1, on=AFTER_FIRST)
        before = head(memory_app)
        memory_app.submit_period(actor=COORDINATOR, number=1, on=AFTER_FIRST)  # a repeat records nothing
        with pytest.raises(StatementStep, match=r"submitted.*closed"):
            memory_app.send_back_statement(actor=COORDINATOR, partner="POINTEX", number=1, reason="x", on=AFTER_FIRST)
        with pytest.raises(StatementStep, match="submitted"):
            lock(memory_app)
        assert head(memory_app) == before

    def test_periods_are_not_cut_anew_once_a_statement_is_locked(self, memory_app: GrantLedger) -> None:
        ready(memory_app)
        lock(memory_app)
        with pytest.raises(StatementStep, match="cannot be cut anew"):
            memory_app.set_reporting_periods(
                actor=COORDINATOR,
                periods=[(PERIOD_START, date(2022, 2, 28)), (date(2022, 3, 1), PERIOD_END)],
                reason="x",
                on=AFTER_FIRST,
            )

    def test_a_signature_at_a_position_not_yet_written_is_refused(self, memory_app: GrantLedger) -> None:
        ready(memory_app)
        lock(memory_app)
        with pytest.raises(StatementStep, match="after the log's last event"):
            memory_app.sign_statement(
                actor=POINTEX,
                partner="POINTEX",
                number=1,
                content=CONTENT,
                position=head(memory_app) + 5,
                seal="x",
                on=AFTER_FIRST,
            )


class TestTheLockedPeriodRule:
    """Invariant 9, command by command: each is refused with the period named and records nothing."""

    def test_a_cost_dated_in_a_locked_period(self, memory_app: GrantLedger) -> None:
        ready(memory_app)
        lock(memory_app)
        before = head(memory_app)
        with pytest.raises(PeriodLocked, match=r"POINTEX's statement for period 1 .* locked for review.*2022-03-01"):
            cost(memory_app, date(2022, 3, 1))
        assert head(memory_app) == before
        cost(memory_app, date(2022, 9, 1))  # the open period takes it

    def test_other_partners_are_not_locked(self, memory_app: GrantLedger) -> None:
        ready(memory_app)
        lock(memory_app)
        memory_app.record_cost(
            actor=officer("NTT"),
            cost_id=uuid.uuid4(),
            partner="NTT",
            category="PERSONNEL",
            amount=eur("10.00"),
            document_ref="NTT-1",
            description="",
            on=date(2022, 3, 1),
        )

    def test_approvals_payments_and_reversals_dated_in_a_locked_period(self, memory_app: GrantLedger) -> None:
        ready(memory_app)
        mission = open_mission(memory_app)
        paid, unpaid, later = (
            submit(memory_app, mission, selected_sme(memory_app, mission), eur_line("100.00")) for _ in range(3)
        )
        for claim in (paid, unpaid):
            memory_app.approve_claim(actor=POINTEX, claim_id=claim, on=date(2023, 4, 5))
        payment = memory_app.record_payment(
            actor=POINTEX,
            payment_id=uuid.uuid4(),
            claim_id=paid,
            amount=eur("70.00"),
            bank_reference="S",
            on=date(2023, 4, 6),
        )
        lock(memory_app, number=2, on=date(2023, 9, 4))
        before = head(memory_app)
        with pytest.raises(PeriodLocked, match="this reversal is dated 2023-05-01"):
            memory_app.reverse_payment(actor=POINTEX, payment_id=payment, reason="bank return", on=date(2023, 5, 1))
        with pytest.raises(PeriodLocked, match="this approval is dated 2023-06-01"):
            memory_app.approve_claim(actor=POINTEX, claim_id=later, on=date(2023, 6, 1))
        with pytest.raises(PeriodLocked, match="this payment is dated 2023-08-01"):
            memory_app.record_payment(
                actor=POINTEX,
                payment_id=uuid.uuid4(),
                claim_id=unpaid,
                amount=eur("70.00"),
                bank_reference="S",
                on=date(2023, 8, 1),
            )
        assert head(memory_app) == before
        memory_app.approve_claim(actor=POINTEX, claim_id=later, on=date(2023, 9, 5))

    def test_a_transfer_touching_a_locked_partner(self, memory_app: GrantLedger) -> None:
        ready(memory_app)
        lock(memory_app)

        def transfer(on: date) -> None:
            memory_app.transfer_budget(
                actor=COORDINATOR,
                transfer_id=uuid.uuid4(),
                from_partner="NTT",
                from_category="PERSONNEL",
                to_partner="POINTEX",
                to_category="PERSONNEL",
                amount=eur("100.00"),
                decision_ref="CM-3",
                reason="",
                on=on,
            )

        before = head(memory_app)
        with pytest.raises(PeriodLocked, match="this transfer is dated 2022-05-01"):
            transfer(date(2022, 5, 1))
        assert head(memory_app) == before
        transfer(date(2022, 10, 1))

    def test_a_submitted_period_says_how_to_declare_an_adjustment(self, memory_app: GrantLedger) -> None:
        ready(memory_app)
        for partner in PARTNERS:
            lock(memory_app, partner.code)
            sign(memory_app, partner.code)
        memory_app.submit_period(actor=COORDINATOR, number=1, on=AFTER_FIRST)
        with pytest.raises(PeriodLocked, match=r"period 1 .* is submitted for POINTEX.*adjustment"):
            cost(memory_app, date(2022, 6, 30))


class TestAdjustments:
    def test_a_cost_of_a_submitted_period_is_declared_in_the_open_one(self, memory_app: GrantLedger) -> None:
        ready(memory_app)
        lock(memory_app)
        cost_id = cost(memory_app, date(2022, 6, 30), "250.00", declared_on=date(2022, 11, 2))
        recorded = memory_app.cost(cost_id)
        assert (recorded.cost_date, recorded.declared_on, recorded.charged_on) == (
            date(2022, 6, 30),
            date(2022, 11, 2),
            date(2022, 11, 2),
        )
        charges = list(memory_app.events.get(memory_app.budget_line("POINTEX", "PERSONNEL").id))
        assert isinstance(charges[-1], BudgetLine.CostCharged)
        assert charges[-1].effective_date == date(2022, 11, 2)

    def test_an_adjustment_must_be_declared_in_a_later_open_period(self, memory_app: GrantLedger) -> None:
        ready(memory_app)
        before = head(memory_app)
        with pytest.raises(InvalidInput, match="still open for POINTEX"):
            cost(memory_app, date(2022, 6, 30), declared_on=date(2022, 11, 2))
        with pytest.raises(InvalidInput, match="both in period 2"):
            cost(memory_app, date(2022, 10, 30), declared_on=date(2022, 11, 2))
        with pytest.raises(InvalidInput, match="not after the cost date"):
            cost(memory_app, date(2022, 10, 30), declared_on=date(2022, 10, 1))
        assert head(memory_app) == before
        lock(memory_app)
        lock(memory_app, number=2, on=date(2023, 9, 2))
        before = head(memory_app)
        with pytest.raises(PeriodLocked, match="period 2"):
            cost(memory_app, date(2022, 6, 30), declared_on=date(2022, 11, 2))
        assert head(memory_app) == before

    def test_a_version_1_cost_loads_as_declared_in_its_own_period(self, memory_app: GrantLedger) -> None:
        ready(memory_app)
        """Cost.Recorded version 1 had no ``declared_on``: written as an earlier release wrote it,
        it loads upcast, charged on its own date."""
        cost_id = cost(memory_app, date(2022, 3, 1))
        (stored,) = memory_app.recorder.select_events(cost_id)
        state = json.loads(stored.state)
        assert state.pop("class_version") == 2
        del state["declared_on"]
        old = replace(stored, state=json.dumps(state).encode())
        earlier = open_ledger("memory://")
        earlier.recorder.insert_events([old])
        loaded = earlier.cost(cost_id)
        assert (loaded.declared_on, loaded.charged_on) == (None, date(2022, 3, 1))
        assert isinstance(next(iter(earlier.events.get(cost_id))), Cost.Recorded)


def test_a_statement_record_names_its_partner_and_period(memory_app: GrantLedger) -> None:
    ready(memory_app)
    lock(memory_app)
    statement = memory_app.statement("POINTEX", 1)
    assert isinstance(statement, Statement)
    assert (statement.partner, statement.number, statement.start, statement.end) == (
        "POINTEX",
        1,
        PERIOD_START,
        FIRST_END,
    )
    assert statement.label == "POINTEX's statement for period 1 (2021-09-01 to 2022-08-31)"
