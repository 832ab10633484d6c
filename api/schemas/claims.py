"""Bodies of claims, payments and own costs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from api.schemas.common import HISTORY, Code, IsoDate, MoneyIn, MoneyOut, RandomId, Strict, Text


class ExpenseLineIn(Strict):
    cost_type: Code
    expense_date: IsoDate
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
    id: RandomId | None = Field(
        default=None, description="Client-chosen random id (UUID version 4 or 7; else derived from the Idempotency-Key)"
    )
    sme_id: UUID
    mission_id: UUID
    lines: list[ExpenseLineIn] = Field(min_length=1, max_length=100)
    on: IsoDate = Field(description="Date the SME submitted the claim")


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
    on: IsoDate
    reason: Annotated[str, Field(max_length=500)] = ""
    decisions: list[LineDecisionIn] = Field(
        default_factory=list, description="Per-line decisions for a partial approval"
    )


class ClosureCreate(Strict):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "boarding pass missing", "on": "2023-04-10"}]}
    )
    reason: Text
    on: IsoDate


class RevocationCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reason": "approved with the wrong month's rate", "on": "2023-04-12", "reject": False}]
        },
    )
    reason: Text
    on: IsoDate = Field(description="Date the approval is revoked (not before it, not in the future)")
    reject: StrictBool = Field(
        default=False, description="Reject the claim in the same step instead of resubmitting it: true or false"
    )


class SettlementCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "the SME agreed: taxi receipts not eligible", "on": "2023-05-02"}]},
    )
    reason: Text
    on: IsoDate = Field(description="Date of the settlement (not before the last payment, not in the future)")


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
    id: RandomId | None = Field(
        default=None, description="Client-chosen random id (UUID version 4 or 7; else derived from the Idempotency-Key)"
    )
    amount: MoneyIn
    bank_reference: Text
    on: IsoDate = Field(description="Value date of the payment")


class ReversalCreate(Strict):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "bank return: account closed", "on": "2023-05-02"}]}
    )
    reason: Text
    on: IsoDate


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


class ClaimPaymentPublic(BaseModel):
    id: str
    amount: MoneyOut
    value_date: date
    bank_reference: str
    reversed: bool


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
    paid: MoneyOut | None = Field(description="Paid net of reversals (null without an approval)")
    settled_short: MoneyOut | None = Field(description="Released unpaid when the claim was settled short")
    outstanding: MoneyOut | None = Field(description="Approved, neither paid nor settled short: still committed")
    payment_id: str | None = Field(description="The latest payment not reversed")
    reason: str
    version: int
    lines: list[ClaimLinePublic] | None = None
    history: list[ClaimEventPublic] | None = None
    payments: list[ClaimPaymentPublic] | None = None


class PaymentPublic(BaseModel):
    id: str
    claim_id: str
    sme_id: str = Field(description="The SME paid")
    partner: str
    amount: MoneyOut
    bank_reference: str
    value_date: date
    reversed: bool
    reversal_reason: str
    history_url: str = Field(description=HISTORY)


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
    id: RandomId | None = Field(
        default=None, description="Client-chosen random id (UUID version 4 or 7; else derived from the Idempotency-Key)"
    )
    partner: Code
    category: Code
    amount: MoneyIn
    document_ref: Text
    description: Annotated[str, Field(max_length=500)] = ""
    on: IsoDate
    declared_on: IsoDate | None = Field(
        default=None,
        description="An adjustment: a cost dated `on` in a closed period, declared on this date in an open one",
    )


class CostPublic(BaseModel):
    id: str
    partner: str
    category: str
    amount: MoneyOut
    eur: MoneyOut
    cost_date: date
    document_ref: str
    description: str
    history_url: str = Field(description=HISTORY)
