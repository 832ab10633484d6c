"""Supporting documents: what the API shows of a claim line's or a cost's receipts (never their bytes:
those are a download of their own), and the lines still without one."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

DOWNLOAD = "GET this path for the document's bytes (officers of its partner, the coordinator, auditors)"


class DocumentPublic(BaseModel):
    """One document attached to a claim line or an own cost."""

    sha256: str = Field(description="SHA-256 of the bytes, as recorded in the event (the hash chain seals it)")
    holder_kind: str = Field(description="claim or cost")
    holder_id: str
    partner: str
    line: int | None = Field(description="The claim's line, from 1 (none for a cost)")
    receipt_ref: str = Field(description="The line's receipt reference, or the cost's document reference")
    filename: str
    media_type: str = Field(description="Read from the bytes (PDF, JPEG or PNG), never from the name")
    size: int = Field(description="Bytes")
    attached_on: date
    recorded_at: datetime
    attached_by: str
    live: bool = Field(description="False once superseded")
    superseded_reason: str
    download_url: str = Field(description=DOWNLOAD)


class MissingDocumentPublic(BaseModel):
    """A claim line (of a claim neither rejected nor withdrawn) or an own cost with no live document."""

    holder_kind: str
    holder_id: str
    partner: str
    line: int | None
    receipt_ref: str
    state: str
    description: str
