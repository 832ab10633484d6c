"""Who holds a receipt or a document (invariant 5): claims and own costs declare their receipt
references on the receipt index, and a claim that no longer stands releases its receipts and
documents, so that the SME may declare them again."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.actors import Actor
from ledger.claim import Claim
from ledger.documents import DocumentIndex, document_id
from ledger.errors import InvalidInput
from ledger.receipts import ReceiptIndex, legacy_receipt_id, receipt_id
from ledger.usecases.core import LedgerCore


class HoldingCases(LedgerCore):
    """The receipt and document indexes, as claims and costs declare and release them."""

    def _declare_receipts(
        self, actor: Actor, references: Sequence[str], holder_kind: str, holder_id: UUID, on: date
    ) -> list[ReceiptIndex]:
        """Invariant 5: every receipt reference, in its canonical form, is held by one claim or
        cost at a time. An index recorded before canonical keys (under the id of the reference's
        legacy form) still holds its reference: while it is live, the reference is taken."""
        indexes: dict[UUID, ReceiptIndex] = {}
        for no, reference in enumerate(references, start=1):
            key = receipt_id(reference)
            if key in indexes:
                raise InvalidInput(f"line {no}: receipt {reference!r} appears twice in this {holder_kind}")
            legacy = legacy_receipt_id(reference)
            held = self._find(ReceiptIndex, legacy) if legacy != key else None
            if held is not None:
                held.require_free(f"line {no}")
            found = self._find(ReceiptIndex, key)
            if found is None:
                found = ReceiptIndex.declare_new(
                    actor=actor, reference=reference.strip(), holder_kind=holder_kind, holder_id=holder_id, on=on
                )
            else:
                found.declare_again(actor=actor, holder_kind=holder_kind, holder_id=holder_id, on=on, line=f"line {no}")
            indexes[key] = found
        return list(indexes.values())

    def _release_receipts(self, actor: Actor, claim: Claim, reason: str, on: date) -> list[Aggregate]:
        """Release the claim's receipts from whichever index holds them (canonical or legacy),
        and its live documents from theirs, so the SME may declare them again."""
        indexes: list[Aggregate] = []
        for document in claim.live_documents():
            held = self._find(DocumentIndex, document_id(document["sha256"]))
            if held is not None and held.release(actor=actor, holder_id=claim.id, reason=reason, on=on):
                indexes.append(held)
        for line in claim.lines:
            keys = [legacy_receipt_id(line.receipt_ref)]
            # A reference recorded before canonical keys may be one they refuse: only its legacy index exists.
            with contextlib.suppress(InvalidInput):
                keys.insert(0, receipt_id(line.receipt_ref))
            for key in dict.fromkeys(keys):
                index = self._find(ReceiptIndex, key)
                if index is not None and index.holder_id == claim.id:
                    index.release(actor=actor, holder_id=claim.id, reason=reason, on=on)
                    indexes.append(index)
        return indexes
