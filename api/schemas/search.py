"""What the search answers: each hit says what it is, its label, where it matched, and links."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.common import HISTORY


class SearchMatch(BaseModel):
    field: str = Field(
        description="Where it matched: legal_name, identifier, receipt_ref, description, bank_reference, "
        "document_ref, or an amount (requested, approved, line_amount, amount, eur)"
    )
    line_no: int | None = Field(description="The claim line the field belongs to (None for the record itself)")
    value: str = Field(description="The field's value as recorded")


class SearchHit(BaseModel):
    kind: str = Field(description="What it is: sme, claim, payment or cost")
    id: str
    label: str = Field(description="A short label a person recognises the record by")
    matches: list[SearchMatch]
    url: str = Field(description="The record itself (GET this path)")
    history_url: str = Field(description=HISTORY)
