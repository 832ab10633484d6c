"""Period close: each partner's statement per reporting period (rm_statements)."""

from __future__ import annotations

import json
from typing import Any

from ledger.statement import Statement, StatementState
from projections import tables as t
from projections.batch import Batch
from projections.handlers.common import handles


def _row(batch: Batch, e: Any) -> Any:
    return batch.get(t.statements, id=str(e.originator_id))


def _update(batch: Batch, e: Any, **values: Any) -> None:
    row = _row(batch, e)
    batch.set(t.statements, {"partner": row.partner, "number": row.number}, changed_on=e.effective_date, **values)


@handles(Statement.Started)
def _started(batch: Batch, e: Statement.Started) -> None:
    batch.insert(
        t.statements,
        {
            "partner": e.partner,
            "number": e.number,
            "id": str(e.originator_id),
            "state": StatementState.DRAFT.value,
            "locked_by": "",
            "signer": "",
            "reason": "",
            "submitted_by": "",
            "position": 0,
            "seal": "",
            "digest": "",
            "content": "{}",
            "changed_on": e.effective_date,
        },
    )


@handles(Statement.Locked)
def _locked(batch: Batch, e: Statement.Locked) -> None:
    _update(batch, e, state=StatementState.LOCKED.value, locked_by=e.actor.id, reason=e.reason)


@handles(Statement.Signed)
def _signed(batch: Batch, e: Statement.Signed) -> None:
    _update(
        batch,
        e,
        state=StatementState.SIGNED.value,
        signer=e.signer,
        reason=e.reason,
        position=e.position,
        seal=e.seal,
        digest=e.digest,
        content=json.dumps(e.content, sort_keys=True, ensure_ascii=False),
    )


@handles(Statement.SentBack)
def _sent_back(batch: Batch, e: Statement.SentBack) -> None:
    _update(
        batch,
        e,
        state=StatementState.DRAFT.value,
        locked_by="",
        signer="",
        reason=e.reason,
        position=0,
        seal="",
        digest="",
        content="{}",
    )


@handles(Statement.Submitted)
def _submitted(batch: Batch, e: Statement.Submitted) -> None:
    row = _row(batch, e)
    _update(batch, e, state=StatementState.SUBMITTED.value, submitted_by=e.actor.id, reason=e.reason or row.reason)
