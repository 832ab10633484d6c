"""The demo's claims, planned from one seeded random generator (pure: no application): what
each SME claims on each mission, and what becomes of each claim."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from enum import Enum
from uuid import UUID

from api.demo_data import (
    MISSIONS,
    PERIOD_END,
    RATE_CURRENCIES,
    RATES,
    SINGLE_CLAIM_SHARE,
    SMES,
    MissionPlan,
    SmePlan,
    demo_id,
)
from ledger.claim import ExpenseLine, LineDecision
from ledger.mission import CostType
from ledger.money import EUR, MINOR_UNITS, Money


# --- what becomes of the claims -----------------------------------------------------------
class Fate(Enum):
    PENDING = "submitted, not yet decided"
    APPROVED = "approved in full, not yet paid"
    APPROVED_PARTLY = "approved in part, not yet paid"
    PAID = "approved in full and paid"
    PAID_PARTLY = "approved in part and paid"
    RETURNED = "paid, then returned by the bank"
    PAID_IN_PART = "approved in full, paid in part: the rest is outstanding"
    SETTLED_SHORT = "approved in full, paid in part, the rest settled short"
    REVOKED = "approved, then the approval revoked: submitted again"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"

    @property
    def approves(self) -> bool:
        return self not in {Fate.PENDING, Fate.REJECTED, Fate.WITHDRAWN}

    @property
    def pays_in_part(self) -> bool:
        return self in {Fate.PAID_IN_PART, Fate.SETTLED_SHORT}

    @property
    def partly(self) -> bool:
        return self in {Fate.APPROVED_PARTLY, Fate.PAID_PARTLY}

    @property
    def pays(self) -> bool:
        return self in {Fate.PAID, Fate.PAID_PARTLY, Fate.RETURNED, Fate.PAID_IN_PART, Fate.SETTLED_SHORT}


#: Letters for FATES: P paid, p paid after a partial approval, A approved (unpaid), a approved in
#: part (unpaid), N pending, R rejected, W withdrawn, B paid and then returned by the bank,
#: H paid in part (half: the rest outstanding), S paid in part and the rest settled short,
#: V approved and the approval revoked.
FATE_LETTERS = {
    "P": Fate.PAID,
    "p": Fate.PAID_PARTLY,
    "A": Fate.APPROVED,
    "a": Fate.APPROVED_PARTLY,
    "N": Fate.PENDING,
    "R": Fate.REJECTED,
    "W": Fate.WITHDRAWN,
    "B": Fate.RETURNED,
    "H": Fate.PAID_IN_PART,
    "S": Fate.SETTLED_SHORT,
    "V": Fate.REVOKED,
}
#: Corrections shown once each (in a mission's first cycle); later in the cycle, what they become.
ONCE = {
    Fate.RETURNED: Fate.PAID,
    Fate.PAID_IN_PART: Fate.PAID,
    Fate.SETTLED_SHORT: Fate.PAID,
    Fate.REVOKED: Fate.APPROVED,
}
#: Outcomes of each mission's claims, in turn (repeated): older missions are settled, the
#: latest has claims still pending. The bank returns one payment only: the first B; one claim
#: is paid in part (H), one settled short (S), one approval revoked (V).
FATES = {
    "USA-2022": "PPpPRPPWpP",
    "IDN-2023": "PpSPRPWPp",
    "JPN-2023": "BPaPRpPAHW",
    "CAN-2023": "ANPaNRPWVNp",
}

#: Partial approvals: the share of a line accepted and why, by cost type (foreign receipts).
REDUCTIONS = {
    CostType.ACCOMMODATION: (Decimal("0.85"), "minibar and laundry on the hotel bill are not eligible"),
    CostType.TRAVEL: (Decimal("0.70"), "business-class supplement is not eligible: the economy fare is accepted"),
    CostType.STAND: (Decimal("0.80"), "furniture hire beyond the standard stand package is not eligible"),
    CostType.REGISTRATION_FEE: (Decimal("0.75"), "the gala dinner ticket on the registration invoice is not eligible"),
}
#: EUR invoices from European suppliers carry VAT the SME recovers.
VAT_RATE = Decimal("0.20")
VAT_REASON = "recoverable VAT (20%) is not eligible: the SME recovers it"
REJECTIONS = (
    "the same costs were funded by a regional internationalisation voucher (no double funding)",
    "the hotel invoice names a person who is not employed by the SME",
    "the receipts are illegible and no readable copy was sent within 30 days",
)
WITHDRAWALS = (
    "the SME withdrew it: its delegate did not travel and the costs were refunded",
    "the SME withdrew it: the costs are claimed under its national export programme",
)
BANK_RETURN_DAYS = 6
BANK_RETURN = "bank return (SEPA reason AC04, account closed): waiting for the SME's new bank details"
#: The share of the approved amount paid first by a payment in part.
PART_PAID = Decimal("0.60")
SETTLEMENT = "the SME agreed to close the claim: the taxi and meal receipts it still owed were never sent"
REVOCATION = "approved with the wrong month's exchange rate: to be assessed again once the rate is corrected"
SEED = 2021


# --- planning the claims (pure: no application) --------------------------------------------
@dataclass(frozen=True)
class ClaimPlan:
    """One claim and everything that will happen to it."""

    key: str
    claim_id: UUID
    sme: SmePlan
    mission: MissionPlan
    lines: tuple[ExpenseLine, ...]
    submitted_on: date
    fate: Fate
    decided_on: date
    decisions: tuple[LineDecision, ...]
    #: Why it was approved, rejected or withdrawn ("" while pending).
    reason: str
    paid_on: date
    bank_reference: str
    returned_on: date

    @property
    def payment_id(self) -> UUID:
        return demo_id("payment", self.key)


def _rate(currency: str, day: date) -> Decimal:
    return Decimal(RATES[f"{day:%Y-%m}"][RATE_CURRENCIES.index(currency)])


def _price(rng: random.Random, eur_range: tuple[int, int], currency: str, day: date) -> Money:
    """A plausible price worth about EUR low..high, as a receipt in ``currency`` shows it."""
    eur = Decimal(rng.randint(eur_range[0] * 100, eur_range[1] * 100)).scaleb(-2)
    if currency == EUR:
        return Money.eur(eur)
    step = {"JPY": Decimal(100), "IDR": Decimal(1000)}.get(currency, Decimal("0.01"))
    local = (eur * _rate(currency, day) / step).quantize(Decimal(1), ROUND_HALF_UP) * step
    return Money(local.quantize(Decimal(1).scaleb(-MINOR_UNITS[currency])), currency)


def _first_claim_lines(rng: random.Random, m: MissionPlan) -> list[tuple[CostType, date, Money, str]]:
    """Travel and stay, sometimes the registration fee: at most EUR 2,100, so EUR 1,470 at 70%."""
    flight_day = m.start - timedelta(days=rng.randint(20, 45))
    nights = (m.end - m.start).days + 1  # arriving the evening before
    lines = [
        (CostType.TRAVEL, flight_day, _price(rng, (450, 900), EUR, flight_day), f"return flight to {m.city}"),
        (
            CostType.ACCOMMODATION,
            m.end,
            _price(rng, (300, 800), m.currency, m.end),
            f"hotel in {m.city}, {nights} nights",
        ),
    ]
    if rng.random() < 0.5:
        fee_day = m.start - timedelta(days=rng.randint(25, 55))
        currency = EUR if rng.random() < 0.5 else m.currency
        lines.append(
            (
                CostType.REGISTRATION_FEE,
                fee_day,
                _price(rng, (150, 400), currency, fee_day),
                f"registration fee, {m.event}",
            )
        )
    return lines


def _second_claim_lines(rng: random.Random, m: MissionPlan) -> list[tuple[CostType, date, Money, str]]:
    """The stand on the EU-ALLIANCE pavilion: at most EUR 1,200, so EUR 840 at 70%."""
    day = m.start - timedelta(days=rng.randint(10, 30))
    currency = EUR if rng.random() < 0.3 else m.currency
    return [(CostType.STAND, day, _price(rng, (400, 1200), currency, day), f"shared stand, {m.event}")]


def _reductions(lines: tuple[ExpenseLine, ...]) -> tuple[LineDecision, ...]:
    """A partial approval: VAT off European invoices and the hotel extras, else the first line."""
    decisions = []
    for no, line in enumerate(lines, start=1):
        if line.amount.currency == EUR and line.cost_type in {CostType.REGISTRATION_FEE, CostType.STAND}:
            decisions.append(_reduce(no, line, 1 / (1 + VAT_RATE), VAT_REASON))
        elif line.cost_type == CostType.ACCOMMODATION:
            decisions.append(_reduce(no, line, *REDUCTIONS[CostType.ACCOMMODATION]))
    if not decisions:
        decisions.append(_reduce(1, lines[0], *REDUCTIONS[CostType(lines[0].cost_type)]))
    return tuple(decisions)


def _reduce(no: int, line: ExpenseLine, share: Decimal, reason: str) -> LineDecision:
    unit = Decimal(1).scaleb(-MINOR_UNITS[line.amount.currency])
    accepted = (line.amount.amount * share).quantize(unit, ROUND_DOWN)
    return LineDecision(no, Money(accepted, line.amount.currency), reason)


def _fate(mission: MissionPlan, index: int) -> Fate:
    cycle = FATES[mission.code]
    fate = FATE_LETTERS[cycle[index % len(cycle)]]
    return ONCE.get(fate, fate) if index >= len(cycle) else fate


def _days(rng: random.Random, day: date, low: int, high: int) -> date:
    """A business date some days after ``day``, never after the action period."""
    return min(day + timedelta(days=rng.randint(low, high)), PERIOD_END)


def plan_claims(seed: int = SEED) -> tuple[ClaimPlan, ...]:
    """Every claim of the demo with its lines, dates and fate, the same for the same seed."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    plans: list[ClaimPlan] = []
    for mission in MISSIONS:
        index = 0
        for sme in (s for s in SMES if mission.code in s.missions):
            count = 1 if rng.random() < SINGLE_CLAIM_SHARE else 2
            for n in range(1, count + 1):
                fate = _fate(mission, index)
                index += 1
                draft = _first_claim_lines(rng, mission) if n == 1 else _second_claim_lines(rng, mission)
                key = f"{mission.code}/{sme.identifier}/{n}"
                lines = tuple(
                    ExpenseLine(t.value, day, amount, f"{key}.{no}", description)
                    for no, (t, day, amount, description) in enumerate(draft, start=1)
                )
                submitted = _days(rng, mission.end, 3, 20) if n == 1 else _days(rng, mission.end, 15, 35)
                decided = _days(rng, submitted, 7, 28)
                paid = _days(rng, decided, 5, 20)
                plans.append(
                    ClaimPlan(
                        key=key,
                        claim_id=demo_id("claim", key),
                        sme=sme,
                        mission=mission,
                        lines=lines,
                        submitted_on=submitted,
                        fate=fate,
                        decided_on=decided,
                        decisions=_reductions(lines) if fate.partly else (),
                        reason=_decision_reason(fate, len(plans)),
                        paid_on=paid,
                        bank_reference=_bank_reference(mission, paid, key) if fate.pays else "",
                        returned_on=min(paid + timedelta(days=BANK_RETURN_DAYS), PERIOD_END),
                    )
                )
    return tuple(plans)


def _bank_reference(mission: MissionPlan, paid_on: date, key: str) -> str:
    return f"SEPA-{mission.partner}-{paid_on:%Y%m%d}-{demo_id('payment', key).hex[:6].upper()}"


def _decision_reason(fate: Fate, n: int) -> str:
    if fate is Fate.REJECTED:
        return REJECTIONS[n % len(REJECTIONS)]
    if fate is Fate.WITHDRAWN:
        return WITHDRAWALS[n % len(WITHDRAWALS)]
    if fate.partly:
        return "approved in part: see the reason on each reduced line"
    return "receipts checked against the mission programme" if fate.approves else ""
