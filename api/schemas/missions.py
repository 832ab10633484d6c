"""Bodies of missions, SMEs and exchange rates."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import (
    HISTORY,
    Code,
    Country,
    Currency,
    DecimalString,
    IsoDate,
    MoneyIn,
    MoneyOut,
    Month,
    RandomId,
    Strict,
    Text,
)


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
    country: Country
    city: Text
    start: IsoDate
    end: IsoDate
    responsible_partner: Code
    reimbursement_rate: DecimalString = Field(description="Share of eligible costs reimbursed, e.g. 0.70")
    cap_per_sme: MoneyIn
    eligible_cost_types: list[Code] = Field(min_length=1)
    on: IsoDate


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
    id: RandomId | None = Field(
        default=None, description="Client-chosen random id (UUID version 4 or 7; else derived from the Idempotency-Key)"
    )
    legal_name: Text
    country: Country
    identifier: Annotated[str, Field(min_length=2, max_length=40, description="VAT or national company number")]
    on: IsoDate


class SelectionCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"sme_id": "0b7e7e0e-3c1a-4a52-9d7e-1f2b3c4d5e6f", "on": "2022-12-06"}]},
    )
    sme_id: UUID
    on: IsoDate


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
    history_url: str = Field(description=HISTORY)


class RateCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"currency": "JPY", "month": "2023-03", "rate": "144.83"}]},
    )
    currency: Currency
    month: Month
    rate: DecimalString = Field(description="Units of the currency one euro buys (InforEuro)")
    source: Annotated[str, Field(min_length=1, max_length=40)] = "InforEuro"


class RatePublic(BaseModel):
    id: str
    currency: str
    month: str
    rate: str
    source: str
    history_url: str = Field(description=HISTORY)
