"""Supporting documents: attached to a claim's expense line or to an own cost, and superseded.

One rm_documents row per attachment, keyed by its holder and the version of the event that
attached it (the same digest may come back to a holder after it was superseded); superseding
keeps the row, marks it no longer live and keeps the reason. The holder's partner and reference
(the claim line's receipt reference, the cost's document reference) are copied in, so the
queries need no join (neither changes once recorded).
"""

from __future__ import annotations

from typing import Any

from ledger.claim import Claim
from ledger.cost import Cost
from projections import tables as t
from projections.batch import Batch
from projections.handlers.common import claim_row, handles


def _attached(batch: Batch, e: Any, *, kind: str, partner: str, line: int | None, receipt_ref: str) -> None:
    batch.insert(
        t.documents,
        {
            "holder_id": str(e.originator_id),
            "version": e.originator_version,
            "position": batch.position,
            "sha256": e.sha256,
            "holder_kind": kind,
            "partner": partner,
            "line": line,
            "receipt_ref": receipt_ref,
            "filename": e.filename,
            "media_type": e.media_type,
            "size": e.size,
            "attached_on": e.effective_date,
            "recorded_at": e.timestamp,
            "attached_by": e.actor.id,
            "live": True,
            "superseded_reason": "",
        },
    )


def _superseded(batch: Batch, e: Any, **where: Any) -> None:
    """The holder's live row of the digest (on that line, for a claim) is no longer live."""
    row = batch.get(t.documents, holder_id=str(e.originator_id), sha256=e.sha256, live=True, **where)
    if row is None:
        raise LookupError(
            f"rm_documents has no live document {e.sha256} of {e.originator_id} to supersede "
            f"(event at position {batch.position})"
        )
    batch.set(t.documents, {"holder_id": row.holder_id, "version": row.version}, live=False, superseded_reason=e.reason)


@handles(Claim.DocumentAttached)
def _claim_document_attached(batch: Batch, e: Claim.DocumentAttached) -> None:
    claim = claim_row(batch, e.originator_id)
    line = batch.get(t.claim_lines, claim_id=claim.id, line_no=e.line)
    _attached(batch, e, kind="claim", partner=claim.partner, line=e.line, receipt_ref=line.receipt_ref)


@handles(Claim.DocumentSuperseded)
def _claim_document_superseded(batch: Batch, e: Claim.DocumentSuperseded) -> None:
    _superseded(batch, e, line=e.line)


@handles(Cost.DocumentAttached)
def _cost_document_attached(batch: Batch, e: Cost.DocumentAttached) -> None:
    cost = batch.get(t.costs, id=str(e.originator_id))
    _attached(batch, e, kind="cost", partner=cost.partner, line=None, receipt_ref=cost.document_ref)


@handles(Cost.DocumentSuperseded)
def _cost_document_superseded(batch: Batch, e: Cost.DocumentSuperseded) -> None:
    _superseded(batch, e)
