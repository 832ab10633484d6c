"""Bodies of the grant, its budget and transfers."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from api.schemas.common import (
    HISTORY,
    Code,
    Country,
    DecimalString,
    IsoDate,
    MoneyIn,
    MoneyOut,
    RandomId,
    Strict,
    Text,
    distinct_codes,
)


class PartnerIn(Strict):
    code: Code
    name: Text
    country: Country


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
    period_start: IsoDate
    period_end: IsoDate
    coordinator: Code
    partners: list[PartnerIn] = Field(min_length=1)
    budget: Annotated[
        dict[Code, Annotated[dict[Code, MoneyIn], BeforeValidator(distinct_codes)]], BeforeValidator(distinct_codes)
    ] = Field(description="partner code -> category -> allocated EUR")
    decision_ref: Text
    signed_on: IsoDate
    sme_support_cap: MoneyIn | None = Field(default=None, description="Cap per SME over the grant (EUR 60,000)")


#: The figures of a budget line, and of a subtotal or total (the sum of its lines).
Pending = Annotated[MoneyOut, Field(description="Submitted claims not yet decided")]
Committed = Annotated[MoneyOut, Field(description="Approved claims not yet paid")]
Remaining = Annotated[MoneyOut, Field(description="allocated - committed - paid - own costs")]
AfterPending = Annotated[
    MoneyOut, Field(description="remaining - pending: what would remain if every pending claim were approved in full")
]


class LinePublic(BaseModel):
    """One partner x category line (the grand total is labelled partner TOTAL, category "")."""

    partner: str
    category: str
    allocated: MoneyOut
    pending: Pending
    committed: Committed
    paid: MoneyOut
    own_costs: MoneyOut
    remaining: Remaining
    remaining_after_pending: AfterPending


class PartnerTotals(BaseModel):
    """A partner's subtotal: the sum of its lines."""

    partner: str
    allocated: MoneyOut
    pending: Pending
    committed: Committed
    paid: MoneyOut
    own_costs: MoneyOut
    remaining: Remaining
    remaining_after_pending: AfterPending


class CategoryTotals(BaseModel):
    """A cost category's subtotal: the sum of the lines shown in that category."""

    category: str
    allocated: MoneyOut
    pending: Pending
    committed: Committed
    paid: MoneyOut
    own_costs: MoneyOut
    remaining: Remaining
    remaining_after_pending: AfterPending


class BudgetPublic(BaseModel):
    code: str
    title: str
    total: MoneyOut
    eu_cap: MoneyOut
    funding_rate: str
    eu_contribution: MoneyOut = Field(description="min(EU cap, funding rate x (paid + own costs)) so far")
    position: int | None = Field(description="Recorded up to this event position, when read as of a past point")
    effective_on: date | None = Field(description="As effective on this business date, when asked")
    totals: LinePublic = Field(description="The grand total: the sum of every line shown")
    by_partner: list[PartnerTotals] = Field(description="A subtotal per partner shown, in partner order")
    by_category: list[CategoryTotals] = Field(description="A subtotal per cost category, over the partners shown")
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
    id: RandomId | None = Field(
        default=None, description="Client-chosen random id (UUID version 4 or 7; else derived from the Idempotency-Key)"
    )
    from_partner: Code
    from_category: Code
    to_partner: Code
    to_category: Code
    amount: MoneyIn
    decision_ref: Text = Field(description="Reference of the consortium decision")
    reason: Text
    on: IsoDate = Field(description="Business date of the transfer")


class TransferPublic(BaseModel):
    id: UUID
    from_partner: str
    from_category: str
    to_partner: str
    to_category: str
    amount: MoneyOut
    decision_ref: str = Field(description="The consortium's decision that made the transfer")
    reason: str
    effective_date: date
    history_url: str = Field(description=HISTORY)
