"""Bodies of the audit trail and the chain verdict."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


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


class BadSnapshotPublic(BaseModel):
    aggregate_type: str = Field(description="BudgetLine, Sme, ... as its events say")
    aggregate_id: str
    version: int = Field(description="The version the snapshot row claims")
    problem: str = Field(description="What is wrong with it, in plain words")


class VerdictPublic(BaseModel):
    intact: bool = Field(description="True when every stored event matches its seal")
    checked: int = Field(description="Events whose seals were recomputed")
    head_position: int = Field(description="Position of the last event that matched its seal")
    head_seal: str = Field(description="The chain's seal at head_position: write it down, compare it later")
    first_bad_position: int | None = Field(description="First position where store and seals disagree")
    problem: str = Field(description="What is wrong there, in plain words")
    unsealed: int = Field(description="Events recorded after the last seal (sealed as they are projected)")
    head: str = Field(description="POSITION:SEAL, as ?expect_head= and `grantledger verify --expect-head` take it")
    anchor_matches: bool | None = Field(
        default=None, description="With ?expect_head=: whether the chain recomputed from the stored events has it"
    )
    anchor_problem: str = Field(default="", description="With ?expect_head=: how the history differs from it")
    snapshots_checked: int = Field(0, description="Stored snapshots checked against the events they summarise")
    bad_snapshots: list[BadSnapshotPublic] = Field(
        default_factory=list, description="Snapshots that lie or fail their seal (never used: loads replay events)"
    )
    snapshots_rejected: int = Field(
        0, description="Loads by this service process that found a snapshot failing its seal and replayed events"
    )
    statements_checked: int = Field(0, description="Signed or submitted statements recomputed from the events")
    statement_problems: list[str] = Field(
        default_factory=list, description="Each statement figure, digest or seal that differs, with partner and period"
    )
    documents_checked: int = Field(
        0, description="Supporting documents (superseded ones too) whose stored bytes were checked against their digest"
    )
    document_problems: list[str] = Field(
        default_factory=list,
        description="Each document missing from the document store or altered there, with its claim and line or cost",
    )
    summary: str
