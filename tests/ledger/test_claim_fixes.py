"""Corrections of a claim's lifecycle: partial payments, settling short, a bank return of one of
several payments, revoking an approval. At every step approved = committed + paid + settled short."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import date
from uuid import UUID

import pytest

from ledger.application import GrantLedger
from ledger.budget import BudgetLine
from ledger.claim import Claim, ClaimNotInState, Overpayment
from ledger.errors import InvalidInput, NotAllowed
from ledger.money import Money
from ledger.receipts import ReceiptAlreadyUsed
from ledger.sme import SmeCapReached
from tests.builders import eur, eur_line, officer, open_mission, selected_sme, sign_alliance, submit

POINTEX = officer("POINTEX")
APPROVED_ON = date(2023, 4, 5)


@contextlib.contextmanager
def records_nothing(app: GrantLedger) -> Iterator[None]:
    before = app.recorder.max_notification_id()
    yield
    assert app.recorder.max_notification_id() == before


@pytest.fixture
def approved(app: GrantLedger) -> tuple[GrantLedger, UUID, UUID]:
    """A claim approved at EUR 700.00 (EUR 1,000 x 70%) on the Japan mission, and its SME."""
    sign_alliance(app)
    mission = open_mission(app)
    sme = selected_sme(app, mission)
    claim = submit(app, mission, sme, eur_line("1000", "HOTEL-77"))
    assert app.approve_claim(actor=POINTEX, claim_id=claim, on=APPROVED_ON) == eur("700.00")
    return app, claim, sme


def fstp(app: GrantLedger) -> BudgetLine:
    return app.budget_line("POINTEX", "FSTP")


def pay(app: GrantLedger, claim: UUID, amount: str, on: date = date(2023, 4, 20)) -> UUID:
    return app.record_payment(
        actor=POINTEX, payment_id=uuid.uuid4(), claim_id=claim, amount=eur(amount), bank_reference="SEPA-1", on=on
    )


def figures(app: GrantLedger, claim_id: UUID) -> tuple[str, Money, Money, Money, Money, Money]:
    """(state, committed on the line, paid on the line, claim paid, settled short, outstanding);
    the claim's own figures always add up to its approved amount."""
    claim = app.claim(claim_id)
    line = fstp(app)
    assert claim.approved_amount == claim.outstanding + claim.paid + claim.settled_short
    return claim.state, line.committed, line.paid, claim.paid, claim.settled_short, claim.outstanding


class TestPartialPayments:
    def test_a_payment_below_the_outstanding_leaves_the_rest_committed(
        self, approved: tuple[GrantLedger, UUID, UUID]
    ) -> None:
        """EUR 300 of 700 paid: the claim is partly paid, 400 stays committed; a further 400
        pays it in full. Nothing is released on the way."""
        app, claim, _ = approved
        pay(app, claim, "300")
        assert figures(app, claim) == ("partly_paid", eur("400"), eur("300"), eur("300"), eur("0"), eur("400"))
        pay(app, claim, "400", on=date(2023, 5, 2))
        assert figures(app, claim) == ("paid", eur("0"), eur("700"), eur("700"), eur("0"), eur("0"))
        assert len(app.claim(claim).payments) == 2
        released = [e for e in app.events.get(fstp(app).id) if isinstance(e, BudgetLine.Paid)]
        assert [e.released for e in released] == [eur("0"), eur("0")]

    def test_overpaying_is_refused_with_the_numbers(self, approved: tuple[GrantLedger, UUID, UUID]) -> None:
        """More than what is outstanding is refused, naming approved, paid and outstanding."""
        app, claim, _ = approved
        pay(app, claim, "300")
        with (
            records_nothing(app),
            pytest.raises(
                Overpayment,
                match=r"EUR 400\.01 exceeds .* approved EUR 700\.00, already paid EUR 300\.00, "
                r".*outstanding EUR 400\.00",
            ),
        ):
            pay(app, claim, "400.01")
        pay(app, claim, "400")
        with records_nothing(app), pytest.raises(ClaimNotInState, match="nothing is outstanding"):
            pay(app, claim, "0.01")

    def test_a_payment_is_positive_and_not_before_the_approval(self, approved: tuple[GrantLedger, UUID, UUID]) -> None:
        app, claim, _ = approved
        with records_nothing(app), pytest.raises(InvalidInput, match="positive EUR amount"):
            pay(app, claim, "0")
        with records_nothing(app), pytest.raises(InvalidInput, match="before the claim's approval date"):
            pay(app, claim, "10", on=date(2023, 4, 4))


