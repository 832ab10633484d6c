"""The real GrantLedger, driven by random commands beside a plain model of what it should hold.

The model is dicts of Decimals with its own arithmetic (nothing from ledger/ computes it):
each expense line is converted at the month's rate and rounded half up to the cent, the
lines are summed, the mission rate applied and rounded half up; the approved amount is
that limited by what remains of the SME's caps. Whenever the model predicts a refusal,
the command must raise exactly that error and record nothing; whenever it predicts
success, the command must record something (or nothing, for a repeated command). After
every step the invariants of docs/domain.md hold (tests/invariants.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from functools import partial
from typing import TypeVar
from uuid import UUID

import pytest
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from ledger.actors import Actor
from ledger.application import GrantLedger
from ledger.budget import BudgetExceeded
from ledger.claim import ClaimNotInState, ExpenseLine, LineDecision, Overpayment
from ledger.errors import IdempotencyConflict, InvalidInput, LedgerError, NotAllowed, Refused
from ledger.mission import IneligibleCostType
from ledger.money import Money
from ledger.payment import PaymentAlreadyReversed
from ledger.rates import RateAlreadyRecorded, RateMissing
from ledger.receipts import ReceiptAlreadyUsed
from ledger.sme import SmeAlreadyRegistered, SmeCapReached, SmeNotSelected
from ledger.storage import open_ledger
from tests.builders import AUDITOR, COORDINATOR, PARTNERS, PERIOD_END, PERIOD_START, alliance_budget, officer
from tests.invariants import (
    APPROVED,
    CENT,
    FSTP,
    PAID,
    PARTLY_PAID,
    REJECTED,
    SUBMITTED,
    WITHDRAWN,
    ZERO,
    ClaimModel,
    LedgerModel,
    LineInput,
    LineModel,
    MissionModel,
    PaymentModel,
    SmeModel,
    check_all,
    normalised,
)
from tests.ledger.correction_rules import CorrectionRules

T = TypeVar("T")

PARTNER_CODES = tuple(p.code for p in PARTNERS)
CATEGORIES = (
    "PERSONNEL",
    "SUBCONTRACTING",
    "TRAVEL",
    "EQUIPMENT",
    "OTHER_GOODS_SERVICES",
    "FSTP",
    "INDIRECT",
)
OWN_COST_CATEGORIES = ("PERSONNEL", "SUBCONTRACTING", "TRAVEL", "EQUIPMENT", "OTHER_GOODS_SERVICES")
COST_TYPES = ("TRAVEL", "ACCOMMODATION", "REGISTRATION_FEE", "STAND", "LOCAL_TRANSPORT", "SUBSISTENCE")
FOREIGN = ("USD", "JPY", "CAD", "IDR")
MONTHS = tuple(range(1, 7))  # 2023-01 .. 2023-06
#: ISO 4217 minor units of the currencies the machine uses.
PLACES = {"EUR": 2, "USD": 2, "CAD": 2, "JPY": 0, "IDR": 2}
#: Plausible InforEuro rates (units per EUR) as (lowest, highest) integers of 10**-places, and places.
RATE_RANGES = {
    "USD": (10500, 11200, 4),
    "CAD": (14000, 15000, 4),
    "JPY": (13500, 16000, 2),
    "IDR": (1550000, 1700000, 2),
}
#: Expense amounts per currency, in minor units: roughly EUR 10 to 1,500.
AMOUNT_RANGES = {
    "EUR": (1000, 150000),
    "USD": (1000, 160000),
    "CAD": (1500, 220000),
    "JPY": (1500, 230000),
    "IDR": (15_000_000, 2_500_000_000),
}

GRANT_TOTAL = Decimal("500000.00")
FUNDING_RATE = Decimal("0.90")
EU_CAP = Decimal("450000.00")
MISSION_START, MISSION_END, MISSION_OPENED_ON = date(2023, 3, 1), date(2023, 3, 5), date(2022, 12, 1)
REGISTERED_ON, SELECTED_ON, TRANSFERRED_ON = date(2022, 12, 5), date(2022, 12, 6), date(2023, 2, 1)
SUBMITTED_ON, APPROVED_ON, PAID_ON, REVERSED_ON = (
    date(2023, 7, 1),
    date(2023, 7, 5),
    date(2023, 7, 10),
    date(2023, 7, 15),
)
#: Settling short (after every payment), revoking an approval (on the day of approval).
SETTLED_ON, REVOKED_ON = date(2023, 7, 20), APPROVED_ON
#: Claim states a payment can be recorded in.
PAYABLE = (APPROVED, PARTLY_PAID)


def eur(amount: Decimal) -> Money:
    return Money(amount, "EUR")


def scaled(units: int, places: int) -> Decimal:
    """An integer count of 10**-places as an exact Decimal with that many places."""
    return Decimal(units).scaleb(-places)


def minor_units(amount: Decimal, currency: str) -> int:
    return int(amount.scaleb(PLACES[currency]))


def to_eur(amount: Decimal, currency: str, rate: Decimal) -> Decimal:
    """Model arithmetic: amount / rate, rounded half up to the cent (EUR is unchanged)."""
    if currency == "EUR":
        return amount
    with localcontext(Context(prec=60)):
        return (amount / rate).quantize(CENT, ROUND_HALF_UP)


def times_rate(amount: Decimal, rate: Decimal) -> Decimal:
    """Model arithmetic: amount x rate, rounded half up to the cent."""
    with localcontext(Context(prec=60)):
        return (amount * rate).quantize(CENT, ROUND_HALF_UP)


class LedgerMachine(CorrectionRules, RuleBasedStateMachine):
    """Commands on the real application; the model predicts each outcome (the corrections'
    rules are in tests/ledger/correction_rules.py)."""

    registered_on = REGISTERED_ON
    rate_ranges, months = RATE_RANGES, MONTHS
    missions = Bundle("missions")
    smes = Bundle("smes")
    claims = Bundle("claims")
    payments = Bundle("payments")

    def __init__(self) -> None:
        super().__init__()
        self.app: GrantLedger = open_ledger("memory://")
        self.model: LedgerModel | None = None
        self.counter = 0
        #: Receipt references as first written, for commands that try to declare them again.
        self.known_refs: list[str] = []

    def teardown(self) -> None:
        event(f"steps: {self.app.recorder.max_notification_id() or 0:>3} events recorded")
        self.app.close()

    # --- helpers ------------------------------------------------------------------------
    @property
    def m(self) -> LedgerModel:
        assert self.model is not None, "the grant is signed first"
        return self.model

    def new_id(self) -> UUID:
        self.counter += 1
        return UUID(int=self.counter)

    def new_ref(self) -> str:
        self.counter += 1
        return f"R-{self.counter:05d}"

    def max_id(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def attempt(
        self, what: str, expected: type[LedgerError] | None, command: Callable[[], T], *, records: bool = True
    ) -> T | None:
        """Run a command; if the model predicts a refusal it must raise exactly that and record nothing."""
        before = self.max_id()
        if expected is not None:
            with pytest.raises(expected) as refusal:
                command()
            assert type(refusal.value) is expected, (
                f"{what}: expected {expected.__name__}, got {type(refusal.value).__name__}: {refusal.value}"
            )
            assert self.max_id() == before, f"{what} was refused ({expected.__name__}) but recorded events"
            event(f"{what}: refused {expected.__name__}")
            return None
        result = command()
        if records:
            assert self.max_id() > before, f"{what} succeeded but recorded nothing"
            event(f"{what}: done")
        else:
            assert self.max_id() == before, f"{what} repeated an earlier command but recorded events"
            event(f"{what}: repeated, nothing recorded")
        return result

    def draw_officer(self, data: st.DataObject, partner: str) -> tuple[Actor, bool]:
        """Usually an officer of ``partner``; sometimes another partner's officer or the coordinator."""
        who = data.draw(st.integers(0, 9), label="actor")
        if who < 8:
            return officer(partner), True
        if who == 8:
            other = data.draw(st.sampled_from([p for p in PARTNER_CODES if p != partner]), label="other partner")
            return officer(other), False
        return COORDINATOR, False

    def draw_claim(self, data: st.DataObject, any_claim: UUID, *states: str) -> UUID:
        """Usually a claim in one of ``states`` (so the command can succeed), sometimes ``any_claim``."""
        ready = sorted(cid for cid, claim in self.m.claims.items() if claim.state in states)
        state = " or ".join(states)
        if not ready or data.draw(st.integers(0, 9), label="claim in the right state?") == 0:
            return any_claim
        return data.draw(st.sampled_from(ready), label=f"{state} claim")

    def draw_date(self, data: st.DataObject, claim: ClaimModel, base: date) -> tuple[date, bool]:
        """Usually ``base`` or the claim's last business date if later (its dates follow the
        order its events are recorded in); sometimes the day before that last date, which is
        refused (InvalidInput). Returns the date and whether it is that early one."""
        if data.draw(st.integers(0, 9), label="dated before the claim's last change?") == 0:
            return claim.dated(claim.submitted_on) - timedelta(days=1), True
        return claim.dated(base), False

    def draw_ref(self, data: st.DataObject, earlier: list[str]) -> str:
        """A fresh receipt reference, one declared before, or one repeated from this claim,
        written the way a person might retype it (case, blanks, dashes)."""
        how = data.draw(st.integers(0, 9), label="receipt")
        if how == 9 and earlier:
            ref = earlier[0]
        elif how == 8 and self.known_refs:
            ref = data.draw(st.sampled_from(self.known_refs), label="reused receipt")
        else:
            return self.new_ref()
        retyped = [
            ref,
            ref.lower(),
            f"  {ref} ",
            ref.replace("-", " "),
            ref.replace("-", "\u2013"),
            ref.replace("-", ""),
        ]
        return data.draw(st.sampled_from(retyped), label="retyped")

    def draw_line(self, data: st.DataObject, mission: MissionModel, earlier: list[str]) -> LineInput:
        how = data.draw(st.integers(0, 9), label="line currency")
        recorded = sorted(self.m.rates)
        if how < 4:
            currency, month = "EUR", data.draw(st.sampled_from(MONTHS), label="month")
        elif how < 9 and recorded:
            currency, month_text = data.draw(st.sampled_from(recorded), label="rated currency and month")
            month = int(month_text[5:])
        else:
            currency = data.draw(st.sampled_from(FOREIGN), label="currency")
            month = data.draw(st.sampled_from(MONTHS), label="month")
        low, high = AMOUNT_RANGES[currency]
        amount = scaled(data.draw(st.integers(low, high), label="amount"), PLACES[currency])
        eligible = data.draw(st.integers(0, 9), label="eligible?") < 9
        cost_type = data.draw(st.sampled_from(mission.cost_types if eligible else COST_TYPES), label="cost type")
        day = data.draw(st.integers(1, 28), label="day")
        return LineInput(cost_type, date(2023, month, day), amount, currency, self.draw_ref(data, earlier))

    def assessed(self, lines: tuple[LineInput, ...], accepted: list[Decimal], rate: Decimal) -> Decimal:
        """Model arithmetic: convert each accepted line half up to the cent, sum, apply the rate."""
        eligible = ZERO
        for line, amount in zip(lines, accepted, strict=True):
            fx = Decimal(1) if line.currency == "EUR" else self.m.rates[(line.currency, line.month)]
            eligible += to_eur(amount, line.currency, fx)
        return times_rate(eligible, rate)

    def declared(self, keys: list[str], holder: UUID, refs: list[str]) -> None:
        for key, ref in zip(keys, refs, strict=True):
            self.m.receipts[key] = holder
            if key not in self.m.declared:
                self.m.declared.add(key)
                self.known_refs.append(ref.strip())

    # --- the grant ----------------------------------------------------------------------
    @initialize(target=missions, data=st.data())
    def sign_grant(self, data: st.DataObject) -> UUID:
        """Six partners, EUR 500,000 in all, with small FSTP lines so that approvals run out of
        budget; then some of the months' rates and a first mission, so that claims come early."""
        budget = alliance_budget("5000.00")
        for partner in PARTNER_CODES:
            fstp = scaled(data.draw(st.integers(3000, 8000), label=f"{partner} FSTP"), 0)
            shift = fstp - budget[partner]["FSTP"].amount
            budget[partner]["FSTP"] = eur(fstp)
            budget[partner]["PERSONNEL"] = eur(budget[partner]["PERSONNEL"].amount - shift)
        sme_cap = data.draw(
            st.one_of(st.just(Decimal("60000.00")), st.integers(2000, 5000).map(lambda n: scaled(n, 0))),
            label="cap per SME over the grant",
        )
        self.app.sign_grant(
            actor=COORDINATOR,
            code="EU-ALLIANCE",
            title="European Alliance for International Business development",
            total=eur(GRANT_TOTAL),
            funding_rate=FUNDING_RATE,
            eu_cap=eur(EU_CAP),
            period_start=PERIOD_START,
            period_end=PERIOD_END,
            coordinator="TECHTERA",
            partners=PARTNERS,
            budget=budget,
            decision_ref="GA-101038166",
            on=PERIOD_START,
            sme_support_cap=eur(sme_cap),
        )
        self.model = LedgerModel(
            total=GRANT_TOTAL,
            funding_rate=FUNDING_RATE,
            eu_cap=EU_CAP,
            sme_cap=sme_cap,
            period_start=PERIOD_START,
            period_end=PERIOD_END,
            partners=PARTNER_CODES,
            lines={
                (p, c): LineModel(budget[p][c].amount if c in budget[p] else ZERO)
                for p in PARTNER_CODES
                for c in CATEGORIES
            },
        )
        pairs = [(currency, month) for currency in FOREIGN for month in MONTHS]
        for currency, month in data.draw(st.lists(st.sampled_from(pairs), unique=True), label="rates known"):
            low, high, places = RATE_RANGES[currency]
            rate = scaled(data.draw(st.integers(low, high), label=f"{currency} rate"), places)
            self.attempt(
                "record rate",
                None,
                partial(
                    self.app.record_rate, actor=COORDINATOR, currency=currency, month=f"2023-{month:02d}", rate=rate
                ),
            )
            self.m.rates[(currency, f"2023-{month:02d}")] = rate
        mission = self.draw_mission(data)
        mission_id = self.attempt("open mission", None, lambda: self._open(mission, COORDINATOR))
        assert mission_id is not None
        self.m.missions[mission_id] = mission
        return mission_id

    @invariant()
    def invariants_hold(self) -> None:
        check_all(self.app, self.m)

    @rule(data=st.data())
    def transfer_budget(self, data: st.DataObject) -> None:
        """The coordinator moves budget between lines; the source keeps what is committed, paid or spent."""
        by_officer = data.draw(st.integers(0, 9), label="actor") == 9
        actor = officer(data.draw(st.sampled_from(PARTNER_CODES), label="officer of")) if by_officer else COORDINATOR
        categories = st.one_of(st.just(FSTP), st.sampled_from(CATEGORIES))
        source = (data.draw(st.sampled_from(PARTNER_CODES), label="from"), data.draw(categories, label="from cat"))
        target = (data.draw(st.sampled_from(PARTNER_CODES), label="to"), data.draw(categories, label="to cat"))
        amount = scaled(data.draw(st.integers(1, 800000), label="cents"), 2)
        line = self.m.lines[source]
        expected: type[LedgerError] | None = None
        if by_officer:
            expected = NotAllowed
        elif source == target:
            expected = InvalidInput
        elif line.allocated - line.committed - line.paid - line.spent < amount:
            expected = BudgetExceeded
        self.attempt(
            "transfer",
            expected,
            lambda: self.app.transfer_budget(
                actor=actor,
                transfer_id=self.new_id(),
                from_partner=source[0],
                from_category=source[1],
                to_partner=target[0],
                to_category=target[1],
                amount=eur(amount),
                decision_ref="CONSORTIUM-DECISION-7",
                reason="reallocation agreed at the steering committee",
                on=TRANSFERRED_ON,
            ),
        )
        if expected is None:
            self.m.lines[source].allocated -= amount
            self.m.lines[target].allocated += amount

    # --- missions, SMEs and rates ---------------------------------------------------------
    def draw_mission(self, data: st.DataObject) -> MissionModel:
        return MissionModel(
            code=f"M{len(self.m.missions) + 1}-2023",
            partner=data.draw(st.sampled_from(PARTNER_CODES), label="responsible partner"),
            rate=scaled(data.draw(st.integers(50, 90), label="rate %"), 2),
            cap=scaled(data.draw(st.integers(100000, 300000), label="cap cents"), 2),
            cost_types=tuple(sorted(data.draw(st.sets(st.sampled_from(COST_TYPES), min_size=2), label="types"))),
        )

    @rule(target=missions, data=st.data())
    def open_mission(self, data: st.DataObject) -> UUID | MultipleResults[UUID]:
        """A few missions; opening one again is harmless, but not with another cap under its code."""
        if len(self.m.missions) >= 4 or data.draw(st.integers(0, 4), label="code used before?") == 0:
            mission_id = data.draw(st.sampled_from(sorted(self.m.missions)), label="mission")
            mission = self.m.missions[mission_id]
            changed = data.draw(st.booleans(), label="another cap")
            again = MissionModel(mission.code, mission.partner, mission.rate, mission.cap + CENT, mission.cost_types)
            found = self.attempt(
                "open mission again",
                IdempotencyConflict if changed else None,
                lambda: self._open(again if changed else mission, COORDINATOR),
                records=False,
            )
            assert found in {None, mission_id}
            return multiple()
        by_officer = data.draw(st.integers(0, 9), label="actor") == 9
        mission = self.draw_mission(data)
        found = self.attempt(
            "open mission",
            NotAllowed if by_officer else None,
            lambda: self._open(mission, officer(mission.partner) if by_officer else COORDINATOR),
        )
        if found is None:
            return multiple()
        self.m.missions[found] = mission
        return found

    def _open(self, mission: MissionModel, actor: Actor) -> UUID:
        return self.app.open_mission(
            actor=actor,
            code=mission.code,
            country="JP",
            city="Tokyo",
            start=MISSION_START,
            end=MISSION_END,
            responsible_partner=mission.partner,
            reimbursement_rate=mission.rate,
            cap_per_sme=eur(mission.cap),
            eligible_cost_types=list(mission.cost_types),
            on=MISSION_OPENED_ON,
        )

    @precondition(lambda self: len(self.m.smes) < 5)
    @rule(target=smes, mission_id=missions, data=st.data())
    def register_sme(self, mission_id: UUID, data: st.DataObject) -> UUID | MultipleResults[UUID]:
        """Register an SME (an identifier is registered once, however it is typed) and select it."""
        who = data.draw(st.integers(0, 9), label="actor")
        actor = COORDINATOR if who == 8 else AUDITOR if who == 9 else officer(PARTNER_CODES[who % 6])
        number = data.draw(st.integers(1, 6), label="identifier")
        identifier = data.draw(
            st.sampled_from(
                [
                    f"IT{number:011d}",
                    f"it{number:011d}",
                    f" IT{number:011d}  ",
                    f"IT {number:011d}",
                    f"I.T-{number:011d}",
                ]
            ),
            label="typed as",
        )
        known = {sme.identifier for sme in self.m.smes.values()}
        expected: type[LedgerError] | None = None
        if who == 9:
            expected = NotAllowed
        elif normalised(identifier) in known:
            expected = SmeAlreadyRegistered
        sme_id = self.new_id()
        self.attempt(
            "register SME",
            expected,
            lambda: self.app.register_sme(
                actor=actor,
                sme_id=sme_id,
                legal_name=f"SME {number} S.r.l.",
                country="IT",
                identifier=identifier,
                on=REGISTERED_ON,
            ),
        )
        if expected is not None:
            return multiple()
        self.m.smes[sme_id] = SmeModel(identifier=normalised(identifier))
        self._select(sme_id, mission_id, officer(self.m.missions[mission_id].partner), allowed=True)
        return sme_id

    @rule(sme_id=smes, mission_id=missions, data=st.data())
    def select_sme(self, sme_id: UUID, mission_id: UUID, data: st.DataObject) -> None:
        """Only the mission partner's officers select SMEs; selecting again records nothing."""
        actor, allowed = self.draw_officer(data, self.m.missions[mission_id].partner)
        self._select(sme_id, mission_id, actor, allowed=allowed)

    def _select(self, sme_id: UUID, mission_id: UUID, actor: Actor, *, allowed: bool) -> None:
        sme = self.m.smes[sme_id]
        already = mission_id in sme.approved
        self.attempt(
            "select SME",
            None if allowed else NotAllowed,
            lambda: self.app.select_sme(actor=actor, mission_id=mission_id, sme_id=sme_id, on=SELECTED_ON),
            records=not already,
        )
        if allowed and not already:
            sme.approved[mission_id] = ZERO

    @rule(data=st.data())
    def record_rate(self, data: st.DataObject) -> None:
        who = data.draw(st.integers(0, 9), label="actor")
        actor = AUDITOR if who == 9 else COORDINATOR if who == 8 else officer(PARTNER_CODES[who % 6])
        currency = data.draw(st.sampled_from(FOREIGN), label="currency")
        month = f"2023-{data.draw(st.sampled_from(MONTHS), label='month'):02d}"
        low, high, places = RATE_RANGES[currency]
        existing = self.m.rates.get((currency, month))
        rate = scaled(data.draw(st.integers(low, high), label="rate"), places)
        if existing is not None and data.draw(st.booleans(), label="same rate again"):
            rate = existing
        expected: type[LedgerError] | None = None
        if who == 9:
            expected = NotAllowed
        elif existing is not None and existing != rate:
            expected = RateAlreadyRecorded
        self.attempt(
            "record rate",
            expected,
            lambda: self.app.record_rate(actor=actor, currency=currency, month=month, rate=rate),
            records=existing is None,
        )
        if expected is None:
            self.m.rates[(currency, month)] = rate

    # --- claims ---------------------------------------------------------------------------
    @rule(target=claims, mission_id=missions, sme_id=smes, data=st.data())
    def submit_claim(self, mission_id: UUID, sme_id: UUID, data: st.DataObject) -> UUID | MultipleResults[UUID]:
        """The model predicts, in the ledger's order: authority, selection, eligible cost types,
        rates for every foreign month, then each receipt (twice in the claim, or already held)."""
        selected = sorted((m, s) for s, sme in self.m.smes.items() for m in sme.approved)
        if selected and data.draw(st.integers(0, 9), label="SME selected for the mission?") > 1:
            mission_id, sme_id = data.draw(st.sampled_from(selected), label="selected SME")
        mission = self.m.missions[mission_id]
        actor, allowed = self.draw_officer(data, mission.partner)
        lines: list[LineInput] = []
        for _ in range(data.draw(st.integers(1, 3), label="lines")):
            lines.append(self.draw_line(data, mission, [line.receipt_ref for line in lines]))
        keys = [normalised(line.receipt_ref) for line in lines]
        expected: type[LedgerError] | None = None
        if not allowed:
            expected = NotAllowed
        elif mission_id not in self.m.smes[sme_id].approved:
            expected = SmeNotSelected
        elif any(line.cost_type not in mission.cost_types for line in lines):
            expected = IneligibleCostType
        elif any(line.currency != "EUR" and (line.currency, line.month) not in self.m.rates for line in lines):
            expected = RateMissing
        else:
            for no, key in enumerate(keys):
                if key in keys[:no]:
                    expected = InvalidInput
                    break
                if key in self.m.receipts:
                    expected = ReceiptAlreadyUsed
                    break
        claim_id = self.new_id()
        self.attempt(
            "submit claim",
            expected,
            lambda: self._submit(actor, claim_id, sme_id, mission_id, lines, SUBMITTED_ON),
        )
        if expected is not None:
            return multiple()
        frozen = tuple(lines)
        estimate = self.assessed(frozen, [line.amount for line in frozen], mission.rate)
        self.m.claims[claim_id] = ClaimModel(
            partner=mission.partner,
            sme_id=sme_id,
            mission_id=mission_id,
            lines=frozen,
            submitted_on=SUBMITTED_ON,
            requested=min(estimate, mission.cap),
        )
        self.declared(keys, claim_id, [line.receipt_ref for line in lines])
        return claim_id

    def _submit(
        self, actor: Actor, claim_id: UUID, sme_id: UUID, mission_id: UUID, lines: list[LineInput], on: date
    ) -> UUID:
        return self.app.submit_claim(
            actor=actor,
            claim_id=claim_id,
            sme_id=sme_id,
            mission_id=mission_id,
            lines=[
                ExpenseLine(
                    line.cost_type,
                    line.expense_date,
                    Money(line.amount, line.currency),
                    line.receipt_ref,
                    f"{line.cost_type.lower()} in {line.currency}",
                )
                for line in lines
            ],
            on=on,
        )

    @rule(claim_id=claims, changed=st.booleans())
    def submit_claim_again(self, claim_id: UUID, changed: bool) -> None:
        """A retried submission records nothing; the same claim id with another date is refused."""
        claim = self.m.claims[claim_id]
        on = claim.submitted_on + timedelta(days=1) if changed else claim.submitted_on
        found = self.attempt(
            "submit claim again",
            IdempotencyConflict if changed else None,
            lambda: self._submit(officer(claim.partner), claim_id, claim.sme_id, claim.mission_id, [*claim.lines], on),
            records=False,
        )
        if found is not None:
            assert found == claim_id

    @precondition(lambda self: any(c.state == SUBMITTED for c in self.m.claims.values()))
    @rule(claim_id=claims, data=st.data())
    def approve_claim(self, claim_id: UUID, data: st.DataObject) -> None:
        """Approve fully or per line; approved = min(rate x EUR costs, caps left), within the FSTP line."""
        claim_id = self.draw_claim(data, claim_id, SUBMITTED)
        claim = self.m.claims[claim_id]
        actor, allowed = self.draw_officer(data, claim.partner)
        how = data.draw(st.integers(0, 9), label="approve how")
        decisions: list[LineDecision] = []
        accepted = [line.amount for line in claim.lines]
        if how >= 6:
            for no, line in enumerate(claim.lines, start=1):
                units = 0 if how == 9 else data.draw(st.integers(0, minor_units(line.amount, line.currency)))
                accepted[no - 1] = scaled(units, PLACES[line.currency])
                reason = "" if accepted[no - 1] == line.amount else "recoverable VAT is not eligible"
                decisions.append(LineDecision(no, Money(accepted[no - 1], line.currency), reason))
        mission = self.m.missions[claim.mission_id]
        sme = self.m.smes[claim.sme_id]
        budget = self.m.fstp(claim.partner)
        reimbursement = self.assessed(claim.lines, accepted, mission.rate)
        on = claim.dated(APPROVED_ON)
        approved = min(reimbursement, mission.cap - sme.approved[claim.mission_id], self.m.sme_cap - sme.total)
        expected: type[LedgerError] | None = None
        if not allowed:
            expected = NotAllowed
        elif claim.state != SUBMITTED:
            expected = ClaimNotInState
        elif reimbursement == 0:
            expected = Refused
        elif approved <= 0:
            expected = SmeCapReached
        elif budget.committed + budget.paid + approved > budget.allocated:
            expected = BudgetExceeded
        result = self.attempt(
            "approve claim",
            expected,
            lambda: self.app.approve_claim(
                actor=actor, claim_id=claim_id, on=on, decisions=decisions, reason="checked receipts"
            ),
        )
        if expected is not None:
            return
        claim.approved_on = on
        self.changed(claim_id, on)
        assert result == eur(approved), f"approved {result}, the model says {approved}"
        if approved < reimbursement:
            event("approve claim: capped")
        claim.state, claim.approved = APPROVED, approved
        budget.committed += approved
        sme.approved[claim.mission_id] += approved

    @precondition(lambda self: any(c.state == SUBMITTED for c in self.m.claims.values()))
    @rule(claim_id=claims, data=st.data(), withdraw=st.booleans())
    def close_claim(self, claim_id: UUID, data: st.DataObject, withdraw: bool) -> None:
        self._close(claim_id, data, WITHDRAWN if withdraw else REJECTED)

    def _close(self, claim_id: UUID, data: st.DataObject, state: str) -> None:
        """Reject or withdraw a submitted claim: its receipts may be declared again."""
        claim_id = self.draw_claim(data, claim_id, SUBMITTED)
        claim = self.m.claims[claim_id]
        actor, allowed = self.draw_officer(data, claim.partner)
        expected: type[LedgerError] | None = None
        if not allowed:
            expected = NotAllowed
        elif claim.state != SUBMITTED:
            expected = ClaimNotInState
        close = self.app.reject_claim if state == REJECTED else self.app.withdraw_claim
        on = claim.dated(APPROVED_ON)
        self.attempt(
            "reject claim" if state == REJECTED else "withdraw claim",
            expected,
            lambda: close(actor=actor, claim_id=claim_id, reason="not eligible, told the SME", on=on),
        )
        if expected is None:
            self.changed(claim_id, on)
            claim.state = state
            for key in claim.receipt_keys:
                if self.m.receipts.get(key) == claim_id:
                    del self.m.receipts[key]

    # --- payments ---------------------------------------------------------------------------
    @precondition(lambda self: any(c.state in PAYABLE for c in self.m.claims.values()))
    @rule(target=payments, claim_id=claims, data=st.data())
    def pay_claim(self, claim_id: UUID, data: st.DataObject) -> UUID | MultipleResults[UUID]:
        """Pay what is outstanding, often less (the claim is then partly paid, the rest still
        committed), sometimes more, which is refused as an overpayment."""
        claim_id = self.draw_claim(data, claim_id, *PAYABLE)
        claim = self.m.claims[claim_id]
        actor, allowed = self.draw_officer(data, claim.partner)
        how = data.draw(st.integers(0, 9), label="pay how")
        outstanding = claim.outstanding
        if outstanding <= ZERO:
            amount = scaled(data.draw(st.integers(1, 200000), label="cents"), 2)
        elif how < 4 or (how < 9 and outstanding <= CENT):
            amount = outstanding
        elif how < 9:
            amount = scaled(data.draw(st.integers(1, minor_units(outstanding, "EUR") - 1), label="cents"), 2)
        else:
            amount = outstanding + scaled(data.draw(st.integers(1, 10000), label="cents over"), 2)
        on, early = self.draw_date(data, claim, PAID_ON)
        expected: type[LedgerError] | None = None
        if not allowed:
            expected = NotAllowed
        elif claim.state not in PAYABLE:
            expected = ClaimNotInState
        elif amount > outstanding:
            expected = Overpayment
        elif early or any(self.payment_record(pid)[1] > on for pid in claim.payments):
            expected = InvalidInput  # before the claim's last change, or a live payment's corrected date
        payment_id = self.new_id()
        self.attempt(
            "pay claim",
            expected,
            lambda: self.app.record_payment(
                actor=actor,
                payment_id=payment_id,
                claim_id=claim_id,
                amount=eur(amount),
                bank_reference=f"SEPA-{payment_id.int:06d}",
                on=on,
            ),
        )
        if expected is not None:
            return multiple()
        self.paid(claim_id, payment_id, amount, on)
        return payment_id

    def changed(self, claim_id: UUID, on: date) -> None:
        """The model after an event of the claim dated ``on``: the claim's last business date,
        and the next event of each of its payments that had none yet."""
        for payment in self.m.payments.values():
            if payment.claim_id == claim_id and payment.next_on is None:
                payment.next_on = on
        self.m.claims[claim_id].last_on = on

    def paid(self, claim_id: UUID, payment_id: UUID, amount: Decimal, on: date) -> None:
        """The model after a payment (value date ``on``): what it pays moves from committed to paid."""
        claim = self.m.claims[claim_id]
        assert claim.approved_on is not None, "a payment follows an approval"
        before = claim.dated(claim.submitted_on)
        self.changed(claim_id, on)
        if amount < claim.outstanding:
            event("pay claim: partly")
        budget = self.m.fstp(claim.partner)
        budget.committed -= amount
        budget.paid += amount
        claim.paid += amount
        claim.payments[payment_id] = amount
        claim.state = claim.state_after_payments()
        self.m.payments[payment_id] = PaymentModel(claim_id, claim.partner, amount, on, claim.approved_on, before)

    @precondition(lambda self: any(not p.reversed for p in self.m.payments.values()))
    @rule(payment_id=payments, data=st.data())
    def reverse_payment(self, payment_id: UUID, data: st.DataObject) -> None:
        """A bank return undoes exactly that payment and commits again what it paid: never
        refused by the budget (committed + paid does not change)."""
        live = sorted(pid for pid, p in self.m.payments.items() if not p.reversed)
        if live and data.draw(st.integers(0, 9), label="unreversed payment?") > 0:
            payment_id = data.draw(st.sampled_from(live), label="unreversed payment")
        payment = self.m.payments[payment_id]
        actor, allowed = self.draw_officer(data, payment.partner)
        on = self.m.claims[payment.claim_id].dated(REVERSED_ON)
        expected: type[LedgerError] | None = None
        if not allowed:
            expected = NotAllowed
        elif payment.reversed:
            expected = PaymentAlreadyReversed
        elif self.payment_record(payment_id)[1] > on:
            expected = InvalidInput  # its value date was corrected to after the bank return's date
        self.attempt(
            "reverse payment",
            expected,
            lambda: self.app.reverse_payment(
                actor=actor, payment_id=payment_id, reason="bank return: account closed", on=on
            ),
        )
        if expected is None:
            self.returned(payment_id, on)

    def returned(self, payment_id: UUID, on: date) -> None:
        payment = self.m.payments[payment_id]
        claim = self.m.claims[payment.claim_id]
        self.changed(payment.claim_id, on)
        if len(claim.payments) > 1:
            event("reverse payment: one of several")
        payment.reversed = True
        budget = self.m.fstp(payment.partner)
        budget.paid -= payment.amount
        budget.committed += payment.amount
        claim.paid -= payment.amount
        del claim.payments[payment_id]
        claim.state = claim.state_after_payments()

    @precondition(lambda self: any(c.state == PARTLY_PAID for c in self.m.claims.values()))
    @rule(claim_id=claims, data=st.data())
    def settle_short(self, claim_id: UUID, data: st.DataObject) -> None:
        """The rest of a partly paid claim settled short: released on the line and the SME's caps."""
        claim_id = self.draw_claim(data, claim_id, PARTLY_PAID)
        claim = self.m.claims[claim_id]
        actor, allowed = self.draw_officer(data, claim.partner)
        on = claim.dated(SETTLED_ON)
        expected: type[LedgerError] | None = None
        if not allowed:
            expected = NotAllowed
        elif claim.state != PARTLY_PAID:
            expected = ClaimNotInState
        elif any(self.payment_record(pid)[1] > on for pid in claim.payments):
            expected = InvalidInput  # a live payment's value date was corrected to after it
        released = self.attempt(
            "settle short",
            expected,
            lambda: self.app.settle_claim(actor=actor, claim_id=claim_id, reason="agreed with the SME", on=on),
        )
        if expected is not None:
            return
        self.changed(claim_id, on)
        amount = claim.outstanding
        assert released == eur(amount), f"settled {released} short, the model says {amount}"
        self.m.fstp(claim.partner).committed -= amount
        self.m.smes[claim.sme_id].approved[claim.mission_id] -= amount
        claim.settled_short += amount
        claim.support_released += amount
        claim.state = PAID

    @precondition(lambda self: any(c.approved is not None for c in self.m.claims.values()))
    @rule(claim_id=claims, data=st.data(), reject=st.booleans())
    def revoke_approval(self, claim_id: UUID, data: st.DataObject, reject: bool) -> None:
        """An approval taken back: only without a live payment (else refused, naming them);
        the claim is submitted again (or rejected), its commitment and support released."""
        claim_id = self.draw_claim(data, claim_id, APPROVED, PARTLY_PAID)
        claim = self.m.claims[claim_id]
        actor, allowed = self.draw_officer(data, claim.partner)
        on, early = self.draw_date(data, claim, REVOKED_ON)
        expected: type[LedgerError] | None = None
        if not allowed:
            expected = NotAllowed
        elif claim.payments or claim.state != APPROVED:
            expected = ClaimNotInState
        elif early:
            expected = InvalidInput
        self.attempt(
            "revoke approval and reject" if reject else "revoke approval",
            expected,
            lambda: self.app.revoke_approval(
                actor=actor, claim_id=claim_id, reason="approved by mistake", on=on, reject=reject
            ),
        )
        if expected is not None or claim.approved is None:
            return
        self.changed(claim_id, on)
        self.m.fstp(claim.partner).committed -= claim.outstanding
        self.m.smes[claim.sme_id].approved[claim.mission_id] -= claim.approved - claim.support_released
        claim.unapprove()
        claim.state = SUBMITTED
        if reject:
            claim.state = REJECTED
            for key in claim.receipt_keys:
                if self.m.receipts.get(key) == claim_id:
                    del self.m.receipts[key]

    @rule(mission_id=missions, data=st.data())
    def claim_story(self, mission_id: UUID, data: st.DataObject) -> None:
        """A claim submitted, approved and then paid and corrected in one rule, through the
        rules above (the model predicts each step, refusals included): single steps seldom
        reach partial payments, settling short, reversals of one of several payments and
        revocations followed by a new approval."""
        if not any(mission_id in sme.approved for sme in self.m.smes.values()):
            self.register_sme(mission_id, data)
        selected = sorted(sme_id for sme_id, sme in self.m.smes.items() if mission_id in sme.approved)
        if not selected:
            return
        claim_id = self.submit_claim(mission_id, data.draw(st.sampled_from(selected), label="SME"), data)
        if not isinstance(claim_id, UUID):
            return
        self.approve_claim(claim_id, data)
        if self.m.claims[claim_id].state in PAYABLE:
            self.correct_payments(claim_id, data)
        if self.m.claims[claim_id].state == SUBMITTED:
            self.approve_claim(claim_id, data)  # approved again after a revocation

    @precondition(lambda self: any(c.state in PAYABLE for c in self.m.claims.values()))
    @rule(claim_id=claims, data=st.data())
    def correct_payments(self, claim_id: UUID, data: st.DataObject) -> None:
        """Several payment steps in one rule, through the rules above (so the model predicts
        each, refusals included), as single steps rarely get this far: payments, often partial,
        then a bank return of one of them, settling the rest short, or a revocation."""
        for _ in range(data.draw(st.integers(1, 3), label="payments")):
            self.pay_claim(claim_id, data)
        then = data.draw(st.integers(0, 3), label="then")
        if then == 0:
            self.settle_short(claim_id, data)
        elif then == 1 and self.m.payments:
            self.reverse_payment(data.draw(st.sampled_from(sorted(self.m.payments)), label="payment"), data)
        elif then == 2:
            self.revoke_approval(claim_id, data, data.draw(st.booleans(), label="and reject"))

    # --- partners' own costs --------------------------------------------------------------
    @rule(data=st.data())
    def record_cost(self, data: st.DataObject) -> None:
        """A partner's own EUR cost: spent on its line; its document is a receipt like any other."""
        partner = data.draw(st.sampled_from(PARTNER_CODES), label="partner")
        actor, allowed = self.draw_officer(data, partner)
        category = data.draw(st.sampled_from(OWN_COST_CATEGORIES), label="category")
        amount = scaled(data.draw(st.integers(100, 300000), label="cents"), 2)
        ref = self.draw_ref(data, [])
        key = normalised(ref)
        expected: type[LedgerError] | None = None
        if not allowed:
            expected = NotAllowed
        elif key in self.m.receipts:
            expected = ReceiptAlreadyUsed
        cost_id = self.new_id()
        self.attempt(
            "record cost",
            expected,
            lambda: self.app.record_cost(
                actor=actor,
                cost_id=cost_id,
                partner=partner,
                category=category,
                amount=eur(amount),
                document_ref=ref,
                description="invoice",
                on=date(2023, 5, 2),
            ),
        )
        if expected is None:
            self.m.lines[(partner, category)].spent += amount
            self.declared([key], cost_id, [ref])


TestLedgerStateMachine = LedgerMachine.TestCase
