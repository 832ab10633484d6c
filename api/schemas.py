"""Request and response bodies (pydantic v2). Money is a decimal string with its currency,
always; a JSON number for money is refused, because a float cannot hold every cent."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from ledger.money import MINOR_UNITS

T = TypeVar("T")
#: The largest event position or offset (a signed 64-bit integer in every store).
MAX_POSITION = 2**63 - 1


def _decimal_string(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(
            'amounts and rates are decimal strings such as "1234.50", never JSON numbers: '
            "a binary float cannot hold every cent"
        )
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number


DecimalString = Annotated[
    Decimal,
    BeforeValidator(_decimal_string),
    WithJsonSchema({"type": "string", "pattern": r"^\s*-?\d+(\.\d+)?\s*$", "examples": ["1234.50"]}),
]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code: EUR, USD, CAD, JPY or IDR")]
Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Z0-9_-]+$")]
Text = Annotated[str, Field(min_length=1, max_length=500)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MoneyIn(Strict):
    amount: DecimalString = Field(description="Exact decimal amount as a string, within the currency's decimals")
    currency: Currency


class MoneyOut(BaseModel):
    amount: str = Field(description="Exact decimal amount as a string", examples=["1234.50"])
    currency: str = Field(examples=["EUR"])

    @classmethod
    def eur(cls, amount: Decimal | None) -> MoneyOut | None:
        return None if amount is None else cls(amount=f"{amount:.2f}", currency="EUR")

    @classmethod
    def of(cls, amount: Decimal, currency: str) -> MoneyOut:
        """An amount at its currency's minor units (JPY 0 decimals, EUR 2...)."""
        places = MINOR_UNITS.get(currency, 2)
        return cls(amount=str(amount.quantize(Decimal(1).scaleb(-places))), currency=currency)


class Written(BaseModel, Generic[T]):
    """What a write returns: the resource as the read models now show it, and the position in
    the event log of the events the command recorded (or of the log, for a repeated command)."""

    position: int = Field(description="Event log position the read models have reached for this write")
    data: T


class Page(BaseModel, Generic[T]):
    data: list[T]
    count: int = Field(description="How many items match in all")


# --- grant and budget ----------------------------------------------------------------------
class PartnerIn(Strict):
    code: Code
    name: Text
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class GrantCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "code": "EU-ALLIANCE",
                    "title": "European Alliance for International Business development",
                    "total": {"amount": "500000.00", "currency": "EUR"},
                    "funding_rate": "0.90",
                    "eu_cap": {"amount": "450000.00", "currency": "EUR"},
                    "period_start": "2021-09-01",
                    "period_end": "2023-08-31",
                    "coordinator": "TECHTERA",
                    "partners": [{"code": "TECHTERA", "name": "Techtera", "country": "FR"}],
                    "budget": {"TECHTERA": {"FSTP": {"amount": "500000.00", "currency": "EUR"}}},
                    "decision_ref": "GA-101038166",
                    "signed_on": "2021-09-01",
                }
            ]
        },
    )
    code: Code
    title: Text
    total: MoneyIn
    funding_rate: DecimalString = Field(description="Share of eligible costs the EU pays, e.g. 0.90")
    eu_cap: MoneyIn
    period_start: date
    period_end: date
    coordinator: Code
    partners: list[PartnerIn] = Field(min_length=1)
    budget: dict[str, dict[str, MoneyIn]] = Field(description="partner code -> category -> allocated EUR")
    decision_ref: Text
    signed_on: date
    sme_support_cap: MoneyIn | None = Field(default=None, description="Cap per SME over the grant (EUR 60,000)")


class LinePublic(BaseModel):
    partner: str
    category: str
    allocated: MoneyOut
    pending: MoneyOut = Field(description="Submitted claims not yet decided")
    committed: MoneyOut = Field(description="Approved claims not yet paid")
    paid: MoneyOut
    own_costs: MoneyOut
    remaining: MoneyOut = Field(description="allocated - committed - paid - own costs")


class BudgetPublic(BaseModel):
    code: str
    title: str
    total: MoneyOut
    eu_cap: MoneyOut
    funding_rate: str
    eu_contribution: MoneyOut = Field(description="min(EU cap, funding rate x (paid + own costs)) so far")
    position: int | None = Field(description="Recorded up to this event position, when read as of a past point")
    effective_on: date | None = Field(description="As effective on this business date, when asked")
    totals: LinePublic
    lines: list[LinePublic]


class TransferCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "from_partner": "NIDV",
                    "from_category": "PERSONNEL",
                    "to_partner": "NIDV",
                    "to_category": "FSTP",
                    "amount": {"amount": "5000.00", "currency": "EUR"},
                    "decision_ref": "SC-2022-03",
                    "reason": "more SMEs than planned for the Canada mission",
                    "on": "2022-11-15",
                }
            ]
        },
    )
    id: UUID | None = Field(default=None, description="Client-chosen id (else derived from the Idempotency-Key)")
    from_partner: Code
    from_category: Code
    to_partner: Code
    to_category: Code
    amount: MoneyIn
    decision_ref: Text = Field(description="Reference of the consortium decision")
    reason: Text
    on: date = Field(description="Business date of the transfer")


class TransferPublic(BaseModel):
    id: UUID
    from_partner: str
    from_category: str
    to_partner: str
    to_category: str
    amount: MoneyOut
    decision_ref: str


# --- missions, SMEs, rates -----------------------------------------------------------------
class MissionCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "code": "JPN-2023",
                    "country": "JP",
                    "city": "Tokyo",
                    "start": "2023-03-15",
                    "end": "2023-03-18",
                    "responsible_partner": "POINTEX",
                    "reimbursement_rate": "0.70",
                    "cap_per_sme": {"amount": "2000.00", "currency": "EUR"},
                    "eligible_cost_types": ["TRAVEL", "ACCOMMODATION", "REGISTRATION_FEE", "STAND"],
                    "on": "2022-12-01",
                }
            ]
        },
    )
    code: Code
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    city: Text
    start: date
    end: date
    responsible_partner: Code
    reimbursement_rate: DecimalString = Field(description="Share of eligible costs reimbursed, e.g. 0.70")
    cap_per_sme: MoneyIn
    eligible_cost_types: list[Code] = Field(min_length=1)
    on: date


class CurrencyTotals(BaseModel):
    currency: str
    claimed: MoneyOut
    accepted: MoneyOut
    accepted_eur: MoneyOut


class MissionPublic(BaseModel):
    id: str
    code: str
    country: str
    city: str
    start: date
    end: date
    responsible_partner: str
    reimbursement_rate: str
    cap_per_sme: MoneyOut
    eligible_cost_types: list[str]
    smes_selected: int
    claims_by_state: dict[str, int]
    requested: MoneyOut
    approved: MoneyOut
    paid: MoneyOut
    by_currency: list[CurrencyTotals]


class SmeCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "legal_name": "Tessuti Avanzati S.r.l.",
                    "country": "IT",
                    "identifier": "IT01234567890",
                    "on": "2022-12-05",
                }
            ]
        },
    )
    id: UUID | None = Field(default=None, description="Client-chosen id (else derived from the Idempotency-Key)")
    legal_name: Text
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    identifier: Annotated[str, Field(min_length=2, max_length=40, description="VAT or national company number")]
    on: date


class SelectionCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"sme_id": "0b7e7e0e-3c1a-4a52-9d7e-1f2b3c4d5e6f", "on": "2022-12-06"}]},
    )
    sme_id: UUID
    on: date


class SmeMission(BaseModel):
    mission_id: str
    mission_code: str
    cap: MoneyOut
    requested: MoneyOut
    approved: MoneyOut
    paid: MoneyOut
    remaining_cap: MoneyOut


class SmePublic(BaseModel):
    id: str
    legal_name: str
    country: str
    identifier: str
    missions: list[SmeMission]
    claims_by_state: dict[str, int]
    approved: MoneyOut
    remaining_overall: MoneyOut = Field(description="What remains of the cap per SME over the grant")


class RateCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"currency": "JPY", "month": "2023-03", "rate": "144.83"}]},
    )
    currency: Currency
    month: Annotated[str, Field(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")]
    rate: DecimalString = Field(description="Units of the currency one euro buys (InforEuro)")
    source: Annotated[str, Field(min_length=1, max_length=40)] = "InforEuro"


class RatePublic(BaseModel):
    currency: str
    month: str
    rate: str
    source: str


# --- claims, payments, costs ---------------------------------------------------------------
class ExpenseLineIn(Strict):
    cost_type: Code
    expense_date: date
    amount: MoneyIn
    receipt_ref: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=500)] = ""


class ClaimCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "sme_id": "0b7e7e0e-3c1a-4a52-9d7e-1f2b3c4d5e6f",
                    "mission_id": "5f0c1d2e-3a4b-5c6d-7e8f-9a0b1c2d3e4f",
                    "lines": [
                        {
                            "cost_type": "TRAVEL",
                            "expense_date": "2023-03-14",
                            "amount": {"amount": "182000", "currency": "JPY"},
                            "receipt_ref": "JAL-7781",
                            "description": "flight Milan-Tokyo",
                        }
                    ],
                    "on": "2023-04-02",
                }
            ]
        },
    )
    id: UUID | None = Field(default=None, description="Client-chosen id (else derived from the Idempotency-Key)")
    sme_id: UUID
    mission_id: UUID
    lines: list[ExpenseLineIn] = Field(min_length=1, max_length=100)
    on: date = Field(description="Date the SME submitted the claim")