class TestSettleShort:
    def test_settling_short_releases_the_rest_on_the_line_and_the_smes_caps(
        self, approved: tuple[GrantLedger, UUID, UUID]
    ) -> None:
        """EUR 650 of 700 paid, the rest settled short: 50 released on the FSTP line and on the
        SME's caps; the claim is paid with 50 settled short."""
        app, claim, sme = approved
        pay(app, claim, "650")
        assert app.sme(sme).approved_total == eur("700")
        released = app.settle_claim(
            actor=POINTEX, claim_id=claim, reason="SME agreed: taxi not reimbursed", on=date(2023, 4, 20)
        )
        assert released == eur("50.00")
        assert figures(app, claim) == ("paid", eur("0"), eur("650"), eur("650"), eur("50"), eur("0"))
        assert app.sme(sme).approved_total == eur("650")
        assert fstp(app).remaining == fstp(app).allocated - eur("650")
        last = list(app.events.get(claim))[-1]
        assert isinstance(last, Claim.SettledShort)
        assert (last.amount, last.reason) == (eur("50.00"), "SME agreed: taxi not reimbursed")

    def test_only_a_partly_paid_claim_with_a_reason_and_a_sensible_date(
        self, approved: tuple[GrantLedger, UUID, UUID]
    ) -> None:
        app, claim, _ = approved
        with records_nothing(app), pytest.raises(ClaimNotInState, match="it is approved, and only a partly paid"):
            app.settle_claim(actor=POINTEX, claim_id=claim, reason="no", on=date(2023, 4, 20))
        pay(app, claim, "100", on=date(2023, 4, 20))
        with records_nothing(app), pytest.raises(InvalidInput, match="needs a reason"):
            app.settle_claim(actor=POINTEX, claim_id=claim, reason="  ", on=date(2023, 4, 20))
        with records_nothing(app), pytest.raises(InvalidInput, match="before the claim's last payment on 2023-04-20"):
            app.settle_claim(actor=POINTEX, claim_id=claim, reason="agreed", on=date(2023, 4, 19))
        with records_nothing(app), pytest.raises(InvalidInput, match="in the future"):
            app.settle_claim(actor=POINTEX, claim_id=claim, reason="agreed", on=date(2999, 1, 1))
        with records_nothing(app), pytest.raises(NotAllowed):
            app.settle_claim(actor=officer("NTT"), claim_id=claim, reason="agreed", on=date(2023, 4, 20))
        app.settle_claim(actor=POINTEX, claim_id=claim, reason="agreed", on=date(2023, 4, 20))
        with records_nothing(app), pytest.raises(ClaimNotInState, match="it is paid"):
            app.settle_claim(actor=POINTEX, claim_id=claim, reason="again", on=date(2023, 4, 20))

    def test_the_settlement_follows_a_corrected_value_date(self, approved: tuple[GrantLedger, UUID, UUID]) -> None:
        """A payment whose value date was corrected to a later day: settling short before
        that day is refused, since the payment's record, not the claim, holds the date now."""
        app, claim, _ = approved
        payment = pay(app, claim, "100", on=date(2023, 4, 20))
        app.correct_payment(actor=POINTEX, payment_id=payment, value_date=date(2023, 4, 25), reason="bank statement")
        with records_nothing(app), pytest.raises(InvalidInput, match="before the claim's last payment on 2023-04-25"):
            app.settle_claim(actor=POINTEX, claim_id=claim, reason="agreed", on=date(2023, 4, 22))
        app.settle_claim(actor=POINTEX, claim_id=claim, reason="agreed", on=date(2023, 4, 25))


