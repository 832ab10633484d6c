"""A state machine of period close: lock, sign, send back and submit statements by any actor in
any order, beside own costs (some as adjustments) and transfers dated anywhere in the action
period. A model predicts every outcome; the invariants prove the locked-period rule
(invariant 9) on the events themselves: no charge to a line is ever dated in a period that was
closed on that line when it was recorded."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TypeVar

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from ledger.actors import Actor
from ledger.application import GrantLedger
from ledger.budget import BudgetLine
from ledger.errors import InvalidInput, LedgerError, NotAllowed
from ledger.grant import OutsideActionPeriod
from ledger.periods import ReportingPeriod
from ledger.statement import PeriodLocked, StatementState, StatementStep
from ledger.storage import open_ledger
from tests.builders import COORDINATOR, PERIOD_END, PERIOD_START, eur, officer, sign_alliance

T = TypeVar("T")
PERIODS = (ReportingPeriod(1, PERIOD_START, date(2022, 8, 31)), ReportingPeriod(2, date(2022, 9, 1), PERIOD_END))
PARTNERS = ("POINTEX", "NTT", "SIIT")  # three of the six are enough to mix them
ALL_PARTNERS = ("TECHTERA", "NTT", "POINTEX", "NIDV", "SIIT", "SYSTEMATIC")
DAYS = (date(2021, 10, 1), date(2022, 3, 15), date(2022, 8, 31), date(2022, 9, 1), date(2023, 2, 1), PERIOD_END)
DECLARED = (date(2022, 8, 1), date(2022, 10, 1), date(2023, 6, 1), date(2023, 9, 1))
LOCK_ON = {1: date(2022, 9, 5), 2: date(2023, 9, 5)}
CONTENT = {"figures": "as shown"}


def period_of(day: date) -> ReportingPeriod | None:
    return next((p for p in PERIODS if day in p), None)


class CloseMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.app: GrantLedger = open_ledger("memory://")
        #: The model: each statement's state, and each partner's PERSONNEL own costs per period charged.
        self.states: dict[tuple[str, int], StatementState] = {}
        self.spent: dict[tuple[str, int], Decimal] = {}

    def teardown(self) -> None:
        self.app.close()

    def state(self, partner: str, number: int) -> StatementState:
        return self.states.get((partner, number), StatementState.DRAFT)

    def closed(self, partner: str, day: date) -> bool:
        period = period_of(day)
        return period is not None and self.state(partner, period.number) is not StatementState.DRAFT

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def attempt(self, expected: type[LedgerError] | None, command: Callable[[], T], *, records: bool = True) -> bool:
        before = self.head()
        if expected is not None:
            with pytest.raises(LedgerError) as refusal:
                command()
            assert type(refusal.value) is expected, f"expected {expected.__name__}, got {refusal.value!r}"
            assert self.head() == before, "a refused command recorded events"
            return False
        command()
        assert (self.head() > before) == records
        return True

    @initialize()
    def sign(self) -> None:
        sign_alliance(self.app)
        self.app.set_reporting_periods(
            actor=COORDINATOR, periods=[(p.start, p.end) for p in PERIODS], reason="GA", on=PERIOD_START
        )

    @rule(partner=st.sampled_from(PARTNERS), day=st.sampled_from(DAYS), declared=st.none() | st.sampled_from(DECLARED))
    def record_cost(self, partner: str, day: date, declared: date | None) -> None:
        expected: type[LedgerError] | None = None
        charged = declared or day
        if declared is not None:
            period, declared_in = period_of(day), period_of(declared)
            if declared <= day:
                expected = InvalidInput
            elif declared_in is None:
                expected = OutsideActionPeriod
            elif period is None or declared_in.number <= period.number or not self.closed(partner, day):
                expected = InvalidInput
        if expected is None and self.closed(partner, charged):
            expected = PeriodLocked
        done = self.attempt(
            expected,
            lambda: self.app.record_cost(
                actor=officer(partner),
                cost_id=uuid.uuid4(),
                partner=partner,
                category="PERSONNEL",
                amount=eur("10.00"),
                document_ref=f"PAY-{uuid.uuid4().hex}",
                description="",
                on=day,
                declared_on=declared,
            ),
        )
        if done:
            declared_in = period_of(charged)
            assert declared_in is not None
            key = (partner, declared_in.number)
            self.spent[key] = self.spent.get(key, Decimal(0)) + Decimal("10.00")

    @rule(source=st.sampled_from(PARTNERS), to=st.sampled_from(PARTNERS), day=st.sampled_from(DAYS))
    def transfer(self, source: str, to: str, day: date) -> None:
        expected: type[LedgerError] | None = None
        if source == to:
            expected = InvalidInput
        elif self.closed(source, day) or self.closed(to, day):
            expected = PeriodLocked
        self.attempt(
            expected,
            lambda: self.app.transfer_budget(
                actor=COORDINATOR,
                transfer_id=uuid.uuid4(),
                from_partner=source,
                from_category="PERSONNEL",
                to_partner=to,
                to_category="PERSONNEL",
                amount=eur("1.00"),
                decision_ref="CM-1",
                reason="",
                on=day,
            ),
        )

    @rule(partner=st.sampled_from(PARTNERS), number=st.sampled_from((1, 2)), own=st.booleans())
    def lock(self, partner: str, number: int, own: bool) -> None:
        actor: Actor = officer(partner) if own else COORDINATOR
        state = self.state(partner, number)
        expected: type[LedgerError] | None = None
        if not own:
            expected = NotAllowed
        elif state in (StatementState.SIGNED, StatementState.SUBMITTED):
            expected = StatementStep
        done = self.attempt(
            expected,
            lambda: self.app.lock_statement(actor=actor, partner=partner, number=number, reason="", on=LOCK_ON[number]),
            records=state is StatementState.DRAFT,
        )
        if done:
            self.states[(partner, number)] = StatementState.LOCKED

    @rule(partner=st.sampled_from(PARTNERS), number=st.sampled_from((1, 2)))
    def sign_statement(self, partner: str, number: int) -> None:
        locked = self.state(partner, number) is StatementState.LOCKED
        done = self.attempt(
            None if locked else StatementStep,
            lambda: self.app.sign_statement(
                actor=officer(partner),
                partner=partner,
                number=number,
                content=CONTENT,
                position=self.head(),
                seal="ab" * 32,
                on=LOCK_ON[number],
            ),
        )
        if done:
            self.states[(partner, number)] = StatementState.SIGNED

    @rule(partner=st.sampled_from(PARTNERS), number=st.sampled_from((1, 2)))
    def send_back(self, partner: str, number: int) -> None:
        can = self.state(partner, number) in (StatementState.LOCKED, StatementState.SIGNED)
        done = self.attempt(
            None if can else StatementStep,
            lambda: self.app.send_back_statement(
                actor=COORDINATOR, partner=partner, number=number, reason="fix it", on=LOCK_ON[number]
            ),
        )
        if done:
            self.states[(partner, number)] = StatementState.DRAFT

    @rule(number=st.sampled_from((1, 2)), everyone=st.booleans())
    def submit(self, number: int, everyone: bool) -> None:
        """Sometimes every other partner signs first (the six must all sign), then the coordinator submits."""
        if everyone:
            for partner in ALL_PARTNERS:
                if partner in PARTNERS:
                    continue
                if self.state(partner, number) is StatementState.DRAFT:
                    self.app.lock_statement(
                        actor=officer(partner), partner=partner, number=number, reason="", on=LOCK_ON[number]
                    )
                    self.app.sign_statement(
                        actor=officer(partner),
                        partner=partner,
                        number=number,
                        content=CONTENT,
                        position=self.head(),
                        seal="cd" * 32,
                        on=LOCK_ON[number],
                    )
                    self.states[(partner, number)] = StatementState.SIGNED
        states = {self.state(p, number) for p in ALL_PARTNERS}
        submitted = states == {StatementState.SUBMITTED}
        done = self.attempt(
            None if states <= {StatementState.SIGNED} or submitted else StatementStep,
            lambda: self.app.submit_period(actor=COORDINATOR, number=number, on=LOCK_ON[number]),
            records=not submitted,
        )
        if done:
            for partner in ALL_PARTNERS:
                self.states[(partner, number)] = StatementState.SUBMITTED

    @invariant()
    def statements_are_as_modelled(self) -> None:
        if not self.app.recorder.max_notification_id():
            return
        for partner in ALL_PARTNERS:
            for period in PERIODS:
                statement = self.app.statement(partner, period.number)
                recorded = StatementState.DRAFT if statement is None else statement.state
                assert recorded is self.state(partner, period.number), (partner, period.number)

    @invariant()
    def no_charge_is_dated_in_a_period_closed_when_it_was_recorded(self) -> None:
        if not self.app.recorder.max_notification_id():
            return
        for partner in PARTNERS:
            line = self.app.budget_line(partner, "PERSONNEL")
            closed: dict[int, ReportingPeriod] = {}
            spent: dict[int, Decimal] = {}
            for event in self.app.events.get(line.id):
                if isinstance(event, BudgetLine.PeriodClosed):
                    closed[event.period.number] = event.period
                elif isinstance(event, BudgetLine.PeriodReopened):
                    closed.pop(event.number, None)
                elif isinstance(event, BudgetLine.Event) and not isinstance(event, BudgetLine.Opened):
                    assert not any(event.effective_date in p for p in closed.values()), event
                    if isinstance(event, BudgetLine.CostCharged):
                        period = period_of(event.effective_date)
                        assert period is not None
                        spent[period.number] = spent.get(period.number, Decimal(0)) + event.amount.amount
            for period in PERIODS:
                assert spent.get(period.number, Decimal(0)) == self.spent.get((partner, period.number), Decimal(0))


TestCloseMachine = CloseMachine.TestCase
