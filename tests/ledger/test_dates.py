"""Business dates make sense (docs/domain.md): an expense is not after the claim's submission, a
decision not before it, a payment not before the approval, a reversal not before its payment,
and no business date lies in the future of the application's clock."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from ledger.application import GrantLedger
from ledger.claim import ExpenseLine
from ledger.errors import InvalidInput, LedgerError
from ledger.grant import BeforeTheGrant
from ledger.storage import library_env
from tests.builders import (
    COORDINATOR,
    PERIOD_START,
    eur,
    eur_line,
    grant_terms,
    officer,
    open_mission,
    selected_sme,
    sign_alliance,
    submit,
)

POINTEX = officer("POINTEX")
SUBMITTED_ON = date(2023, 4, 1)  # the builders' submission date
TODAY = date(2023, 4, 10)
Ready = tuple[GrantLedger, uuid.UUID, uuid.UUID]


@contextlib.contextmanager
def refused(app: GrantLedger, message: str, error: type[LedgerError] = InvalidInput) -> Iterator[None]:
    """The command is refused with this message and records nothing."""
    before = app.recorder.max_notification_id()
    with pytest.raises(error, match=message):
        yield
    assert app.recorder.max_notification_id() == before


@pytest.fixture
def japan(memory_app: GrantLedger) -> Ready:
    sign_alliance(memory_app)
    mission = open_mission(memory_app)
    return memory_app, mission, selected_sme(memory_app, mission)


def lines_dated(*days: date) -> list[ExpenseLine]:
    return [eur_line("100.00", day=day) for day in days]


class TestOrderOfDates:
    def test_an_expense_after_the_submission_is_refused_naming_both_dates(self, japan: Ready) -> None:
        app, mission, sme = japan
        with refused(
            app,
            r"^line 2: expense date 2023-04-03 is after the claim's submission date 2023-04-01; "
            "an SME claims costs it already had$",
        ):
            submit(app, mission, sme, *lines_dated(date(2023, 3, 14), date(2023, 4, 3)))
        submit(app, mission, sme, *lines_dated(date(2023, 3, 14), SUBMITTED_ON))  # on the day itself is fine

    @pytest.mark.parametrize("decision", ["rejection", "withdrawal", "approval"])
    def test_a_decision_before_the_submission_is_refused(self, japan: Ready, decision: str) -> None:
        app, mission, sme = japan
        claim = submit(app, mission, sme, eur_line("100.00"))
        day = date(2023, 3, 31)
        decide: dict[str, Callable[[], object]] = {
            "rejection": lambda: app.reject_claim(actor=POINTEX, claim_id=claim, reason="late", on=day),
            "withdrawal": lambda: app.withdraw_claim(actor=POINTEX, claim_id=claim, reason="asked", on=day),
            "approval": lambda: app.approve_claim(actor=POINTEX, claim_id=claim, on=day),
        }
        with refused(
            app,
            f"^{decision} date 2023-03-31 is before the claim's submission date 2023-04-01; "
            "a claim is decided after it is submitted$",
        ):
            decide[decision]()
        app.reject_claim(actor=POINTEX, claim_id=claim, reason="late", on=SUBMITTED_ON)

    def test_a_payment_before_the_approval_and_a_reversal_before_the_payment_are_refused(self, japan: Ready) -> None:
        app, mission, sme = japan
        claim = submit(app, mission, sme, eur_line("100.00"))
        app.approve_claim(actor=POINTEX, claim_id=claim, on=date(2023, 4, 5))

        def pay(on: date) -> uuid.UUID:
            return app.record_payment(
                actor=POINTEX, payment_id=uuid.uuid4(), claim_id=claim, amount=eur("70.00"), bank_reference="S", on=on
            )

        with refused(app, r"payment value date 2023-04-04 is before the claim's approval date 2023-04-05"):
            pay(date(2023, 4, 4))
        payment = pay(date(2023, 4, 7))
        with refused(
            app,
            "^reversal date 2023-04-06 is before the payment's value date 2023-04-07; "
            "a payment is reversed after it was made$",
        ):
            app.reverse_payment(actor=POINTEX, payment_id=payment, reason="bank return", on=date(2023, 4, 6))

    def test_a_cost_correction_before_the_cost_is_refused(self, japan: Ready) -> None:
        app, _mission, _sme = japan
        cost = app.record_cost(
            actor=POINTEX,
            cost_id=uuid.uuid4(),
            partner="POINTEX",
            category="TRAVEL",
            amount=eur("120.00"),
            document_ref="TRV-1",
            description="train",
            on=date(2023, 3, 10),
        )
        with refused(app, "^correction date 2023-03-09 is before the cost's date 2023-03-10"):
            app.correct_cost(actor=POINTEX, cost_id=cost, amount=eur("100.00"), reason="refund", on=date(2023, 3, 9))


class TestNoFutureDates:
    """The application's clock is injectable; every business date is checked against it."""

    def test_the_clock_defaults_to_todays_utc_date_and_can_be_pinned(self) -> None:
        assert GrantLedger(env=library_env("memory://")).today() == datetime.now(UTC).date()
        assert GrantLedger(env=library_env("memory://"), today=lambda: TODAY).today() == TODAY

    def test_every_command_refuses_a_date_after_today(self, japan: Ready) -> None:
        app, mission, sme = japan
        app.today = lambda: TODAY
        tomorrow = date(2023, 4, 11)
        future = f"is in the future \\(today is {TODAY}\\); record what has happened, on the day it happened$"
        claim = submit(app, mission, sme, eur_line("100.00"))
        commands: dict[str, Callable[[], object]] = {
            "the submission date": lambda: app.submit_claim(
                actor=POINTEX,
                claim_id=uuid.uuid4(),
                sme_id=sme,
                mission_id=mission,
                lines=[eur_line("1.00")],
                on=tomorrow,
            ),
            "line 1: expense date": lambda: app.submit_claim(
                actor=POINTEX,
                claim_id=uuid.uuid4(),
                sme_id=sme,
                mission_id=mission,
                lines=[eur_line("1.00", day=tomorrow)],
                on=TODAY,
            ),
            "the approval date": lambda: app.approve_claim(actor=POINTEX, claim_id=claim, on=tomorrow),
            "the rejection date": lambda: app.reject_claim(actor=POINTEX, claim_id=claim, reason="x", on=tomorrow),
            "the withdrawal date": lambda: app.withdraw_claim(actor=POINTEX, claim_id=claim, reason="x", on=tomorrow),
            "the registration date": lambda: app.register_sme(
                actor=POINTEX, sme_id=uuid.uuid4(), legal_name="X", country="IT", identifier="IT1", on=tomorrow
            ),
            "the selection date": lambda: app.select_sme(actor=POINTEX, mission_id=mission, sme_id=sme, on=tomorrow),
            "the cost date": lambda: app.record_cost(
                actor=POINTEX,
                cost_id=uuid.uuid4(),
                partner="POINTEX",
                category="TRAVEL",
                amount=eur("1.00"),
                document_ref="D-1",
                description="x",
                on=tomorrow,
            ),
            "the transfer date": lambda: app.transfer_budget(
                actor=COORDINATOR,
                transfer_id=uuid.uuid4(),
                from_partner="NTT",
                from_category="PERSONNEL",
                to_partner="NTT",
                to_category="TRAVEL",
                amount=eur("1.00"),
                decision_ref="CD-1",
                reason="x",
                on=tomorrow,
            ),
            "the mission's opening date": lambda: app.open_mission(
                actor=COORDINATOR,
                code="CAN-2023",
                country="CA",
                city="Ottawa",
                start=date(2023, 6, 1),
                end=date(2023, 6, 4),
                responsible_partner="NIDV",
                reimbursement_rate=Decimal("0.70"),
                cap_per_sme=eur("2000"),
                eligible_cost_types=["TRAVEL"],
                on=tomorrow,
            ),
        }
        for what, command in commands.items():
            with refused(app, f"^{what} 2023-04-11 {future}"):
                command()
        app.approve_claim(actor=POINTEX, claim_id=claim, on=TODAY)  # today itself is fine
        with refused(app, f"^the payment's value date 2023-04-11 {future}"):
            app.record_payment(
                actor=POINTEX,
                payment_id=uuid.uuid4(),
                claim_id=claim,
                amount=eur("70.00"),
                bank_reference="SEPA-1",
                on=tomorrow,
            )
        payment = app.record_payment(
            actor=POINTEX, payment_id=uuid.uuid4(), claim_id=claim, amount=eur("70.00"), bank_reference="S", on=TODAY
        )
        with refused(app, f"^the reversal date 2023-04-11 {future}"):
            app.reverse_payment(actor=POINTEX, payment_id=payment, reason="bank return", on=tomorrow)

    def test_a_grant_signed_in_the_future_is_refused(self, memory_app: GrantLedger) -> None:
        memory_app.today = lambda: date(2021, 8, 31)
        with refused(memory_app, "^the signing date 2021-09-01 is in the future"):
            sign_alliance(memory_app)


