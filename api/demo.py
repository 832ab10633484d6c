"""The EU-ALLIANCE demo: a deterministic consortium history, loaded through the real application.

It signs the grant (six partners, EUR 500,000 in budget lines per category), records
illustrative monthly exchange rates, opens the four missions of DOMAIN.md, registers 30
fictional SMEs from across the EU and selects each for one or two missions, then plays about
80 claims in USD, CAD, JPY, IDR and EUR through every state: pending, approved fully or
partly (with a reason per reduced line), rejected, withdrawn, paid, and one payment returned
by the bank. A few budget transfers and partners' own costs complete the books.

Every command goes through ``GrantLedger`` as the actor who would give it, in the order of
its business date, so the books "as recorded" and "as effective" tell the same story. Ids
are uuid5 of readable names and all variation comes from one seeded ``random.Random``: two
empty stores loaded with the demo hold the same ids, amounts, states and business dates
(only the recording times differ). The exchange rates are NOT InforEuro's published
figures, and every rate's source says so. All SMEs, identifiers and references are fictional.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from enum import Enum
from functools import partial
from uuid import UUID, uuid5

from ledger.actors import Actor
from ledger.application import INDIRECT_RATE, GrantLedger
from ledger.claim import ClaimState, ExpenseLine, LineDecision
from ledger.errors import Refused
from ledger.grant import Category, PartnerInfo, indirect_ceiling
from ledger.mission import CostType, mission_id
from ledger.money import EUR, MINOR_UNITS, Money, money_sum

# --- the grant --------------------------------------------------------------------------
GRANT_CODE = "EU-ALLIANCE"
GRANT_TITLE = (
    "European Alliance for International Business development on advanced materials and "
    "connectivity for defence and security markets"
)
GRANT_DECISION_REF = "GA-DEMO-EU-ALLIANCE-2021 (fictional reference)"
TOTAL = Money.eur("500000.00")
FUNDING_RATE = Decimal("0.90")
EU_CAP = Money.eur("450000.00")
PERIOD_START = date(2021, 9, 1)
PERIOD_END = date(2023, 8, 31)

PARTNERS = (
    PartnerInfo("TECHTERA", "Techtera", "FR"),
    PartnerInfo("NTT", "Next Technology Tecnotessile", "IT"),
    PartnerInfo("POINTEX", "Citta Studi - Po.in.tex", "IT"),
    PartnerInfo("NIDV", "Netherlands Industries for Defence and Security", "NL"),
    PartnerInfo("SIIT", "Distretto Tecnologico SIIT", "IT"),
    PartnerInfo("SYSTEMATIC", "Systematic Paris-Region", "FR"),
)
COORDINATOR_PARTNER = "TECHTERA"

#: The columns of DIRECT_BUDGET; INDIRECT is added at 7% of the lines it is based on.
DIRECT_CATEGORIES = (
    Category.PERSONNEL,
    Category.SUBCONTRACTING,
    Category.TRAVEL,
    Category.EQUIPMENT,
    Category.OTHER_GOODS_SERVICES,
    Category.FSTP,
)
#: EUR per partner: PERSONNEL, SUBCONTRACTING, TRAVEL, EQUIPMENT, OTHER_GOODS_SERVICES, FSTP.
DIRECT_BUDGET = {
    "TECHTERA": ("62000", "8000", "14000", "2000", "6000", "30000"),
    "NTT": ("40000", "0", "9000", "3000", "4000", "10000"),
    "POINTEX": ("38000", "0", "9000", "1000", "4000", "30000"),
    "NIDV": ("36000", "4000", "10000", "0", "4000", "20000"),
    "SIIT": ("34000", "0", "8000", "1000", "3000", "25000"),
    "SYSTEMATIC": ("30000", "4900", "7000", "2000", "3000", "15000"),
}

# --- who acts ---------------------------------------------------------------------------
COORDINATOR = Actor.coordinator("claire.coordinator", COORDINATOR_PARTNER)
AUDITOR = Actor.auditor("arthur.auditor")
#: One financial officer per partner.
OFFICERS = {p.code: Actor.officer(f"officer.{p.code.lower()}", p.code) for p in PARTNERS}
#: Everyone a demo needs a token for: the coordinator, the auditor and the officers.
DEMO_ACTORS = (COORDINATOR, AUDITOR, *OFFICERS.values())


# --- missions ---------------------------------------------------------------------------
@dataclass(frozen=True)
class MissionPlan:
    code: str
    country: str
    city: str
    event: str
    start: date
    end: date
    partner: str
    currency: str
    opened_on: date
    selected_on: date


MISSIONS = (
    MissionPlan(
        "USA-2022", "US", "Washington and Baltimore", "AUSA Annual Meeting",
        date(2022, 10, 9), date(2022, 10, 14), "TECHTERA", "USD", date(2022, 5, 16), date(2022, 8, 1),
    ),
    MissionPlan(
        "IDN-2023", "ID", "Jakarta", "EU-ALLIANCE B2B meetings",
        date(2023, 2, 7), date(2023, 2, 9), "SIIT", "IDR", date(2022, 10, 17), date(2022, 12, 1),
    ),
    MissionPlan(
        "JPN-2023", "JP", "Tokyo", "DSEI Japan",
        date(2023, 3, 14), date(2023, 3, 17), "POINTEX", "JPY", date(2022, 11, 14), date(2023, 1, 9),
    ),
    MissionPlan(
        "CAN-2023", "CA", "Montreal and Ottawa", "OPEX show",
        date(2023, 6, 5), date(2023, 6, 8), "NIDV", "CAD", date(2023, 2, 13), date(2023, 4, 3),
    ),
)  # fmt: skip
MISSION_RATE = Decimal("0.70")
MISSION_CAP = Money.eur("2000.00")
MISSION_COST_TYPES = (CostType.TRAVEL, CostType.ACCOMMODATION, CostType.REGISTRATION_FEE, CostType.STAND)

# --- exchange rates ---------------------------------------------------------------------
RATE_SOURCE = "ILLUSTRATIVE (not InforEuro)"
RATE_CURRENCIES = ("USD", "CAD", "JPY", "IDR")
#: Units of each currency one euro buys, per month: plausible values, NOT InforEuro's.
RATES = {
    "2022-08": ("1.0202", "1.3225", "137.32", "15120.50"),
    "2022-09": ("1.0054", "1.3130", "141.50", "14966.80"),
    "2022-10": ("0.9796", "1.3378", "144.48", "15175.20"),
    "2022-11": ("0.9894", "1.3412", "146.02", "15422.10"),
    "2022-12": ("1.0376", "1.4042", "145.38", "16262.40"),
    "2023-01": ("1.0661", "1.4370", "140.87", "16623.90"),
    "2023-02": ("1.0869", "1.4518", "141.66", "16327.50"),
    "2023-03": ("1.0632", "1.4415", "142.71", "16249.10"),
    "2023-04": ("1.0780", "1.4795", "143.94", "16170.60"),
    "2023-05": ("1.0986", "1.4860", "148.58", "16370.30"),
    "2023-06": ("1.0728", "1.4509", "150.21", "16032.80"),
}


# --- SMEs (all fictional) ---------------------------------------------------------------
@dataclass(frozen=True)
class SmePlan:
    name: str
    country: str
    identifier: str
    missions: tuple[str, ...]


SMES = (
    SmePlan("Filature Auvergne Technique SAS", "FR", "FR41852369741", ("USA-2022", "JPN-2023")),
    SmePlan("Tessitura Lariana Protettiva S.r.l.", "IT", "IT02846150367", ("USA-2022",)),
    SmePlan("Nordmesh Composites B.V.", "NL", "NL859612347B01", ("USA-2022", "CAN-2023")),
    SmePlan("Kevtex Schutzgewebe GmbH", "DE", "DE284615937", ("JPN-2023",)),
    SmePlan("Iberica de Fibras Avanzadas S.L.", "ES", "ESB86214573", ("IDN-2023", "JPN-2023")),
    SmePlan("Lumen Sensorik GmbH", "DE", "DE317254869", ("USA-2022", "CAN-2023")),
    SmePlan("Optronique du Rhone SARL", "FR", "FR73529614820", ("CAN-2023",)),
    SmePlan("Ceramiche Balistiche Emiliane S.r.l.", "IT", "IT03519460372", ("IDN-2023",)),
    SmePlan("Polderlink Secure Networks B.V.", "NL", "NL862013574B01", ("USA-2022", "IDN-2023")),
    SmePlan("Baltic Aramid Solutions UAB", "LT", "LT100004628519", ("JPN-2023",)),
    SmePlan("Vltava Nanofibre s.r.o.", "CZ", "CZ28461593", ("JPN-2023", "CAN-2023")),
    SmePlan("Aegean Protective Coatings S.A.", "GR", "EL801462359", ("IDN-2023",)),
    SmePlan("Tejo Smart Textiles Lda", "PT", "PT514862397", ("USA-2022",)),
    SmePlan("Silesia Drone Composites Sp. z o.o.", "PL", "PL6312584971", ("CAN-2023",)),
    SmePlan("Flanders Radar Components BV", "BE", "BE0712654893", ("USA-2022", "JPN-2023")),
    SmePlan("Nordic Camouflage Systems AB", "SE", "SE559146283701", ("CAN-2023",)),
    SmePlan("Suomi Thermal Wear Oy", "FI", "FI28461937", ("IDN-2023", "CAN-2023")),
    SmePlan("Alpenfaser Technik GmbH", "AT", "ATU71846259", ("JPN-2023",)),
    SmePlan("Meccanotessile Biellese S.r.l.", "IT", "IT02258741036", ("IDN-2023", "JPN-2023")),
    SmePlan("Ligurian Maritime Sensors S.r.l.", "IT", "IT01947352108", ("IDN-2023",)),
    SmePlan("Toscana Smart Fabrics S.r.l.", "IT", "IT06183520487", ("USA-2022", "IDN-2023")),
    SmePlan("Cyberveille Systemes SAS", "FR", "FR28914735602", ("USA-2022", "CAN-2023")),
    SmePlan("Reseau Quantique Lyonnais SAS", "FR", "FR65887214093", ("JPN-2023",)),
    SmePlan("Danube Shielding Kft.", "HU", "HU25846193", ("IDN-2023",)),
    SmePlan("Carpathia Textile Labs S.R.L.", "RO", "RO38461527", ("CAN-2023",)),
    SmePlan("Liffey Secure Comms Ltd", "IE", "IE3846152LH", ("USA-2022",)),
    SmePlan("Zeeland Protective Gear B.V.", "NL", "NL853207416B01", ("IDN-2023", "CAN-2023")),
    SmePlan("Vosges Membranes Techniques SAS", "FR", "FR90731648257", ("JPN-2023", "CAN-2023")),
    SmePlan("Piemonte Fibre Ottiche S.r.l.", "IT", "IT11264830019", ("IDN-2023", "JPN-2023")),
    SmePlan("Kras Antenna Works d.o.o.", "SI", "SI84615293", ("CAN-2023",)),
)
#: Days between an SME's registration and its first selection.
REGISTERED_BEFORE_SELECTION = 14
#: Share of selections with a single claim (the others send two: travel and stay, then the stand).
SINGLE_CLAIM_SHARE = 0.2


# --- what becomes of the claims -----------------------------------------------------------
class Fate(Enum):
    PENDING = "submitted, not yet decided"
    APPROVED = "approved in full, not yet paid"
    APPROVED_PARTLY = "approved in part, not yet paid"
    PAID = "approved in full and paid"
    PAID_PARTLY = "approved in part and paid"
    RETURNED = "paid, then returned by the bank"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"

    @property
    def approves(self) -> bool:
        return self not in {Fate.PENDING, Fate.REJECTED, Fate.WITHDRAWN}

    @property
    def partly(self) -> bool:
        return self in {Fate.APPROVED_PARTLY, Fate.PAID_PARTLY}

    @property
    def pays(self) -> bool:
        return self in {Fate.PAID, Fate.PAID_PARTLY, Fate.RETURNED}


#: Letters for FATES: P paid, p paid after a partial approval, A approved (unpaid), a approved in
#: part (unpaid), N pending, R rejected, W withdrawn, B paid and then returned by the bank.
FATE_LETTERS = {
    "P": Fate.PAID,
    "p": Fate.PAID_PARTLY,
    "A": Fate.APPROVED,
    "a": Fate.APPROVED_PARTLY,
    "N": Fate.PENDING,
    "R": Fate.REJECTED,
    "W": Fate.WITHDRAWN,
    "B": Fate.RETURNED,
}
#: Outcomes of each mission's claims, in turn (repeated): older missions are settled, the
#: latest has claims still pending. The bank returns one payment only: the first B.
FATES = {
    "USA-2022": "PPpPRPPWpP",
    "IDN-2023": "PpPPRPWPp",
    "JPN-2023": "BPaPRpPAPW",
    "CAN-2023": "ANPaNRPWANp",
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
SEED = 2021


# --- budget transfers and partners' own costs ---------------------------------------------
@dataclass(frozen=True)
class TransferPlan:
    on: date
    from_partner: str
    from_category: Category
    to_partner: str
    to_category: Category
    amount: Money
    decision_ref: str
    reason: str


TRANSFERS = (
    TransferPlan(
        date(2022, 3, 15), "TECHTERA", Category.SUBCONTRACTING, "TECHTERA", Category.PERSONNEL,
        Money.eur("3000.00"), "CD-2022-01 (steering committee of 2022-03-10)",
        "the SME matchmaking platform is configured by staff instead of a subcontractor",
    ),
    TransferPlan(
        date(2022, 12, 12), "NTT", Category.FSTP, "SIIT", Category.FSTP,
        Money.eur("5000.00"), "CD-2022-04 (steering committee of 2022-12-07)",
        "more SMEs selected for the Indonesia mission than planned",
    ),
    TransferPlan(
        date(2023, 5, 10), "SYSTEMATIC", Category.FSTP, "NIDV", Category.FSTP,
        Money.eur("10000.00"), "CD-2023-02 (steering committee of 2023-05-04)",
        "more SMEs selected for the Canada mission than planned",
    ),
)  # fmt: skip


@dataclass(frozen=True)
class CostPlan:
    on: date
    partner: str
    category: Category
    amount: Money
    document_ref: str
    description: str


COSTS = (
    CostPlan(date(2022, 1, 20), "TECHTERA", Category.SUBCONTRACTING, Money.eur("4800.00"),
             "TECHTERA/INV/2022-0117", "EU-ALLIANCE website (subcontracted)"),
    CostPlan(date(2022, 3, 31), "TECHTERA", Category.PERSONNEL, Money.eur("18450.00"),
             "TECHTERA/PAY/2022-Q1", "staff costs, project coordination, September 2021 to March 2022"),
    CostPlan(date(2022, 5, 12), "SYSTEMATIC", Category.EQUIPMENT, Money.eur("1290.00"),
             "SYSTEMATIC/INV/2022-0512", "laptop for the cyber-security matchmaking sessions"),
    CostPlan(date(2022, 9, 30), "NTT", Category.PERSONNEL, Money.eur("12600.00"),
             "NTT/PAY/2022-Q3", "staff costs, market study on Asian defence textiles"),
    CostPlan(date(2022, 10, 15), "TECHTERA", Category.TRAVEL, Money.of("3120.40", "USD"),
             "TECHTERA/TRV/2022-1015", "staff travel to the AUSA Annual Meeting, Washington"),
    CostPlan(date(2023, 1, 16), "SIIT", Category.OTHER_GOODS_SERVICES, Money.eur("2150.00"),
             "SIIT/INV/2023-0116", "printing of the Indonesia mission brochure"),
    CostPlan(date(2023, 3, 18), "POINTEX", Category.TRAVEL, Money.of("386400", "JPY"),
             "POINTEX/TRV/2023-0318", "staff travel to DSEI Japan, Tokyo"),
    CostPlan(date(2023, 6, 9), "NIDV", Category.TRAVEL, Money.of("2845.60", "CAD"),
             "NIDV/TRV/2023-0609", "staff hotel and transport, OPEX show, Ottawa"),
)  # fmt: skip


# --- ids --------------------------------------------------------------------------------
DEMO_NAMESPACE = UUID("3c1f6b0e-8d2a-5e47-9b61-e4a7d2c05f18")


def demo_id(kind: str, *names: str) -> UUID:
    """The fixed id of a demo record, from its kind and readable names."""
    return uuid5(DEMO_NAMESPACE, "/".join((kind, *names)))


def sme_id(sme: SmePlan) -> UUID:
    return demo_id("sme", sme.identifier)


# --- the budget -------------------------------------------------------------------------
def budget() -> dict[str, dict[str, Money]]:
    """Every partner's budget lines, INDIRECT at the flat rate of its base (EUR)."""
    lines: dict[str, dict[str, Money]] = {}
    for partner, amounts in DIRECT_BUDGET.items():
        direct = {c.value: Money.eur(a) for c, a in zip(DIRECT_CATEGORIES, amounts, strict=True)}
        lines[partner] = {**direct, Category.INDIRECT.value: indirect_ceiling(direct, INDIRECT_RATE)}
    return lines


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
    return Fate.PAID if fate is Fate.RETURNED and index >= len(cycle) else fate


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


