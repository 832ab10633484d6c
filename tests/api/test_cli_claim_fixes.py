"""The corrections an officer records from the command line: revoke-approval and settle."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest

from api.cli import main
from ledger.claim import Claim
from ledger.storage import open_ledger
from tests.builders import eur, eur_line, officer, open_mission, selected_sme, sign_alliance, submit


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


def run(url: str, *args: str) -> int:
    return main(["--database-url", url, *args])


def approved_claims(url: str, paid: str | None = None) -> list[UUID]:
    """Two claims approved at EUR 700 on POINTEX's Japan mission; the first paid ``paid``."""
    app = open_ledger(url)
    try:
        sign_alliance(app)
        mission = open_mission(app)
        sme = selected_sme(app, mission)
        claims = [submit(app, mission, sme, eur_line("1000")) for _ in range(2)]
        for claim in claims:
            app.approve_claim(actor=officer("POINTEX"), claim_id=claim, on=date(2023, 4, 5))
        if paid is not None:
            app.record_payment(
                actor=officer("POINTEX"),
                payment_id=uuid.uuid4(),
                claim_id=claims[0],
                amount=eur(paid),
                bank_reference="SEPA-1",
                on=date(2023, 4, 20),
            )
        return claims
    finally:
        app.close()


def events(url: str) -> int:
    app = open_ledger(url)
    try:
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


class TestRevokeApproval:
    def test_revokes_as_an_officer_of_the_claims_partner(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        """The claim is submitted again, its commitment released; the event names the local
        user as an officer of the partner given, with the reason and the date."""
        claim, other = approved_claims(url)
        args = ["revoke-approval", str(claim), "--partner", "pointex", "--reason", "wrong SME", "--on", "2023-04-06"]
        assert run(url, *args) == 0
        assert "approval revoked, EUR 700.00 released; it is submitted" in capsys.readouterr().out
        app = open_ledger(url)
        try:
            assert app.claim(claim).state == "submitted"
            assert app.budget_line("POINTEX", "FSTP").committed == eur("700")  # the other claim's
            last = list(app.events.get(claim))[-1]
            assert isinstance(last, Claim.ApprovalRevoked)
            assert (last.actor.role, last.actor.partner, last.effective_date) == (
                "officer",
                "POINTEX",
                date(2023, 4, 6),
            )
            assert last.actor.id.startswith("cli:")
        finally:
            app.close()
        assert run(url, "revoke-approval", str(other), "--partner", "POINTEX", "--reason", "dup", "--reject") == 0
        assert "it is rejected" in capsys.readouterr().out

    def test_refusals_exit_2_and_record_nothing(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        """Another partner, a paid claim, an unknown claim: exit 2 with the ledger's reason."""
        claim, _ = approved_claims(url, paid="100")
        before = events(url)
        assert run(url, "revoke-approval", str(claim), "--partner", "NTT", "--reason", "x") == 2
        assert "Not allowed" in capsys.readouterr().err
        assert run(url, "revoke-approval", str(claim), "--partner", "POINTEX", "--reason", "x") == 2
        assert "reverse them first" in capsys.readouterr().err
        assert run(url, "revoke-approval", str(uuid.uuid4()), "--partner", "POINTEX", "--reason", "x") == 2
        assert "is in the ledger" in capsys.readouterr().err
        assert events(url) == before

    def test_a_bad_claim_id_is_refused_saying_what_to_give(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        approved_claims(url)
        before = events(url)
        assert run(url, "revoke-approval", "CLM-1", "--partner", "POINTEX", "--reason", "x") == 2
        assert "is not a claim id" in capsys.readouterr().err
        assert run(url, "revoke-approval", "0000000", "--partner", "POINTEX", "--reason", "x") == 2
        assert "its first 8 characters are enough" in capsys.readouterr().err
        assert events(url) == before

    def test_the_first_8_characters_name_the_claim(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        """As `grantledger claims` shows ids: the start of the id is enough when it is unique."""
        claim, _ = approved_claims(url)
        short = str(claim)[:8]
        assert run(url, "revoke-approval", short.upper(), "--partner", "POINTEX", "--reason", "wrong rate") == 0
        assert f"claim {claim}: approval revoked" in capsys.readouterr().out


class TestSettle:
    def test_settles_a_partly_paid_claim_short(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        claim, _ = approved_claims(url, paid="650")
        args = ["settle", str(claim), "--partner", "POINTEX", "--reason", "SME agreed", "--on", "2023-04-21"]
        assert run(url, *args) == 0
        assert "settled short, EUR 50.00 released; EUR 650.00 paid of EUR 700.00" in capsys.readouterr().out
        app = open_ledger(url)
        try:
            found = app.claim(claim)
            assert (found.state, found.settled_short) == ("paid", eur("50"))
        finally:
            app.close()

    def test_an_unpaid_claim_or_an_empty_reason_is_refused(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        paid, unpaid = approved_claims(url, paid="650")
        before = events(url)
        assert run(url, "settle", str(unpaid), "--partner", "POINTEX", "--reason", "agreed") == 2
        assert "only a partly paid claim" in capsys.readouterr().err
        assert run(url, "settle", str(paid), "--partner", "POINTEX", "--reason", " ") == 2
        assert "needs a reason" in capsys.readouterr().err
        assert events(url) == before