class TestNothingBeforeTheGrant:
    """Once the grant is signed, no business date lies before its first day: the signing date or
    the action period's start, whichever is earlier (an action may start before it is signed)."""

    @pytest.mark.parametrize(
        ("signed_on", "first_day"),
        [(date(2021, 10, 1), date(2021, 9, 1)), (date(2021, 8, 16), date(2021, 8, 16))],
        ids=["signed-after-the-start", "signed-before-the-start"],
    )
    def test_every_command_refuses_a_date_before_the_grant_began(
        self, memory_app: GrantLedger, signed_on: date, first_day: date
    ) -> None:
        """Registering an SME on 0001-01-01, a transfer or a mission opened the day before the
        first day: each refused naming the date, the signing date and the period's start, and
        recording nothing; the first day itself is fine."""
        app = memory_app
        app.sign_grant(**grant_terms(on=signed_on))
        mission = open_mission(app)
        sme = selected_sme(app, mission)
        before = first_day - timedelta(days=1)
        began = (
            f"is before the grant began: it was signed on {signed_on} and its action period starts on "
            f"{PERIOD_START}; nothing in it happens before {first_day}, write a date from then on$"
        )
        claim = submit(app, mission, sme, eur_line("100.00"))
        commands: dict[str, Callable[[date], object]] = {
            "the registration date": lambda on: app.register_sme(
                actor=POINTEX, sme_id=uuid.uuid4(), legal_name="X", country="IT", identifier="IT1", on=on
            ),
            "the selection date": lambda on: app.select_sme(actor=POINTEX, mission_id=mission, sme_id=sme, on=on),
            "the approval date": lambda on: app.approve_claim(actor=POINTEX, claim_id=claim, on=on),
            "the transfer date": lambda on: app.transfer_budget(
                actor=COORDINATOR,
                transfer_id=uuid.uuid4(),
                from_partner="NTT",
                from_category="PERSONNEL",
                to_partner="NTT",
                to_category="TRAVEL",
                amount=eur("1.00"),
                decision_ref="CD-1",
                reason="x",
                on=on,
            ),
            "the mission's opening date": lambda on: app.open_mission(
                actor=COORDINATOR,
                code="CAN-2023",
                country="CA",
                city="Ottawa",
                start=date(2023, 6, 1),
                end=date(2023, 6, 4),
                responsible_partner="NIDV",
                reimbursement_rate=Decimal("0.70"),
                cap_per_sme=eur("2000"),
                eligible_cost_types=["TRAVEL"],
                on=on,
            ),
        }
        for what, command in commands.items():
            for day in (date(1, 1, 1), before):
                with refused(app, f"^{what} {day} {began}", BeforeTheGrant):
                    command(day)
        commands["the transfer date"](first_day)
        commands["the registration date"](first_day)

    def test_signing_itself_is_not_checked_against_an_earlier_signing(self, memory_app: GrantLedger) -> None:
        """Before any grant there is no first day: the signing may be dated before the period."""
        memory_app.sign_grant(**grant_terms(on=date(2021, 8, 2)))
        assert memory_app.grant().period_start == PERIOD_START


class TestRateMonths:
    """InforEuro publishes a month's rate just before the month starts: never further ahead."""

    @pytest.mark.parametrize(("today", "latest"), [(date(2023, 4, 10), "2023-05"), (date(2023, 12, 31), "2024-01")])
    def test_at_most_the_month_after_today(self, memory_app: GrantLedger, today: date, latest: str) -> None:
        """The month after today is recorded; the one after it, and 9999-12, are refused naming
        today and the latest month, and record nothing."""
        app = memory_app
        app.today = lambda: today
        app.record_rate(actor=COORDINATOR, currency="USD", month=latest, rate=Decimal("1.1"))
        year, month = (int(p) for p in latest.split("-"))
        beyond = f"{year + month // 12:04d}-{month % 12 + 1:02d}"
        for too_late in (beyond, "9999-12"):
            with refused(
                app,
                f"^the rate month {too_late} is in the future: rates are published at most a month ahead "
                f"\\(today is {today}, so the latest month is {latest}\\); record a month up to {latest}$",
            ):
                app.record_rate(actor=COORDINATOR, currency="USD", month=too_late, rate=Decimal("1.1"))