# --- playing the history through the application -------------------------------------------
class Timeline:
    """Commands to give, run in the order of their business dates (ties: in the order added)."""

    def __init__(self) -> None:
        self._steps: list[tuple[date, int, Callable[[], object]]] = []

    def add(self, on: date, command: Callable[[], object]) -> None:
        self._steps.append((on, len(self._steps), command))

    def run(self) -> None:
        for _, _, command in sorted(self._steps, key=lambda step: step[:2]):
            command()


class DemoStoreNotEmpty(Refused):
    title = "The demo needs an empty event store"


@dataclass(frozen=True)
class DemoSummary:
    """What ``load_demo`` recorded: counts and EUR figures."""

    events: int
    partners: int
    budget_total: Money
    missions: int
    smes: int
    selections: int
    exchange_rates: int
    transfers: int
    own_costs: int
    claims: int
    claims_by_state: Mapping[str, int]
    #: Payments recorded, including the one the bank returned.
    payments: int
    reversed_payments: int
    #: Approved on claims now approved or paid (EUR), and of that what is paid.
    approved: Money
    paid: Money
    #: Currencies of the claims' receipts.
    currencies: tuple[str, ...]
    claim_ids: tuple[UUID, ...] = field(repr=False)

    def lines(self) -> list[str]:
        """The summary in a few lines of plain text (for the command line)."""
        states = ", ".join(f"{n} {state}" for state, n in self.claims_by_state.items())
        return [
            f"{self.events} events recorded",
            f"grant {GRANT_CODE}: {self.partners} partners, {self.budget_total} in budget lines, "
            f"{self.transfers} budget transfers, {self.own_costs} own costs",
            f"{self.missions} missions, {self.smes} SMEs, {self.selections} selections, "
            f"{self.exchange_rates} exchange rates ({RATE_SOURCE})",
            f"{self.claims} claims in {', '.join(self.currencies)}: {states}",
            f"{self.payments} payments ({self.reversed_payments} returned by the bank); "
            f"approved {self.approved}, of which paid {self.paid}",
        ]


