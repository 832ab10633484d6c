"""A claim's business dates follow the order its events were recorded in (ledger/claim_dates.py):
each new event is dated on or after the claim's last change, and a payment's corrected value
date stays between the claim's change before it and the next one after it. Each refusal names
the date, the claim's change and its date, and records nothing (review finding 1, a-e; 4)."""

from __future__ import annotations

import uuid
from datetime import date
from uuid import UUID

import pytest

from ledger.application import GrantLedger
from ledger.errors import InvalidInput
from tests.builders import eur, eur_line, officer, open_mission, selected_sme, sign_alliance, submit
from tests.ledger.test_claim_fixes import records_nothing

POINTEX = officer("POINTEX")
APPROVED_ON = date(2023, 4, 25)


def day(month: int, dd: int) -> date:
    return date(2023, month, dd)


@pytest.fixture
def claim(app: GrantLedger) -> UUID:
    """A claim approved at EUR 700.00 on 2023-04-25."""
    sign_alliance(app)
    mission = open_mission(app)
    claim_id = submit(app, mission, selected_sme(app, mission), eur_line("1000", "HOTEL-77"))
    app.approve_claim(actor=POINTEX, claim_id=claim_id, on=APPROVED_ON)
    return claim_id


def pay(app: GrantLedger, claim_id: UUID, amount: str, on: date) -> UUID:
    return app.record_payment(
        actor=POINTEX, payment_id=uuid.uuid4(), claim_id=claim_id, amount=eur(amount), bank_reference="SEPA-1", on=on
    )


def reverse(app: GrantLedger, payment_id: UUID, on: date) -> None:
    app.reverse_payment(actor=POINTEX, payment_id=payment_id, reason="bank return", on=on)


def revoke(app: GrantLedger, claim_id: UUID, on: date) -> None:
    app.revoke_approval(actor=POINTEX, claim_id=claim_id, reason="approved by mistake", on=on)


def correct(app: GrantLedger, payment_id: UUID, on: date) -> None:
    app.correct_payment(actor=POINTEX, payment_id=payment_id, value_date=on, reason="bank statement")


class TestEachEventNotBeforeTheClaimsLastChange:
    def test_a_reapproval_before_the_revocation_it_follows(self, app: GrantLedger, claim: UUID) -> None:
        """(a) Paid 05-01, reversed 05-10, revoked 05-10: approving again on 04-26 is refused."""
        reverse(app, pay(app, claim, "700", day(5, 1)), day(5, 10))
        revoke(app, claim, day(5, 10))
        with (
            records_nothing(app),
            pytest.raises(
                InvalidInput,
                match="approval date 2023-04-26 is before the claim's last change, its approval revoked on "
                "2023-05-10; date it on or after 2023-05-10",
            ),
        ):
            app.approve_claim(actor=POINTEX, claim_id=claim, on=day(4, 26))
        with records_nothing(app), pytest.raises(InvalidInput, match="rejection date 2023-05-09 is before"):
            app.reject_claim(actor=POINTEX, claim_id=claim, reason="x", on=day(5, 9))
        app.approve_claim(actor=POINTEX, claim_id=claim, on=day(5, 10))

    def test_a_revocation_before_the_reversal_that_made_it_possible(self, app: GrantLedger, claim: UUID) -> None:
        """(b) Paid 05-01, reversed 05-10: revoking on 05-03 is refused; the approval date
        keeps its own message first."""
        reverse(app, pay(app, claim, "700", day(5, 1)), day(5, 10))
        with (
            records_nothing(app),
            pytest.raises(
                InvalidInput,
                match="revocation date 2023-05-03 is before the claim's last change, a payment reversed on "
                "2023-05-10; date it on or after 2023-05-10",
            ),
        ):
            revoke(app, claim, day(5, 3))
        with records_nothing(app), pytest.raises(InvalidInput, match="before the claim's approval date 2023-04-25"):
            revoke(app, claim, day(4, 24))
        revoke(app, claim, day(5, 10))

    def test_a_settlement_before_a_reversal_recorded_earlier(self, app: GrantLedger, claim: UUID) -> None:
        """(c) Paid 200 on 05-05 and 05-06, the second reversed 05-20: settling on 05-10 is refused."""
        pay(app, claim, "200", day(5, 5))
        reverse(app, pay(app, claim, "200", day(5, 6)), day(5, 20))
        with (
            records_nothing(app),
            pytest.raises(
                InvalidInput,
                match="settlement date 2023-05-10 is before the claim's last change, a payment reversed on "
                "2023-05-20; date it on or after 2023-05-20",
            ),
        ):
            app.settle_claim(actor=POINTEX, claim_id=claim, reason="agreed", on=day(5, 10))
        with records_nothing(app), pytest.raises(InvalidInput, match="before the claim's last payment on 2023-05-05"):
            app.settle_claim(actor=POINTEX, claim_id=claim, reason="agreed", on=day(5, 4))
        assert app.settle_claim(actor=POINTEX, claim_id=claim, reason="agreed", on=day(5, 20)) == eur("500.00")

    def test_a_new_payment_before_an_earlier_payments_reversal(self, app: GrantLedger, claim: UUID) -> None:
        """(d) Paid in full 07-15, reversed 07-30: paying again on 07-20 is refused (it would
        be paid twice as effective on 07-20..07-29); the approval keeps its own message."""
        reverse(app, pay(app, claim, "700", day(7, 15)), day(7, 30))
        with (
            records_nothing(app),
            pytest.raises(
                InvalidInput,
                match="payment value date 2023-07-20 is before the claim's last change, a payment reversed on "
                "2023-07-30; date it on or after 2023-07-30",
            ),
        ):
            pay(app, claim, "700", day(7, 20))
        with records_nothing(app), pytest.raises(InvalidInput, match="before the claim's approval date 2023-04-25"):
            pay(app, claim, "700", day(4, 24))
        pay(app, claim, "700", day(7, 30))

    def test_a_reversal_before_the_claims_last_change(self, app: GrantLedger, claim: UUID) -> None:
        """A reversal is recorded on the claim too: paid 05-01 and 05-08, the first is not
        reversed before 05-08 (its own value date keeps its message first)."""
        first = pay(app, claim, "300", day(5, 1))
        pay(app, claim, "300", day(5, 8))
        with (
            records_nothing(app),
            pytest.raises(
                InvalidInput,
                match="reversal date 2023-05-05 is before the claim's last change, a payment made on 2023-05-08",
            ),
        ):
            reverse(app, first, day(5, 5))
        with records_nothing(app), pytest.raises(InvalidInput, match="before the payment's value date 2023-05-01"):
            reverse(app, first, day(4, 30))
        reverse(app, first, day(5, 8))


