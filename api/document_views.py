"""Supporting documents for HTTP: who may read them, rows -> bodies, and the downloads (one
document, or a zip of many) with the headers that keep a browser from running or caching them.

The API routes (api/routes/documents.py) and the web app's pages share these, as they share
api.views: the same rights, the same file names, the same bytes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, BinaryIO, cast
from urllib.parse import quote

from fastapi import HTTPException
from fastapi.responses import StreamingResponse
from sqlalchemy import Connection

from api.context import LedgerContext
from api.schemas.documents import DocumentPublic, MissingDocumentPublic
from ledger.actors import Actor, Role
from ledger.documents import MEDIA_TYPES
from ledger.errors import NotAllowed
from projections.document_zip import write_documents_zip
from projections.documents import DocumentRow, MissingRow, documents_with

ZIP = "application/zip"
CHUNK = 64 * 1024
#: Zips are built in memory up to this size, then in a temporary file.
SPOOL = 8 * 1024 * 1024
READERS = "its partner's financial officers, the coordinator and auditors"


def download_url(sha256: str) -> str:
    return f"/api/v1/documents/{sha256}"


def may_read(actor: Actor, partner: str) -> bool:
    """Auditors and the coordinator read every partner's documents; an officer their partner's."""
    return actor.role != Role.OFFICER.value or actor.partner == partner


def require_reader(actor: Actor, partner: str, what: str) -> None:
    """403 unless the actor may read the documents of ``what`` (a claim or cost of ``partner``)."""
    if not may_read(actor, partner):
        raise NotAllowed(
            f"{actor.describe()} may not read the documents of {what}: it is charged to {partner}, and its "
            f"documents are read by {READERS}"
        )


def scope_of(actor: Actor, partner: str | None) -> str | None:
    """Whose documents a download of many holds: auditors and the coordinator every partner's (or
    the one they ask for), an officer their own partner's only (asking for another is a 403)."""
    if actor.role != Role.OFFICER.value:
        return partner
    if partner is not None and partner != actor.partner:
        raise NotAllowed(
            f"{actor.describe()} may not download {partner}'s documents: an officer downloads only their own "
            f"partner's; ask for partner={actor.partner} or leave partner out"
        )
    return actor.partner


def document_public(row: DocumentRow) -> DocumentPublic:
    return DocumentPublic(
        sha256=row.sha256,
        holder_kind=row.holder_kind,
        holder_id=str(row.holder_id),
        partner=row.partner,
        line=row.line,
        receipt_ref=row.receipt_ref,
        filename=row.filename,
        media_type=row.media_type,
        size=row.size,
        attached_on=row.attached_on,
        recorded_at=row.recorded_at,
        attached_by=row.attached_by,
        live=row.live,
        superseded_reason=row.superseded_reason,
        download_url=download_url(row.sha256),
    )


def missing_public(row: MissingRow) -> MissingDocumentPublic:
    return MissingDocumentPublic(
        holder_kind=row.holder_kind,
        holder_id=str(row.holder_id),
        partner=row.partner,
        line=row.line,
        receipt_ref=row.receipt_ref,
        state=row.state,
        description=row.description,
    )


def readable_row(conn: Connection, actor: Actor, sha256: str) -> DocumentRow:
    """The record a download of ``sha256`` is named and typed from: a live one the actor may
    read if there is one, else the latest they may read. 404 otherwise, with the same words
    whether the digest is unknown or another partner's (nothing is learnt of it)."""
    rows = [row for row in documents_with(conn, sha256) if may_read(actor, row.partner)]
    if not rows:
        raise HTTPException(
            404,
            f"no document with sha256 {sha256} that you may read is in the ledger (documents are read by the "
            f"officers of the claim's or cost's partner, the coordinator and auditors); check the digest in the "
            "claim's or cost's list of documents",
        )
    live = [row for row in rows if row.live]
    return (live or rows)[-1]


def attachment(filename: str) -> str:
    """A Content-Disposition that only ever downloads (RFC 6266): an ASCII ``filename`` with
    anything unsafe replaced, and the name as given in ``filename*`` (UTF-8, percent-encoded)."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in " ._-()") else "_" for c in filename).strip() or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def safe_filename(row: DocumentRow) -> str:
    """The recorded name, with the extension of the media type read from the bytes."""
    extension = MEDIA_TYPES.get(row.media_type, "")
    name = row.filename
    return name if name.lower().endswith(extension) or not extension else name + extension


PRIVATE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


def document_response(context: LedgerContext, row: DocumentRow) -> StreamingResponse:
    """The bytes of a document (digest checked by the ledger: DocumentMissing is a 404,
    DocumentAltered a 409), as an attachment of the media type recorded for it."""
    data = context.app.document_bytes(row.sha256)
    headers = {
        **PRIVATE,
        "Content-Disposition": attachment(safe_filename(row)),
        "Content-Length": str(len(data)),
        "ETag": f'"{row.sha256}"',
        "Content-Security-Policy": "sandbox; default-src 'none'",
    }
    return StreamingResponse(_chunks(data), media_type=row.media_type, headers=headers)


def _chunks(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


def zip_response(
    context: LedgerContext, rows: Sequence[DocumentRow], *, title: str, filename: str
) -> StreamingResponse:
    """The live documents of ``rows`` in one zip with their manifests (projections.document_zip),
    built in a spooled temporary file and streamed from it."""
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL)  # noqa: SIM115 - closed when the stream ends
    try:
        write_documents_zip(
            [row for row in rows if row.live], context.app.document_bytes, cast(BinaryIO, out), title=title
        )
        size = out.tell()
        out.seek(0)
    except BaseException:
        out.close()
        raise
    headers = {**PRIVATE, "Content-Disposition": attachment(filename), "Content-Length": str(size)}
    return StreamingResponse(_read_then_close(out), media_type=ZIP, headers=headers)


def _read_then_close(out: Any) -> Iterable[bytes]:
    try:
        while chunk := out.read(CHUNK):
            yield chunk
    finally:
        out.close()