def load_demo(app: GrantLedger) -> DemoSummary:
    """Record the EU-ALLIANCE demo into an EMPTY store; refuse (recording nothing) otherwise."""
    recorded = app.recorder.max_notification_id()
    if recorded:
        raise DemoStoreNotEmpty(
            f"the demo loads only into an empty event store, and this one already holds events "
            f"(up to position {recorded}); nothing was recorded. Point GRANTLEDGER_DATABASE_URL at a new "
            "database (or memory://) and load the demo there"
        )
    plans = plan_claims()
    timeline = Timeline()
    timeline.add(PERIOD_START, lambda: _sign_grant(app))
    for month in RATES:
        timeline.add(date.fromisoformat(f"{month}-01"), partial(_record_rates, app, month))
    for transfer in TRANSFERS:
        timeline.add(transfer.on, partial(_transfer, app, transfer))
    for cost in COSTS:
        timeline.add(cost.on, partial(_record_cost, app, cost))
    for mission in MISSIONS:
        timeline.add(mission.opened_on, partial(_open_mission, app, mission))
    for sme in SMES:
        _schedule_sme(timeline, app, sme)
    for plan in plans:
        _schedule_claim(timeline, app, plan)
    timeline.run()
    return _summarise(app, plans)


def _sign_grant(app: GrantLedger) -> UUID:
    return app.sign_grant(
        actor=COORDINATOR,
        code=GRANT_CODE,
        title=GRANT_TITLE,
        total=TOTAL,
        funding_rate=FUNDING_RATE,
        eu_cap=EU_CAP,
        period_start=PERIOD_START,
        period_end=PERIOD_END,
        coordinator=COORDINATOR_PARTNER,
        partners=PARTNERS,
        budget=budget(),
        decision_ref=GRANT_DECISION_REF,
        on=PERIOD_START,
    )