class TestReversal:
    def test_a_return_undoes_exactly_one_payment(self, approved: tuple[GrantLedger, UUID, UUID]) -> None:
        """Two payments of 300 and 400; the bank returns the 300: 300 is committed again, the
        400 stays paid, the claim is partly paid; returning the 400 too makes it approved."""
        app, claim, _ = approved
        first = pay(app, claim, "300")
        second = pay(app, claim, "400")
        app.reverse_payment(actor=POINTEX, payment_id=first, reason="bank return: IBAN closed", on=date(2023, 4, 25))
        assert figures(app, claim) == ("partly_paid", eur("300"), eur("400"), eur("400"), eur("0"), eur("300"))
        assert list(app.claim(claim).payments) == [str(second)]
        app.reverse_payment(actor=POINTEX, payment_id=second, reason="bank return", on=date(2023, 4, 25))
        assert figures(app, claim) == ("approved", eur("700"), eur("0"), eur("0"), eur("0"), eur("700"))

    def test_a_return_is_recorded_even_when_the_line_is_fully_committed_since(self, app: GrantLedger) -> None:
        """Invariant 2 by construction: after a short payment settled short, the line was
        committed to the last cent by another claim; the return of the payment re-commits only
        what it paid, so it is recorded (the old code refused it as BudgetExceeded)."""
        sign_alliance(app, fstp="1000.00")
        mission = open_mission(app)
        sme, other = selected_sme(app, mission), selected_sme(app, mission)
        claim = submit(app, mission, sme, eur_line("1000"))
        app.approve_claim(actor=POINTEX, claim_id=claim, on=APPROVED_ON)
        payment = pay(app, claim, "600")
        app.settle_claim(actor=POINTEX, claim_id=claim, reason="agreed with the SME", on=date(2023, 4, 20))
        rest = submit(app, mission, other, eur_line("571.43"))
        assert app.approve_claim(actor=POINTEX, claim_id=rest, on=APPROVED_ON) == eur("400.00")
        assert fstp(app).remaining == eur("0")
        app.reverse_payment(actor=POINTEX, payment_id=payment, reason="bank return", on=date(2023, 4, 25))
        line = fstp(app)
        assert (line.committed, line.paid) == (eur("1000"), eur("0"))
        assert figures(app, claim)[0] == "approved"


