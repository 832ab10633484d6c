"""What the claim and cost pages show of their supporting documents, and who may do what with
them (the ledger checks again when it runs):

- each claim line's documents (or a cost's), live or superseded with the reason, and whether a
  line has no live document yet;
- the attach and supersede forms: only to the officers of the holder's partner, and on a claim
  only while it is pending (submitted, not decided);
- a download: the officers of the holder's partner, the coordinator and auditors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from api.document_views import may_read
from api.web.files import ACCEPT, MAX_FILES, size_text
from ledger.actors import Actor, Role
from ledger.claim import ClaimState
from projections.documents import DocumentRow, documents_of

#: A media type as a person says it.
KINDS = {"application/pdf": "PDF", "image/jpeg": "JPEG image", "image/png": "PNG image"}
#: What a file field takes, as the hint says it (the ledger's MEDIA_TYPES).
TYPES = "PDF, JPEG or PNG"


def kind_of(media_type: str) -> str:
    return KINDS.get(media_type, media_type)


def officer_of(actor: Actor, partner: str | None) -> bool:
    return actor.role == Role.OFFICER and partner is not None and actor.partner == partner


def may_attach_to_claim(actor: Actor, claim: Any) -> bool:
    """Whether to show the attach and supersede forms of a claim: its partner's officers, while
    the claim is pending."""
    return officer_of(actor, claim.partner) and claim.state == ClaimState.SUBMITTED


def limits(max_bytes: int) -> dict[str, Any]:
    """What the file inputs say and accept."""
    return {"accept": ACCEPT, "max_size": size_text(max_bytes), "max_files": MAX_FILES, "types": TYPES}


def by_line(rows: Sequence[DocumentRow], lines: Sequence[int]) -> dict[int, list[DocumentRow]]:
    """Each line's documents, in the order attached (a line with none has an empty list)."""
    found: dict[int, list[DocumentRow]] = {no: [] for no in lines}
    for row in rows:
        if row.line is not None:
            found.setdefault(row.line, []).append(row)
    return found


def lacking(found: dict[int, list[DocumentRow]]) -> list[int]:
    """The lines with no live document."""
    return [no for no, rows in found.items() if not any(row.live for row in rows)]


def claim_documents(conn: Connection, actor: Actor, detail: Any, max_bytes: int) -> dict[str, Any]:
    """What the claim page shows of its documents, line by line (to another partner's officer:
    that they are its partner's to see, as the API answers)."""
    hidden = not may_read(actor, detail.claim.partner)
    rows = [] if hidden else documents_of(conn, str(detail.claim.id))
    found = by_line(rows, [line.line_no for line in detail.lines])
    return {
        "documents": found,
        "lacking": [] if hidden else lacking(found),
        "hidden": hidden,
        "attach": may_attach_to_claim(actor, detail.claim),
        "kind": kind_of,
        **limits(max_bytes),
    }


def cost_documents(conn: Connection, actor: Actor, cost: Any, max_bytes: int) -> dict[str, Any]:
    """What the cost page shows of its documents (to another partner's officer: none)."""
    hidden = not may_read(actor, cost.partner)
    rows = [] if hidden else documents_of(conn, str(cost.id))
    return {
        "documents": rows,
        "hidden": hidden,
        "lacking": not hidden and not any(row.live for row in rows),
        "attach": officer_of(actor, cost.partner),
        "kind": kind_of,
        **limits(max_bytes),
    }