def _record_rates(app: GrantLedger, month: str) -> None:
    for currency, rate in zip(RATE_CURRENCIES, RATES[month], strict=True):
        app.record_rate(actor=COORDINATOR, currency=currency, month=month, rate=Decimal(rate), source=RATE_SOURCE)


def _transfer(app: GrantLedger, t: TransferPlan) -> UUID:
    return app.transfer_budget(
        actor=COORDINATOR,
        transfer_id=demo_id("transfer", t.decision_ref),
        from_partner=t.from_partner,
        from_category=t.from_category.value,
        to_partner=t.to_partner,
        to_category=t.to_category.value,
        amount=t.amount,
        decision_ref=t.decision_ref,
        reason=t.reason,
        on=t.on,
    )


def _record_cost(app: GrantLedger, c: CostPlan) -> UUID:
    return app.record_cost(
        actor=OFFICERS[c.partner],
        cost_id=demo_id("cost", c.document_ref),
        partner=c.partner,
        category=c.category.value,
        amount=c.amount,
        document_ref=c.document_ref,
        description=c.description,
        on=c.on,
    )


def _open_mission(app: GrantLedger, m: MissionPlan) -> UUID:
    return app.open_mission(
        actor=COORDINATOR,
        code=m.code,
        country=m.country,
        city=m.city,
        start=m.start,
        end=m.end,
        responsible_partner=m.partner,
        reimbursement_rate=MISSION_RATE,
        cap_per_sme=MISSION_CAP,
        eligible_cost_types=[t.value for t in MISSION_COST_TYPES],
        on=m.opened_on,
    )