class TestACorrectedValueDateStaysInItsPlace:
    def test_not_after_the_claims_settlement(self, app: GrantLedger, claim: UUID) -> None:
        """(e) Paid 300 on 05-01, settled short 05-21: its value date may move up to 05-21, not after."""
        payment = pay(app, claim, "300", day(5, 1))
        app.settle_claim(actor=POINTEX, claim_id=claim, reason="agreed", on=day(5, 21))
        with (
            records_nothing(app),
            pytest.raises(
                InvalidInput,
                match="payment value date 2023-05-25 is after the claim's next change after this payment, "
                "the rest settled short on 2023-05-21; date it on or before 2023-05-21",
            ),
        ):
            correct(app, payment, day(5, 25))
        correct(app, payment, day(5, 21))
        assert app.payment(payment).value_date == day(5, 21)

    def test_not_after_a_later_reversal_of_another_payment(self, app: GrantLedger, claim: UUID) -> None:
        """(e) Paid 05-01 and 05-02, the second reversed 05-10: the first stays on or before 05-02."""
        first = pay(app, claim, "300", day(5, 1))
        reverse(app, pay(app, claim, "300", day(5, 2)), day(5, 10))
        with (
            records_nothing(app),
            pytest.raises(InvalidInput, match="a payment made on 2023-05-02; date it on or before"),
        ):
            correct(app, first, day(5, 9))

    def test_not_before_the_claims_change_before_it(self, app: GrantLedger, claim: UUID) -> None:
        """(e) Paid 05-01, reversed 05-10, paid again 05-12: the new one stays on or after 05-10,
        though the approval (04-25) is earlier; the approval keeps its own message first."""
        reverse(app, pay(app, claim, "300", day(5, 1)), day(5, 10))
        second = pay(app, claim, "300", day(5, 12))
        with (
            records_nothing(app),
            pytest.raises(
                InvalidInput,
                match="payment value date 2023-05-05 is before the claim's change before this payment, "
                "a payment reversed on 2023-05-10; date it on or after 2023-05-10",
            ),
        ):
            correct(app, second, day(5, 5))
        with records_nothing(app), pytest.raises(InvalidInput, match="before the claim's approval date 2023-04-25"):
            correct(app, second, day(4, 20))
        correct(app, second, day(5, 10))

    def test_a_payment_of_an_earlier_approval_is_bounded_by_that_approval(self, app: GrantLedger, claim: UUID) -> None:
        """Review finding 4: paid 05-01 under the approval of 04-25, reversed 05-03, revoked 05-04,
        approved again 05-05: the payment may still be corrected to 04-30 (after its own
        approval), not before that approval."""
        payment = pay(app, claim, "400", day(5, 1))
        reverse(app, payment, day(5, 3))
        revoke(app, claim, day(5, 4))
        app.approve_claim(actor=POINTEX, claim_id=claim, on=day(5, 5))
        with records_nothing(app), pytest.raises(InvalidInput, match="before the claim's approval date 2023-04-25"):
            correct(app, payment, day(4, 24))
        correct(app, payment, day(4, 30))
        assert app.payment(payment).value_date == day(4, 30)

    def test_a_bank_reference_alone_may_still_be_corrected(self, app: GrantLedger, claim: UUID) -> None:
        """Only a new value date is bounded: the bank reference of a settled claim's payment
        may be corrected."""
        payment = pay(app, claim, "300", day(5, 1))
        app.settle_claim(actor=POINTEX, claim_id=claim, reason="agreed", on=day(5, 21))
        app.correct_payment(actor=POINTEX, payment_id=payment, bank_reference="SEPA-2", reason="bank statement")
        assert app.payment(payment).bank_reference == "SEPA-2"

    def test_a_new_payment_not_before_a_live_payment_as_corrected(self, app: GrantLedger, claim: UUID) -> None:
        """Paid 300 on 05-01, its value date corrected to 05-10: a further payment dated 05-05
        is refused (the payment's record, not the claim, holds the corrected date); 05-10 is fine."""
        payment = pay(app, claim, "300", day(5, 1))
        correct(app, payment, day(5, 10))
        with (
            records_nothing(app),
            pytest.raises(
                InvalidInput, match=rf"payment value date 2023-05-05 is before the claim's payment {payment}"
            ),
        ):
            pay(app, claim, "100", day(5, 5))
        pay(app, claim, "100", day(5, 10))
