"""The EU-ALLIANCE demo's data: the consortium, its missions, SMEs, rates, and the claims it plays.

It signs the grant (six partners, EUR 500,000 in budget lines per category), records
illustrative monthly exchange rates, opens the four missions of docs/domain.md, registers 30
fictional SMEs from across the EU and selects each for one or two missions, then plays about
80 claims in USD, CAD, JPY, IDR and EUR through every state: pending, approved fully or
partly (with a reason per reduced line), rejected, withdrawn, paid, and one payment returned
by the bank. A few budget transfers and partners' own costs complete the books.

Every command goes through ``GrantLedger`` as the actor who would give it, in the order of
its business date, so the books "as recorded" and "as effective" tell the same story. Ids
derive from readable names (``ledger.ids.derived_id``, version-8 UUIDs) and all variation comes
from one seeded ``random.Random``: two empty stores loaded with the demo hold the same ids,
amounts, states and business dates (only the recording times differ). The exchange rates are NOT InforEuro's published
figures, and every rate's source says so. All SMEs, identifiers and references are fictional.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from ledger.actors import Actor
from ledger.application import INDIRECT_RATE
from ledger.grant import Category, PartnerInfo, indirect_ceiling
from ledger.ids import derived_id
from ledger.mission import CostType
from ledger.money import Money

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
def demo_id(kind: str, *names: str) -> UUID:
    """The fixed id of a demo record, from its kind and readable names (a version-8 UUID: the
    ledger refuses name-based ids for records it does not derive itself)."""
    return derived_id("demo", kind, *names)


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
