"""Use cases of supporting documents: attach them to a claim line or a cost, supersede a wrong
one, read one back (ledger/documents.py, ledger/blobs.py).

Every upload is checked before anything is stored (its type from its bytes, its size), then
the holder and the document index decide (the claim still pending, the document not held by
another live line or cost), then the bytes are stored and the events saved. A refused command
stores nothing and records nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.actors import Actor, require_officer_of
from ledger.blobs import digest_of, prune
from ledger.claim import Claim
from ledger.cost import Cost
from ledger.documents import (
    DocumentAltered,
    DocumentFacts,
    DocumentHolder,
    DocumentIndex,
    DocumentMissing,
    UnknownDocument,
    Upload,
    document_id,
    held_by,
    inspect_upload,
    is_digest,
)
from ledger.errors import InvalidInput, NotFound, Refused
from ledger.usecases.core import Outcome
from ledger.usecases.holding import HoldingCases

#: Orphaned bytes (stored, their event never saved) are pruned once older than this.
ORPHAN_GRACE = timedelta(hours=1)

Placed = tuple[int | None, DocumentFacts]


def check_digest(sha256: str) -> str:
    if not is_digest(sha256):
        raise InvalidInput(f"{sha256!r} is not a document digest: write the 64 lowercase hex digits of its SHA-256")
    return sha256


class DocumentCases(HoldingCases):
    """Receipts and invoices on claim lines and own costs."""

    # --- preparing uploads (no store, no events yet) ------------------------------------
    def prepare_documents(self, placed: Sequence[tuple[int | None, Upload]]) -> tuple[list[Placed], dict[str, bytes]]:
        """The facts of each upload at its place (a claim line, or None for a cost) and the
        bytes to store, or a refusal naming the file; a file given twice is refused."""
        facts: list[Placed] = []
        data: dict[str, bytes] = {}
        for line, upload in placed:
            fact = inspect_upload(upload, self.document_max_bytes)
            if fact.sha256 in data:
                raise InvalidInput(
                    f"{fact.filename}: the same file is given twice in this command; a document supports one line only"
                )
            facts.append((line, fact))
            data[fact.sha256] = upload.data
        return facts, data

    def _attach(
        self, actor: Actor, holder: DocumentHolder, kind: str, placed: Sequence[Placed], on: date
    ) -> list[Aggregate]:
        """Attach each document to the holder and declare it in its index; a document already
        live at the same place (a repeated command) is left as it is."""
        changed: list[Aggregate] = []
        for line, facts in placed:
            if any(d["sha256"] == facts.sha256 for d in holder.live_documents(line)):
                holder.check_documents_open(line)
                continue
            index = self._find(DocumentIndex, document_id(facts.sha256))
            if index is None:
                index = DocumentIndex.declare_new(
                    actor=actor, facts=facts, holder_kind=kind, holder_id=holder.id, line=line, on=on
                )
            else:
                index.declare_again(actor=actor, facts=facts, holder_kind=kind, holder_id=holder.id, line=line, on=on)
            holder.attach_document(actor=actor, line=line, facts=facts, on=on)
            changed.append(index)
        return changed

    def _holder(self, holder_id: UUID) -> tuple[Claim | Cost, str]:
        try:
            holder: object = self.repository.get(holder_id)
        except AggregateNotFoundError:
            holder = None
        if isinstance(holder, Claim):
            return holder, "claim"
        if isinstance(holder, Cost):
            return holder, "cost"
        raise NotFound(f"{holder_id} is neither a claim nor an own cost; documents attach to claim lines and costs")

    # --- commands -----------------------------------------------------------------------
    def attach_to_claim(self, *, actor: Actor, claim_id: UUID, line: int, uploads: Sequence[Upload]) -> tuple[str, ...]:
        """Attach documents to one line of a pending claim; their digests."""
        _require_line(line)
        return self._attach_to(actor, claim_id, "claim", line, uploads)

    def attach_to_cost(self, *, actor: Actor, cost_id: UUID, uploads: Sequence[Upload]) -> tuple[str, ...]:
        """Attach documents to an own cost; their digests."""
        return self._attach_to(actor, cost_id, "cost", None, uploads)

    def _attach_to(
        self, actor: Actor, holder_id: UUID, kind: str, line: int | None, uploads: Sequence[Upload]
    ) -> tuple[str, ...]:
        if not uploads:
            raise InvalidInput("choose at least one file to attach (a PDF, JPEG or PNG of the receipt)")
        placed, data = self.prepare_documents([(line, upload) for upload in uploads])
        on = self.today()

        def decide() -> Outcome[tuple[str, ...]]:
            holder, found = self._holder(holder_id)
            if found != kind:
                raise NotFound(f"{holder_id} is {'an own cost' if found == 'cost' else 'a claim'}, not {kind}")
            require_officer_of(actor, holder.partner, f"attach documents to this {kind}")
            holder.check_documents_open(line)
            changed = self._attach(actor, holder, kind, placed, on)
            return tuple(f.sha256 for _, f in placed), [holder, *changed]

        return self._write(decide, data)

    def supersede_document(
        self, *, actor: Actor, holder_id: UUID, sha256: str, reason: str, replacement: Upload | None = None
    ) -> str | None:
        """Mark a wrong document superseded (kept, with the reason), and attach its replacement
        at the same place if one is given; the replacement's digest."""
        check_digest(sha256)
        on = self.today()
        placed, data = self.prepare_documents([(None, replacement)] if replacement is not None else [])
        if placed and placed[0][1].sha256 == sha256:
            raise InvalidInput("the replacement is the same file as the document it supersedes; choose the right one")

        def decide() -> Outcome[str | None]:
            holder, kind = self._holder(holder_id)
            require_officer_of(actor, holder.partner, f"supersede documents of this {kind}")
            held = holder.supersede_document(
                actor=actor, sha256=sha256, reason=reason, on=on, holder=held_by(kind, holder.id, None)
            )
            changed: list[Aggregate] = [holder]
            index = self._find(DocumentIndex, document_id(sha256))
            if index is not None and index.release(actor=actor, holder_id=holder.id, reason=reason, on=on):
                changed.append(index)
            if not placed:
                return None, changed
            facts = placed[0][1]
            changed += self._attach(actor, holder, kind, [(held["line"], facts)], on)
            return facts.sha256, changed

        return self._write(decide, data)

    # --- reading the bytes back ---------------------------------------------------------
    def document_bytes(self, sha256: str) -> bytes:
        """The bytes of a recorded document, checked against its digest."""
        check_digest(sha256)
        if self._find(DocumentIndex, document_id(sha256)) is None:
            raise UnknownDocument(f"no document with sha256 {sha256} was ever attached in this ledger")
        data = self.blobs.get(sha256)
        if data is None:
            raise DocumentMissing(
                f"the document {sha256[:12]}... is recorded but its bytes are not in the document store; "
                "run `grantledger verify` and restore the store from its backup"
            )
        if digest_of(data) != sha256:
            raise DocumentAltered(
                f"the stored bytes of document {sha256[:12]}... do not match its recorded digest: they were altered. "
                "Run `grantledger verify` and restore the store from its backup"
            )
        return data

    def prune_orphan_documents(self, older_than: timedelta = ORPHAN_GRACE) -> int:
        """Delete stored bytes that no document index names (a command that stored them and then
        failed), once older than ``older_than``; how many."""
        if older_than < timedelta(0):
            raise Refused("the grace period of orphan documents cannot be negative")
        return prune(self.blobs, lambda d: self._find(DocumentIndex, document_id(d)) is not None, older_than=older_than)


def _require_line(line: object) -> None:
    if not isinstance(line, int) or isinstance(line, bool):
        raise InvalidInput(f"say which line of the claim the document supports (1, 2, ...), got {line!r}")


def placed_on_lines(documents: Mapping[int, Sequence[Upload]]) -> list[tuple[int | None, Upload]]:
    """Uploads by claim line number, in line order."""
    for line in documents:
        _require_line(line)
    return [(line, upload) for line in sorted(documents) for upload in documents[line]]
