"""Bodies of corrections: an exchange rate (with the report of the claims it touches), an
SME's registration, a payment record."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Country, DecimalString, IsoDate, MoneyOut, Strict, Text
from api.schemas.missions import RatePublic


class RateCorrectionCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"rate": "144.38", "reason": "typed from the February table"}]},
    )
    rate: DecimalString = Field(description="Units of the currency one euro buys (InforEuro)")
    source: Annotated[str, Field(min_length=1, max_length=40)] = "InforEuro"
    reason: Text


class AssessedLinePublic(BaseModel):
    """A claim line whose stored conversion used an earlier rate, and what it gives now."""

    claim_id: str
    sme_id: str
    sme_name: str
    mission_id: str
    mission_code: str
    partner: str
    state: str
    basis: str = Field(description="Which stored conversion: 'approval' or 'estimate at submission'")
    line_no: int
    expense_date: date
    amount: MoneyOut = Field(description="The amount converted: accepted (approval) or claimed (estimate)")
    rate_used: str
    source_used: str
    eur: MoneyOut = Field(description="The EUR value stored with the claim")
    eur_at_rate_now: MoneyOut = Field(description="The same amount at the rate recorded now, half up to the cent")
    difference: MoneyOut = Field(description="eur_at_rate_now - eur")


class RateAssessmentsPublic(BaseModel):
    """The claims assessed with an earlier rate of this currency and month: stored conversions
    are never recomputed, so an officer decides what to do with each."""

    rate: RatePublic
    version: int
    lines: list[AssessedLinePublic]
    count: int
    difference: MoneyOut = Field(description="Sum of the lines' differences")


class SmeCorrectionCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "legal_name": "Tessuti Avanzati S.p.A.",
                    "country": "IT",
                    "reason": "legal form as in the chamber of commerce extract",
                    "on": "2023-01-10",
                }
            ]
        },
    )
    legal_name: Text
    country: Country
    reason: Text
    on: IsoDate = Field(description="Business date of the correction")


class PaymentCorrectionCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"value_date": "2023-04-21", "reason": "value date as on the bank statement"}]},
    )
    bank_reference: Text | None = Field(default=None, description="The bank reference as the bank shows it")
    value_date: IsoDate | None = Field(default=None, description="The value date as the bank shows it")
    reason: Text
