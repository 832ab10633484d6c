"""A deterministic workload: the EU-ALLIANCE grant with as many claims as asked for.

Every command goes through the real application, so the history is one the ledger itself
accepted: claims in EUR, USD, CAD, JPY and IDR with a realistic mix of outcomes (most
approved, some partly, some rejected or withdrawn; most approved claims paid, a few
payments reversed by the bank), and partners' own costs now and then. The same seed
gives the same history (ids included; recorded times differ).

For large histories, build in memory and ``copy_history`` into the store to measure: the
events are then bulk-inserted exactly as recorded.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from api.demo_data import COORDINATOR, PARTNERS, PERIOD_END, PERIOD_START
from ledger.actors import Actor
from ledger.application import GrantLedger
from ledger.claim import ExpenseLine, LineDecision
from ledger.grant import Category
from ledger.money import MINOR_UNITS, Money

#: (code, country, city, start, responsible partner, currency of most receipts)
MISSIONS = (
    ("USA-2022", "US", "Washington", date(2022, 10, 10), "TECHTERA", "USD"),
    ("IDN-2023", "ID", "Jakarta", date(2023, 2, 6), "NTT", "IDR"),
    ("JPN-2023", "JP", "Tokyo", date(2023, 3, 15), "POINTEX", "JPY"),
    ("CAN-2023", "CA", "Montreal", date(2023, 6, 5), "NIDV", "CAD"),
)
#: Illustrative monthly rates (units per EUR), not InforEuro's published figures.
RATES = {"USD": Decimal("1.0650"), "CAD": Decimal("1.4510"), "JPY": Decimal("144.20"), "IDR": Decimal("16240.50")}
COST_TYPES = ("TRAVEL", "ACCOMMODATION", "REGISTRATION_FEE", "STAND")
#: Changes whenever the same seed would give another history (names cached histories).
VERSION = 2
#: Share of approvals that accept only part of a receipt.
PARTIAL = 0.15
#: Claims per SME and mission: two claims of at most EUR 1,400 at 70% stay under the EUR 2,000 cap.
CLAIMS_PER_SME = 2
#: Reporting periods for the statements' figures, months 1-18 and 19-24 of the action period:
#: the first holds the USA mission's payments and the own costs dated with the Indonesian one,
#: the second everything after (its payments, and the missions of Tokyo and Montreal).
REPORTING_PERIODS = ((PERIOD_START, date(2023, 2, 28)), (date(2023, 3, 1), PERIOD_END))


def officer(partner: str) -> Actor:
    return Actor.officer(f"officer.{partner.lower()}", partner)


class Workload:
    """Drives one GrantLedger through a deterministic history."""

    def __init__(self, app: GrantLedger, seed: int = 2023) -> None:
        self.app = app
        self.rng = random.Random(seed)
        self.ids = random.Random(seed + 1)
        self.receipts = 0
        self.commands = 0

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.ids.getrandbits(128), version=4)

    def setup(self, claims: int) -> list[uuid.UUID]:
        """Sign a grant big enough for ``claims`` claims, rates for every month, four missions."""
        fstp = Money.eur(max(Decimal(20000), Decimal(claims) * 600))
        budget = {
            p.code: {"PERSONNEL": Money.eur("40000"), "TRAVEL": Money.eur("10000"), "FSTP": fstp} for p in PARTNERS
        }
        total = sum((line for lines in budget.values() for line in lines.values()), Money.zero())
        self.app.sign_grant(
            actor=COORDINATOR,
            code="EU-ALLIANCE",
            title="European Alliance for International Business development",
            total=total,
            funding_rate=Decimal("0.90"),
            eu_cap=Money.eur((total.amount * Decimal("0.9")).quantize(Decimal("0.01"))),
            period_start=PERIOD_START,
            period_end=PERIOD_END,
            coordinator="TECHTERA",
            partners=list(PARTNERS),
            budget=budget,
            decision_ref="GA-101038166",
            on=PERIOD_START,
        )
        month = PERIOD_START
        while month <= PERIOD_END:
            for currency, rate in RATES.items():
                self.app.record_rate(actor=COORDINATOR, currency=currency, month=month.strftime("%Y-%m"), rate=rate)
            month = (month + timedelta(days=32)).replace(day=1)
        missions = []
        for code, country, city, start, partner, _ in MISSIONS:
            missions.append(
                self.app.open_mission(
                    actor=COORDINATOR,
                    code=code,
                    country=country,
                    city=city,
                    start=start,
                    end=start + timedelta(days=3),
                    responsible_partner=partner,
                    reimbursement_rate=Decimal("0.70"),
                    cap_per_sme=Money.eur("2000"),
                    eligible_cost_types=list(COST_TYPES),
                    on=start - timedelta(days=90),
                )
            )
        return missions

    def _amount(self, currency: str) -> Money:
        eur_cents = self.rng.randint(5000, 60000)  # EUR 50 to 600 a line
        places = MINOR_UNITS[currency]
        value = Decimal(eur_cents).scaleb(-2) * (RATES.get(currency, Decimal(1)))
        return Money(value.quantize(Decimal(1).scaleb(-places)), currency)

    def claim(self, mission_no: int, mission_id: uuid.UUID, sme_id: uuid.UUID) -> None:
        """Submit one claim, then decide, pay and maybe reverse it."""
        _, _, _, start, partner, currency = MISSIONS[mission_no]
        actor = officer(partner)
        lines = []
        for _ in range(self.rng.randint(1, 2)):
            self.receipts += 1
            line_currency = currency if self.rng.random() < 0.8 else "EUR"
            lines.append(
                ExpenseLine(
                    self.rng.choice(COST_TYPES),
                    start + timedelta(days=self.rng.randint(0, 3)),
                    self._amount(line_currency),
                    f"RCPT-{self.receipts:08d}",
                    "mission expense",
                )
            )
        claim_id = self.new_id()
        submitted = start + timedelta(days=20)
        self.app.submit_claim(
            actor=actor, claim_id=claim_id, sme_id=sme_id, mission_id=mission_id, lines=lines, on=submitted
        )
        self.commands += 1
        fate = self.rng.random()
        decided = submitted + timedelta(days=5)
        if fate < 0.08:
            self.app.reject_claim(actor=actor, claim_id=claim_id, reason="receipt illegible", on=decided)
        elif fate < 0.12:
            self.app.withdraw_claim(actor=actor, claim_id=claim_id, reason="the SME withdrew it", on=decided)
        else:
            decisions = []
            if self.rng.random() < PARTIAL:  # part of the first receipt is not eligible
                first = lines[0].amount
                accepted = (first.amount * Decimal("0.6")).quantize(Decimal(1).scaleb(-MINOR_UNITS[first.currency]))
                decisions.append(LineDecision(1, Money(accepted, first.currency), "minibar and extras not eligible"))
            self.app.approve_claim(
                actor=actor, claim_id=claim_id, decisions=decisions, reason="receipts checked", on=decided
            )
            self.commands += 1
            if self.rng.random() < 0.85:
                approved = self.app.claim(claim_id).approved or Money.zero()
                payment_id = self.new_id()
                self.app.record_payment(
                    actor=actor,
                    payment_id=payment_id,
                    claim_id=claim_id,
                    amount=approved,
                    bank_reference=f"SEPA-{payment_id.hex[:12]}",
                    on=decided + timedelta(days=10),
                )
                if self.rng.random() < 0.03:
                    self.app.reverse_payment(
                        actor=actor, payment_id=payment_id, reason="bank return", on=decided + timedelta(days=20)
                    )
                    self.commands += 1
                self.commands += 1
        self.commands += 1

    def run(self, claims: int, progress: Callable[[int], None] | None = None) -> None:
        """The whole history: setup, SMEs, ``claims`` claims, an own cost every 20 claims."""
        missions = self.setup(claims)
        sme_id = self.new_id()
        for n in range(claims):
            mission_no = (n // CLAIMS_PER_SME) % len(MISSIONS)
            partner = MISSIONS[mission_no][4]
            if n % CLAIMS_PER_SME == 0:
                sme_id = self.new_id()
                self.app.register_sme(
                    actor=officer(partner),
                    sme_id=sme_id,
                    legal_name=f"SME {n // CLAIMS_PER_SME:06d} S.r.l.",
                    country=self.rng.choice(("IT", "FR", "NL", "DE", "ES", "BE")),
                    identifier=f"EU{n // CLAIMS_PER_SME:010d}",
                    on=MISSIONS[mission_no][3] - timedelta(days=60),
                )
                self.app.select_sme(
                    actor=officer(partner),
                    mission_id=missions[mission_no],
                    sme_id=sme_id,
                    on=MISSIONS[mission_no][3] - timedelta(days=50),
                )
                self.commands += 2
            self.claim(mission_no, missions[mission_no], sme_id)
            if n % 20 == 19:
                self.receipts += 1
                self.app.record_cost(
                    actor=officer(partner),
                    cost_id=self.new_id(),
                    partner=partner,
                    category=Category.TRAVEL.value,
                    amount=Money.eur(Decimal(self.rng.randint(2000, 90000)).scaleb(-2)),
                    document_ref=f"INV-{self.receipts:08d}",
                    description="staff travel",
                    on=MISSIONS[mission_no][3],
                )
                self.commands += 1
            if progress is not None and n % 500 == 499:
                progress(n + 1)


def set_reporting_periods(app: GrantLedger) -> None:
    """The coordinator sets ``REPORTING_PERIODS``. Not part of ``Workload.run``: the cached
    histories of workload version 2 were generated without them, so the statements' benchmark
    adds this one event to its own copy (bench.histories.books) rather than regenerating them."""
    app.set_reporting_periods(
        actor=COORDINATOR,
        periods=REPORTING_PERIODS,
        reason="months 1-18 and 19-24, for the statements' benchmark",
        on=PERIOD_START,
    )


def copy_history(source: GrantLedger, target: GrantLedger, batch: int = 5000) -> int:
    """Bulk-insert every stored event of ``source`` into the empty store of ``target``."""
    position, copied = 0, 0
    while notifications := source.recorder.select_notifications(position, batch, inclusive_of_start=False):
        target.recorder.insert_events(list(notifications))
        position = notifications[-1].id
        copied += len(notifications)
    return copied