class LineDecisionIn(Strict):
    line_no: int = Field(ge=1)
    accepted: MoneyIn = Field(description="Accepted amount in the line's own currency")
    reason: Annotated[str, Field(max_length=500)] = ""


class ApprovalCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "on": "2023-04-10",
                    "reason": "receipts checked",
                    "decisions": [
                        {
                            "line_no": 1,
                            "accepted": {"amount": "150000", "currency": "JPY"},
                            "reason": "recoverable VAT is not eligible",
                        }
                    ],
                }
            ]
        },
    )
    on: date
    reason: Annotated[str, Field(max_length=500)] = ""
    decisions: list[LineDecisionIn] = Field(
        default_factory=list, description="Per-line decisions for a partial approval"
    )


class ClosureCreate(Strict):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "boarding pass missing", "on": "2023-04-10"}]}
    )
    reason: Text
    on: date


class PaymentCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "amount": {"amount": "1050.00", "currency": "EUR"},
                    "bank_reference": "SEPA-2023-0412",
                    "on": "2023-04-20",
                }
            ]
        },
    )
    id: UUID | None = Field(default=None, description="Client-chosen id (else derived from the Idempotency-Key)")
    amount: MoneyIn
    bank_reference: Text
    on: date = Field(description="Value date of the payment")


class ReversalCreate(Strict):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "bank return: account closed", "on": "2023-05-02"}]}
    )
    reason: Text
    on: date


class ClaimLinePublic(BaseModel):
    line_no: int
    cost_type: str
    expense_date: date
    amount: MoneyOut
    receipt_ref: str
    description: str
    accepted: MoneyOut | None
    rate: str | None
    rate_month: str | None
    rate_source: str | None
    eur: MoneyOut | None
    reason: str


class ClaimEventPublic(BaseModel):
    version: int
    position: int
    event_type: str
    recorded_at: datetime
    effective_date: date
    actor_id: str
    role: str
    amount: MoneyOut | None
    reason: str


class ClaimPublic(BaseModel):
    id: str
    sme_id: str
    mission_id: str
    partner: str
    state: str
    submitted_on: date
    requested: MoneyOut
    eligible_eur: MoneyOut | None
    approved: MoneyOut | None
    capped_by: str | None
    decided_on: date | None
    paid: MoneyOut | None
    payment_id: str | None
    reason: str
    version: int
    lines: list[ClaimLinePublic] | None = None
    history: list[ClaimEventPublic] | None = None


class PaymentPublic(BaseModel):
    id: str
    claim_id: str
    partner: str
    amount: MoneyOut
    bank_reference: str
    value_date: date
    reversed: bool
    reversal_reason: str


class CostCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "partner": "POINTEX",
                    "category": "TRAVEL",
                    "amount": {"amount": "412.80", "currency": "EUR"},
                    "document_ref": "INV-2023-118",
                    "description": "staff travel to Tokyo",
                    "on": "2023-03-20",
                }
            ]
        },
    )
    id: UUID | None = Field(default=None, description="Client-chosen id (else derived from the Idempotency-Key)")
    partner: Code
    category: Code
    amount: MoneyIn
    document_ref: Text
    description: Annotated[str, Field(max_length=500)] = ""
    on: date


class CostPublic(BaseModel):
    id: str
    partner: str
    category: str
    amount: MoneyOut
    eur: MoneyOut
    cost_date: date
    document_ref: str
    description: str


class AuditEventPublic(BaseModel):
    position: int
    recorded_at: datetime
    effective_date: date
    actor_id: str
    role: str
    partner: str | None
    aggregate_type: str
    aggregate_id: str
    version: int
    event_type: str
    reason: str
    payload: dict[str, Any]


class EntityHistory(BaseModel):
    aggregate_id: str
    aggregate_type: str = Field(description="Claim, Sme, Mission, BudgetLine, Payment, Cost, ...")
    version: int = Field(description="The version the state is shown at")
    state: dict[str, Any] = Field(description="The record's fields at that version (money as decimal strings)")
    events: list[AuditEventPublic] = Field(description="Its events up to that version, oldest first")


class VerdictPublic(BaseModel):
    intact: bool = Field(description="True when every stored event matches its seal")
    checked: int = Field(description="Events whose seals were recomputed")
    head_position: int = Field(description="Position of the last event that matched its seal")
    head_seal: str = Field(description="The chain's seal at head_position: write it down, compare it later")
    first_bad_position: int | None = Field(description="First position where store and seals disagree")
    problem: str = Field(description="What is wrong there, in plain words")
    unsealed: int = Field(description="Events recorded after the last seal (sealed as they are projected)")
    summary: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = Field(default=None, description="Field errors, for invalid input")
