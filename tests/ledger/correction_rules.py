"""The state machine's rules for corrections of records: an exchange rate, an SME's
registration, a payment record (mixed into tests/ledger/test_state_machine.LedgerMachine).

The model predicts each refusal in the order the ledger checks: the role (and an officer's
partner), the business date (inside the action period, not before the approval it was paid
under, and a new value date between the claim's event before the payment and its next one, a
reversal included; not before the registration), then a correction that would change nothing. A
corrected rate is the model's rate from then on, so the machine's later assessments (its own
arithmetic) must agree with the ledger's; claims assessed before keep what they were given.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import ClassVar, TypeVar
from uuid import UUID

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, precondition, rule

from ledger.actors import Actor
from ledger.application import GrantLedger
from ledger.errors import InvalidInput, LedgerError, NotAllowed, NothingToCorrect
from ledger.grant import OutsideActionPeriod
from ledger.rates import RateMissing
from tests.builders import AUDITOR, COORDINATOR, PERIOD_END, officer
from tests.invariants import LedgerModel

T = TypeVar("T")

#: How many days either side of the machine's payments a corrected value date is drawn: enough
#: to fall before the approval (5 days before) and after a bank return (5 days after).
DAYS_AROUND = 7


class CorrectionRules(RuleBasedStateMachine):
    """Rules correcting records; the machine provides the model, its dates and ``attempt``."""

    smes = Bundle("smes")
    #: The business date of the machine's registrations.
    registered_on: ClassVar[date]
    #: The currencies, months and plausible rates the machine records.
    rate_ranges: ClassVar[dict[str, tuple[int, int, int]]]
    months: ClassVar[tuple[int, ...]]
    app: GrantLedger

    def __init__(self) -> None:
        super().__init__()
        #: Payments whose record was corrected: their bank reference and value date now.
        self.payment_records: dict[UUID, tuple[str, date]] = {}
        #: SMEs whose registration was corrected: their legal name and country now.
        self.sme_registrations: dict[UUID, tuple[str, str]] = {}

    # --- provided by the machine ---------------------------------------------------------
    @property
    def m(self) -> LedgerModel:
        raise NotImplementedError

    def attempt(
        self, what: str, expected: type[LedgerError] | None, command: Callable[[], T], *, records: bool = True
    ) -> T | None:
        raise NotImplementedError

    def draw_officer(self, data: st.DataObject, partner: str) -> tuple[Actor, bool]:
        raise NotImplementedError

    # --- exchange rates ------------------------------------------------------------------
    @rule(data=st.data())
    def correct_rate(self, data: st.DataObject) -> None:
        """A recorded rate corrected with a reason: later assessments use it (the model's
        arithmetic then agrees with the ledger's only if they do); the same rate is refused."""
        who = data.draw(st.integers(0, 9), label="actor")
        actor = AUDITOR if who == 9 else officer("NTT") if who == 8 else COORDINATOR
        recorded = sorted(self.m.rates)
        if recorded and data.draw(st.integers(0, 9), label="a recorded rate?") > 0:
            currency, month = data.draw(st.sampled_from(recorded), label="rate to correct")
        else:
            currency = data.draw(st.sampled_from(sorted(self.rate_ranges)), label="currency")
            month = f"2023-{data.draw(st.sampled_from(self.months), label='month'):02d}"
        low, high, places = self.rate_ranges[currency]
        rate = Decimal(data.draw(st.integers(low, high), label="corrected rate")).scaleb(-places)
        existing = self.m.rates.get((currency, month))
        if existing is not None and data.draw(st.integers(0, 4), label="the same rate?") == 0:
            rate = existing
        expected: type[LedgerError] | None = None
        if who == 9:
            expected = NotAllowed
        elif existing is None:
            expected = RateMissing
        elif rate == existing:
            expected = NothingToCorrect
        self.attempt(
            "correct rate",
            expected,
            lambda: self.app.correct_rate(
                actor=actor, currency=currency, month=month, rate=rate, reason="InforEuro republished"
            ),
        )
        if expected is None:
            self.m.rates[(currency, month)] = rate

    # --- SMEs ----------------------------------------------------------------------------
    def registration(self, sme_id: UUID) -> tuple[str, str]:
        """The SME's legal name and country now: as the machine registers it (its name from
        the number of its identifier, in Italy), unless corrected since."""
        number = int(self.m.smes[sme_id].identifier[2:])
        return self.sme_registrations.get(sme_id, (f"SME {number} S.r.l.", "IT"))

    @rule(sme_id=smes, data=st.data())
    def correct_sme(self, sme_id: UUID, data: st.DataObject) -> None:
        """An SME's legal name or country corrected with a reason; its identifier stays."""
        who = data.draw(st.integers(0, 9), label="actor")
        actor = AUDITOR if who == 9 else COORDINATOR if who == 8 else officer("POINTEX")
        name, country = self.registration(sme_id)
        new_name = data.draw(st.sampled_from([name, f"{name} (in liquidation)", "Tessuti Avanzati S.p.A."]))
        new_country = data.draw(st.sampled_from([country, "IT", "FR"]), label="country")
        on = self.registered_on + timedelta(days=data.draw(st.integers(-1, 30), label="days after registration"))
        expected: type[LedgerError] | None = None
        if who == 9:
            expected = NotAllowed
        elif on < self.registered_on:
            expected = InvalidInput
        elif (new_name, new_country) == (name, country):
            expected = NothingToCorrect
        self.attempt(
            "correct SME",
            expected,
            lambda: self.app.correct_sme_registration(
                actor=actor, sme_id=sme_id, legal_name=new_name, country=new_country, reason="registry extract", on=on
            ),
        )
        if expected is None:
            self.sme_registrations[sme_id] = (new_name, new_country)
            sme = self.app.sme(sme_id)
            assert (sme.legal_name, sme.country) == (new_name, new_country)

    # --- payments ------------------------------------------------------------------------
    def payment_record(self, payment_id: UUID) -> tuple[str, date]:
        """A payment's bank reference and value date now: as the machine pays, unless corrected."""
        return self.payment_records.get(payment_id, (f"SEPA-{payment_id.int:06d}", self.m.payments[payment_id].paid_on))

    @precondition(lambda self: bool(self.m.payments))
    @rule(data=st.data())
    def correct_payment(self, data: st.DataObject) -> None:
        """A payment's bank reference or value date corrected by an officer of its partner:
        the value date stays inside the action period, not before the approval it was paid
        under, and a new one between the claim's business date before the payment and the
        claim's next event after it (its reversal, a later payment, settling short). The
        budget's figures do not change (only the business date of the payment's movements,
        which the read side's machine checks).
        The payment is any the model knows (the read side's machine pays outside the bundle)."""
        payment_id = data.draw(st.sampled_from(sorted(self.m.payments)), label="payment")
        payment = self.m.payments[payment_id]
        actor, allowed = self.draw_officer(data, payment.partner)
        reference, value_date = self.payment_record(payment_id)
        new_reference = data.draw(st.sampled_from([None, reference, f"{reference}-C"]), label="bank reference")
        # A day around the payment, the approval and the reversal; or past the action period; or none.
        shift = data.draw(st.integers(-DAYS_AROUND, DAYS_AROUND + 2), label="value date shift")
        new_date = None if shift == DAYS_AROUND + 2 else payment.paid_on + timedelta(days=shift)
        if shift == DAYS_AROUND + 1:
            new_date = PERIOD_END + timedelta(days=1)
        after = (reference if new_reference is None else new_reference, value_date if new_date is None else new_date)
        expected: type[LedgerError] | None = None
        if not allowed:
            expected = NotAllowed
        elif after[1] > PERIOD_END:
            expected = OutsideActionPeriod
        elif after[1] < payment.approved_on:
            expected = InvalidInput
        elif after[1] != value_date and (
            after[1] < payment.before or (payment.next_on is not None and after[1] > payment.next_on)
        ):
            expected = InvalidInput  # out of its place in the claim's story (after a reversal too)
        elif after == (reference, value_date):
            expected = NothingToCorrect
        self.attempt(
            "correct payment",
            expected,
            lambda: self.app.correct_payment(
                actor=actor,
                payment_id=payment_id,
                bank_reference=new_reference,
                value_date=new_date,
                reason="as on the bank statement",
            ),
        )
        if expected is None:
            self.payment_records[payment_id] = after
            recorded = self.app.payment(payment_id)
            assert (recorded.bank_reference, recorded.value_date, recorded.amount.amount) == (*after, payment.amount)
