"""Corrections of records: each is a new event naming what it corrects, with its actor, its
reason and its business date; a correction that changes nothing, or breaks a date rule, is
refused and records nothing."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest

from ledger.application import GrantLedger
from ledger.claim import ExpenseLine
from ledger.errors import InvalidInput, NotAllowed, NothingToCorrect
from ledger.grant import OutsideActionPeriod
from ledger.money import Money
from ledger.payment import Payment, UnknownPayment
from ledger.rates import ExchangeRate, RateMissing, rate_id
from ledger.sme import Sme, UnknownSme
from tests.builders import AUDITOR, COORDINATOR, eur, officer, open_mission, selected_sme, sign_alliance, submit

POINTEX = officer("POINTEX")
APPROVED_ON, PAID_ON, REVERSED_ON = date(2023, 4, 5), date(2023, 4, 20), date(2023, 5, 2)


@contextlib.contextmanager
def records_nothing(app: GrantLedger) -> Iterator[None]:
    before = app.recorder.max_notification_id()
    yield
    assert app.recorder.max_notification_id() == before


def last_event(app: GrantLedger, aggregate_id: uuid.UUID) -> object:
    return list(app.events.get(aggregate_id))[-1]


@pytest.fixture
def paid(app: GrantLedger) -> tuple[GrantLedger, uuid.UUID, uuid.UUID]:
    """A JPY claim of POINTEX approved on 5 April 2023 and paid EUR 700.00 on 20 April;
    returns the app, the SME and the payment."""
    sign_alliance(app)
    mission = open_mission(app)
    sme = selected_sme(app, mission, name="Tessuti Avanzati S.r.l.")
    app.record_rate(actor=POINTEX, currency="JPY", month="2023-03", rate=Decimal("142.35"))
    claim = submit(app, mission, sme, ExpenseLine("TRAVEL", date(2023, 3, 1), Money.of("142350", "JPY"), "J1", ""))
    app.approve_claim(actor=POINTEX, claim_id=claim, on=APPROVED_ON)
    payment_id = uuid.uuid4()
    app.record_payment(
        actor=POINTEX, payment_id=payment_id, claim_id=claim, amount=eur("700.00"), bank_reference="SEPA-1", on=PAID_ON
    )
    return app, sme, payment_id


class TestRateCorrection:
    def test_a_correction_names_the_version_it_corrects_who_and_why(self, app: GrantLedger) -> None:
        """The event carries the new rate, the version it corrects, the reason and the actor;
        quotes give the new rate from then on."""
        app.record_rate(actor=POINTEX, currency="USD", month="2023-02", rate=Decimal("1.0715"))
        app.correct_rate(
            actor=COORDINATOR, currency="USD", month="2023-02", rate=Decimal("1.0751"), reason="digits swapped"
        )
        event = last_event(app, rate_id("USD", "2023-02"))
        assert isinstance(event, ExchangeRate.Corrected)
        assert (event.rate, event.corrects_version, event.reason, event.actor) == (
            Decimal("1.0751"),
            1,
            "digits swapped",
            COORDINATOR,
        )
        assert event.effective_date == date(2023, 2, 1)
        assert app.quote("USD", "2023-02").rate == Decimal("1.0751")

    def test_refusals_record_nothing(self, app: GrantLedger) -> None:
        """An auditor may not; a rate not recorded cannot be corrected (409); the same rate and
        source is nothing to correct (409); a missing reason, EUR or a bad month is invalid (422)."""
        app.record_rate(actor=POINTEX, currency="USD", month="2023-02", rate=Decimal("1.0715"))
        refusals: list[tuple[type[Exception], str, dict[str, object]]] = [
            (NotAllowed, "auditor", {"actor": AUDITOR}),
            (RateMissing, "no USD rate is recorded for 2023-03, so there is nothing to correct", {"month": "2023-03"}),
            (NothingToCorrect, r"already 1\.0715 \(InforEuro\)", {"rate": Decimal("1.0715")}),
            (InvalidInput, "a rate correction needs a reason", {"reason": "  "}),
            (InvalidInput, "EUR needs no exchange rate", {"currency": "EUR"}),
            (InvalidInput, "YYYY-MM", {"month": "2023-2"}),
            (InvalidInput, "must be positive", {"rate": Decimal(0)}),
        ]
        for error, message, change in refusals:
            command: dict[str, object] = {
                "actor": POINTEX,
                "currency": "USD",
                "month": "2023-02",
                "rate": Decimal("1.0751"),
                "reason": "typo",
            } | change
            with records_nothing(app), pytest.raises(error, match=message):
                app.correct_rate(**command)  # type: ignore[arg-type]

    def test_a_new_source_with_the_same_rate_is_a_correction(self, app: GrantLedger) -> None:
        """Only a correction that changes neither the rate nor its source is refused."""
        app.record_rate(actor=POINTEX, currency="CAD", month="2023-06", rate=Decimal("1.4414"))
        app.correct_rate(
            actor=POINTEX, currency="CAD", month="2023-06", rate=Decimal("1.4414"), source="ECB", reason="source"
        )
        assert app.quote("CAD", "2023-06").source == "ECB"


class TestSmeCorrection:
    def test_the_name_and_country_change_and_the_identifier_stays(
        self, paid: tuple[GrantLedger, uuid.UUID, uuid.UUID]
    ) -> None:
        app, sme_id, _ = paid
        identifier = app.sme(sme_id).identifier
        app.correct_sme_registration(
            actor=COORDINATOR,
            sme_id=sme_id,
            legal_name="  Tessuti Avanzati S.p.A. ",
            country="FR",
            reason="chamber of commerce extract",
            on=date(2023, 1, 10),
        )
        sme = app.sme(sme_id)
        assert (sme.legal_name, sme.country, sme.identifier) == ("Tessuti Avanzati S.p.A.", "FR", identifier)
        event = last_event(app, sme_id)
        assert isinstance(event, Sme.RegistrationCorrected)
        assert (event.reason, event.actor, event.effective_date) == (
            "chamber of commerce extract",
            COORDINATOR,
            date(2023, 1, 10),
        )
        assert sme.approved_total == eur("700.00"), "the support approved stays with the SME"

    @pytest.mark.parametrize(
        ("error", "message", "change"),
        [
            (NotAllowed, "auditor", {"actor": AUDITOR}),
            (UnknownSme, "there is no SME", {"sme_id": uuid.UUID(int=7)}),
            (NothingToCorrect, "already registered as 'Tessuti Avanzati S.r.l.' in IT", {"legal_name": None}),
            (InvalidInput, "before the SME's registration on 2022-12-05", {"on": date(2022, 12, 4)}),
            (InvalidInput, "a correction of a registration needs a reason", {"reason": ""}),
            (InvalidInput, "ISO 3166 alpha-2", {"country": "Italy"}),
            (InvalidInput, "an SME needs its legal name", {"legal_name": " "}),
            (InvalidInput, "in the future", {"on": date.today() + timedelta(days=1)}),
        ],
    )
    def test_refusals_record_nothing(
        self,
        paid: tuple[GrantLedger, uuid.UUID, uuid.UUID],
        error: type[Exception],
        message: str,
        change: dict[str, object],
    ) -> None:
        app, sme_id, _ = paid
        command: dict[str, object] = {
            "actor": POINTEX,
            "sme_id": sme_id,
            "legal_name": "Tessuti Avanzati S.p.A.",
            "country": "IT",
            "reason": "extract",
            "on": date(2023, 1, 10),
        } | change
        if command["legal_name"] is None:
            command["legal_name"] = "Tessuti Avanzati S.r.l."
        with records_nothing(app), pytest.raises(error, match=message):
            app.correct_sme_registration(**command)  # type: ignore[arg-type]


class TestPaymentCorrection:
    def test_the_bank_reference_and_value_date_change_by_an_event_naming_the_record(
        self, paid: tuple[GrantLedger, uuid.UUID, uuid.UUID]
    ) -> None:
        app, _, payment_id = paid
        app.correct_payment(
            actor=POINTEX,
            payment_id=payment_id,
            bank_reference="SEPA-2023-0412",
            value_date=date(2023, 4, 21),
            reason="as on the bank statement",
        )
        payment = app.payment(payment_id)
        assert (payment.bank_reference, payment.value_date, payment.amount) == (
            "SEPA-2023-0412",
            date(2023, 4, 21),
            eur("700.00"),
        )
        event = last_event(app, payment_id)
        assert isinstance(event, Payment.RecordCorrected)
        assert (event.corrects_version, event.effective_date, event.reason) == (
            1,
            date(2023, 4, 21),
            "as on the bank statement",
        )
        assert app.budget_line("POINTEX", "FSTP").paid == eur("700.00"), "the budget's figures stay"

    def test_what_is_not_given_stays(self, paid: tuple[GrantLedger, uuid.UUID, uuid.UUID]) -> None:
        app, _, payment_id = paid
        app.correct_payment(actor=POINTEX, payment_id=payment_id, bank_reference="SEPA-9", reason="typo")
        assert (app.payment(payment_id).bank_reference, app.payment(payment_id).value_date) == ("SEPA-9", PAID_ON)
        app.correct_payment(actor=POINTEX, payment_id=payment_id, value_date=APPROVED_ON, reason="same day")
        assert (app.payment(payment_id).bank_reference, app.payment(payment_id).value_date) == ("SEPA-9", APPROVED_ON)

    @pytest.mark.parametrize(
        ("error", "message", "change"),
        [
            (NotAllowed, "only POINTEX's financial officers", {"actor": officer("NTT")}),
            (NotAllowed, "coordinator", {"actor": COORDINATOR}),
            (UnknownPayment, "there is no payment", {"payment_id": uuid.UUID(int=7)}),
            (InvalidInput, "before the claim's approval date 2023-04-05", {"value_date": date(2023, 4, 4)}),
            (OutsideActionPeriod, "outside the action period", {"value_date": date(2023, 9, 1)}),
            (InvalidInput, "in the future", {"value_date": date.today() + timedelta(days=1)}),
            (NothingToCorrect, "already has bank reference 'SEPA-1' and value date 2023-04-20", {}),
            (InvalidInput, "a correction of a payment needs a reason", {"reason": " ", "value_date": PAID_ON}),
            (InvalidInput, "bank reference", {"bank_reference": ""}),
        ],
    )
    def test_refusals_record_nothing(
        self,
        paid: tuple[GrantLedger, uuid.UUID, uuid.UUID],
        error: type[Exception],
        message: str,
        change: dict[str, object],
    ) -> None:
        app, _, payment_id = paid
        command: dict[str, object] = {
            "actor": POINTEX,
            "payment_id": payment_id,
            "bank_reference": "SEPA-1",
            "value_date": PAID_ON,
            "reason": "statement",
        } | change
        with records_nothing(app), pytest.raises(error, match=message):
            app.correct_payment(**command)  # type: ignore[arg-type]

    def test_a_reversed_payment_keeps_its_value_date_on_or_before_the_reversal(
        self, paid: tuple[GrantLedger, uuid.UUID, uuid.UUID]
    ) -> None:
        app, _, payment_id = paid
        app.reverse_payment(actor=POINTEX, payment_id=payment_id, reason="bank return", on=REVERSED_ON)
        with records_nothing(app), pytest.raises(InvalidInput, match="after the payment's reversal on 2023-05-02"):
            app.correct_payment(actor=POINTEX, payment_id=payment_id, value_date=date(2023, 5, 3), reason="x")
        app.correct_payment(actor=POINTEX, payment_id=payment_id, value_date=REVERSED_ON, reason="same day return")
        assert app.payment(payment_id).value_date == REVERSED_ON