class TestRevokeApproval:
    def test_revoking_makes_the_claim_submitted_and_releases_everything(
        self, approved: tuple[GrantLedger, UUID, UUID]
    ) -> None:
        """The commitment and the SME's support are released; the claim can be approved again."""
        app, claim, sme = approved
        released = app.revoke_approval(
            actor=POINTEX, claim_id=claim, reason="approved the wrong SME's receipt", on=APPROVED_ON
        )
        assert released == eur("700.00")
        found = app.claim(claim)
        assert (found.state, found.approved) == ("submitted", None)
        assert (fstp(app).committed, app.sme(sme).approved_total) == (eur("0"), eur("0"))
        last = list(app.events.get(claim))[-1]
        assert isinstance(last, Claim.ApprovalRevoked)
        assert last.released == eur("700.00")
        assert app.approve_claim(actor=POINTEX, claim_id=claim, on=date(2023, 4, 6)) == eur("700.00")
        assert fstp(app).committed == eur("700")

    def test_revoking_and_rejecting_in_one_step_frees_the_receipts(
        self, approved: tuple[GrantLedger, UUID, UUID]
    ) -> None:
        app, claim, sme = approved
        app.revoke_approval(actor=POINTEX, claim_id=claim, reason="not eligible after all", on=APPROVED_ON, reject=True)
        assert app.claim(claim).state == "rejected"
        mission = app.claim(claim).mission_id
        again = submit(app, mission, sme, eur_line("1000", "HOTEL-77"))
        assert app.claim(again).state == "submitted"

    def test_a_revoked_claims_receipts_stay_held(self, approved: tuple[GrantLedger, UUID, UUID]) -> None:
        """Revoked to submitted, the claim is live: its receipts are still taken."""
        app, claim, sme = approved
        app.revoke_approval(actor=POINTEX, claim_id=claim, reason="wrong rate", on=APPROVED_ON)
        with records_nothing(app), pytest.raises(ReceiptAlreadyUsed):
            submit(app, app.claim(claim).mission_id, sme, eur_line("10", "HOTEL-77"))

    def test_a_claim_with_a_live_payment_cannot_be_revoked(self, approved: tuple[GrantLedger, UUID, UUID]) -> None:
        """The refusal names the live payment and says to reverse it first; after the
        reversal the approval can be revoked."""
        app, claim, _ = approved
        payment = pay(app, claim, "100")
        with (
            records_nothing(app),
            pytest.raises(ClaimNotInState, match=rf"live payments {payment} .*reverse them first"),
        ):
            app.revoke_approval(actor=POINTEX, claim_id=claim, reason="wrong", on=APPROVED_ON)
        app.reverse_payment(actor=POINTEX, payment_id=payment, reason="bank return", on=date(2023, 4, 25))
        app.revoke_approval(actor=POINTEX, claim_id=claim, reason="wrong", on=date(2023, 4, 25))
        assert fstp(app).committed == eur("0")

    def test_refusals(self, approved: tuple[GrantLedger, UUID, UUID]) -> None:
        app, claim, _ = approved
        with records_nothing(app), pytest.raises(InvalidInput, match="needs a reason"):
            app.revoke_approval(actor=POINTEX, claim_id=claim, reason="", on=APPROVED_ON)
        with records_nothing(app), pytest.raises(InvalidInput, match="before the claim's approval date"):
            app.revoke_approval(actor=POINTEX, claim_id=claim, reason="wrong", on=date(2023, 4, 4))
        with records_nothing(app), pytest.raises(InvalidInput, match="in the future"):
            app.revoke_approval(actor=POINTEX, claim_id=claim, reason="wrong", on=date(2999, 1, 1))
        with records_nothing(app), pytest.raises(NotAllowed):
            app.revoke_approval(actor=officer("NTT"), claim_id=claim, reason="wrong", on=APPROVED_ON)
        app.revoke_approval(actor=POINTEX, claim_id=claim, reason="wrong", on=APPROVED_ON)
        with records_nothing(app), pytest.raises(ClaimNotInState, match="it is submitted, and only an approved"):
            app.revoke_approval(actor=POINTEX, claim_id=claim, reason="again", on=APPROVED_ON)

    def test_the_cap_room_given_back_can_be_used_by_another_claim(self, app: GrantLedger) -> None:
        """An SME at its mission cap: revoking one approval lets another claim be approved."""
        sign_alliance(app)
        mission = open_mission(app, cap="700.00")
        sme = selected_sme(app, mission)
        first, second = submit(app, mission, sme, eur_line("1000")), submit(app, mission, sme, eur_line("1000"))
        app.approve_claim(actor=POINTEX, claim_id=first, on=APPROVED_ON)
        with records_nothing(app), pytest.raises(SmeCapReached):
            app.approve_claim(actor=POINTEX, claim_id=second, on=APPROVED_ON)
        app.revoke_approval(
            actor=POINTEX, claim_id=first, reason="duplicate of the second", on=APPROVED_ON, reject=True
        )
        assert app.approve_claim(actor=POINTEX, claim_id=second, on=APPROVED_ON) == eur("700.00")