def _mission(code: str) -> MissionPlan:
    return next(m for m in MISSIONS if m.code == code)


def _schedule_sme(timeline: Timeline, app: GrantLedger, sme: SmePlan) -> None:
    """Registered by the officer of its first mission's partner, then selected for each mission."""
    first = _mission(sme.missions[0])
    registered_on = first.selected_on - timedelta(days=REGISTERED_BEFORE_SELECTION)
    timeline.add(
        registered_on,
        lambda: app.register_sme(
            actor=OFFICERS[first.partner],
            sme_id=sme_id(sme),
            legal_name=sme.name,
            country=sme.country,
            identifier=sme.identifier,
            on=registered_on,
        ),
    )
    for m in map(_mission, sme.missions):
        timeline.add(
            m.selected_on,
            partial(
                app.select_sme,
                actor=OFFICERS[m.partner],
                mission_id=mission_id(m.code),
                sme_id=sme_id(sme),
                on=m.selected_on,
            ),
        )


def _schedule_claim(timeline: Timeline, app: GrantLedger, plan: ClaimPlan) -> None:
    """Submit the claim, then decide, pay and return it as its fate says."""
    officer = OFFICERS[plan.mission.partner]
    timeline.add(
        plan.submitted_on,
        lambda: app.submit_claim(
            actor=officer,
            claim_id=plan.claim_id,
            sme_id=sme_id(plan.sme),
            mission_id=mission_id(plan.mission.code),
            lines=plan.lines,
            on=plan.submitted_on,
        ),
    )
    fate, claim_id, decided = plan.fate, plan.claim_id, plan.decided_on
    if fate is Fate.REJECTED:
        timeline.add(
            decided, lambda: app.reject_claim(actor=officer, claim_id=claim_id, reason=plan.reason, on=decided)
        )
    elif fate is Fate.WITHDRAWN:
        timeline.add(
            decided, lambda: app.withdraw_claim(actor=officer, claim_id=claim_id, reason=plan.reason, on=decided)
        )
    elif fate.approves:
        timeline.add(
            decided,
            lambda: app.approve_claim(
                actor=officer, claim_id=claim_id, decisions=plan.decisions, reason=plan.reason, on=decided
            ),
        )
    if fate.pays:
        timeline.add(
            plan.paid_on,
            lambda: app.record_payment(
                actor=officer,
                payment_id=plan.payment_id,
                claim_id=claim_id,
                amount=app.claim(claim_id).approved_amount,
                bank_reference=plan.bank_reference,
                on=plan.paid_on,
            ),
        )
    if fate is Fate.RETURNED:
        timeline.add(
            plan.returned_on,
            lambda: app.reverse_payment(
                actor=officer, payment_id=plan.payment_id, reason=BANK_RETURN, on=plan.returned_on
            ),
        )


