"""The command line's corrections: an exchange rate and its report, an SME, a payment record.
They call the same use cases and report query as the API (tests/api/test_corrections.py)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from api.cli import main
from ledger.claim import ExpenseLine
from ledger.money import Money
from ledger.sme import Sme
from ledger.storage import open_ledger
from tests.builders import eur, officer, open_mission, sign_alliance, submit

PAYMENT = uuid.UUID("6a1c2f6e-3b7d-4c59-9a57-0d1b8f2e4c11")
SME_IDENTIFIER = "IT 0987-654"


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A ledger with one JPY claim of POINTEX approved at 142.35 and paid EUR 700.00."""
    store = f"sqlite:///{tmp_path / 'ledger.db'}"
    app = open_ledger(store)
    try:
        sign_alliance(app)
        mission = open_mission(app)
        sme = uuid.uuid4()
        app.register_sme(
            actor=officer("POINTEX"),
            sme_id=sme,
            legal_name="Tessuti Avanzati S.r.l.",
            country="IT",
            identifier=SME_IDENTIFIER,
            on=date(2022, 12, 5),
        )
        app.select_sme(actor=officer("POINTEX"), mission_id=mission, sme_id=sme, on=date(2022, 12, 6))
        app.record_rate(actor=officer("POINTEX"), currency="JPY", month="2023-03", rate=Decimal("142.35"))
        line = ExpenseLine("TRAVEL", date(2023, 3, 1), Money.of("142350", "JPY"), "J1", "")
        claim = submit(app, mission, sme, line)
        app.approve_claim(actor=officer("POINTEX"), claim_id=claim, on=date(2023, 4, 5))
        app.record_payment(
            actor=officer("POINTEX"),
            payment_id=PAYMENT,
            claim_id=claim,
            amount=eur("700.00"),
            bank_reference="SEPA-1",
            on=date(2023, 4, 20),
        )
    finally:
        app.close()
    return store


def run(url: str, *args: str) -> int:
    return main(["--database-url", url, *args])


class TestCorrectRate:
    def test_the_correction_prints_the_claims_assessed_with_the_old_rate(
        self, url: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Any case for the currency; the report names the SME, the rate used, the EUR stored
        and at the new rate; rate-assessments prints it again later."""
        assert run(url, "correct-rate", "jpy", "2023-03", "150", "--reason", "wrong row") == 0
        out = capsys.readouterr().out
        assert "corrected the JPY rate for 2023-03 to 150 (InforEuro)" in out
        for shown in ("Tessuti Avanzati S.r.l.", "JPN-2023", "approval", "142.35 (InforEuro)", "1,000.00", "949.00"):
            assert shown in out, shown
        assert "EUR -51.00 more" in out
        assert run(url, "rate-assessments", "JPY", "2023-03") == 0
        assert "949.00" in capsys.readouterr().out
        app = open_ledger(url)
        try:
            assert app.quote("JPY", "2023-03").rate == Decimal(150)
        finally:
            app.close()

    def test_refusals_say_what_to_do(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        """The same rate, a rate never recorded, the report of one: exit 2 with the reason."""
        assert run(url, "correct-rate", "JPY", "2023-03", "142.35", "--reason", "again") == 2
        assert "Nothing to correct" in capsys.readouterr().err
        assert run(url, "correct-rate", "USD", "2023-03", "1.1", "--reason", "x") == 2
        assert "so there is nothing to correct" in capsys.readouterr().err
        assert run(url, "rate-assessments", "USD", "2023-03") == 2
        assert "no USD rate is recorded for 2023-03" in capsys.readouterr().err


class TestCorrectSme:
    def test_named_by_its_identifier_as_the_cli_coordinator(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        """The SME is named by its identifier in any form; the correction is recorded by the
        local user as the coordinator (as import-rates is); correcting again to the same name
        is refused."""
        args = ("--legal-name", "Tessuti S.p.A.", "--country", "IT", "--reason", "extract", "--on", "2023-01-10")
        assert run(url, "correct-sme", "it0987654", *args) == 0
        out = capsys.readouterr().out
        assert out.startswith("corrected SME ")
        assert "Tessuti S.p.A. (IT)" in out
        assert run(url, "correct-sme", SME_IDENTIFIER, *args) == 2
        assert "already registered as 'Tessuti S.p.A.'" in capsys.readouterr().err
        app = open_ledger(url)
        try:
            sme_id = uuid.UUID(out.split()[2].rstrip(":"))
            event = list(app.events.get(sme_id))[-1]
            assert isinstance(event, Sme.RegistrationCorrected)
            assert (event.legal_name, event.reason, event.actor.role) == ("Tessuti S.p.A.", "extract", "coordinator")
        finally:
            app.close()


class TestCorrectPayment:
    def test_as_an_officer_of_the_payments_partner(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        """The local user acts as an officer of the partner named (in any case); what is not
        given stays."""
        args = ("--partner", "pointex", "--value-date", "2023-04-21", "--reason", "bank statement")
        assert run(url, "correct-payment", str(PAYMENT), *args) == 0
        assert f"corrected payment {PAYMENT}" in capsys.readouterr().out
        app = open_ledger(url)
        try:
            payment = app.payment(PAYMENT)
            assert (payment.value_date, payment.bank_reference) == (date(2023, 4, 21), "SEPA-1")
        finally:
            app.close()

    def test_another_partner_or_a_bad_id_is_refused(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        """An officer of another partner may not; a payment is named by its id."""
        args = ("--partner", "NTT", "--reason", "x", "--bank-reference", "S")
        assert run(url, "correct-payment", str(PAYMENT), *args) == 2
        assert "only POINTEX's financial officers" in capsys.readouterr().err
        assert run(url, "correct-payment", "12", "--partner", "POINTEX", "--reason", "x") == 2
        assert "is not a payment id" in capsys.readouterr().err