# --- the summary ------------------------------------------------------------------------
def _count_events(app: GrantLedger) -> int:
    """Every stored event (notification ids may have gaps on some stores: count, never subtract)."""
    position, count = 0, 0
    while notifications := app.recorder.select_notifications(position, 1000, inclusive_of_start=False):
        position = notifications[-1].id
        count += len(notifications)
    return count


def _summarise(app: GrantLedger, plans: tuple[ClaimPlan, ...]) -> DemoSummary:
    claims = [app.claim(p.claim_id) for p in plans]
    payments = [app.payment(p.payment_id) for p in plans if p.fate.pays]
    states = Counter(c.state for c in claims)
    return DemoSummary(
        events=_count_events(app),
        partners=len(PARTNERS),
        budget_total=money_sum([m for lines in budget().values() for m in lines.values()]),
        missions=len(MISSIONS),
        smes=len(SMES),
        selections=sum(len(s.missions) for s in SMES),
        exchange_rates=len(RATES) * len(RATE_CURRENCIES),
        transfers=len(TRANSFERS),
        own_costs=len(COSTS),
        claims=len(claims),
        claims_by_state={s.value: states[s.value] for s in ClaimState},
        payments=len(payments),
        reversed_payments=sum(p.reversed for p in payments),
        approved=money_sum([c.approved for c in claims if c.approved is not None]),
        paid=money_sum([c.paid for c in claims if c.paid is not None]),
        currencies=tuple(sorted({line.amount.currency for p in plans for line in p.lines})),
        claim_ids=tuple(c.id for c in claims),
    )
