"""Forms that carry supporting documents (receipts, invoices): multipart/form-data with any
number of files per field, checked as every form is: first the session, then the form's CSRF
token, before anything in it is used.

Only financial officers send documents: anyone else is refused before the body is read. The
body is read up to ``body_limit`` (three documents of the ledger's largest size,
``app.document_max_bytes``, and room for the form's fields); a larger one is a 413 page saying
the limits, and nothing is read further or recorded. Each document's own size and type are the
ledger's to check (ledger.documents.inspect_upload), beside the field it came from. A form sent
without files (application/x-www-form-urlencoded) is read as any other form, so the claim form
works for a client that sends no document at all.

The parts are split by api.multipart.split_parts, as the API's uploads are. The client's
media type of a file is never read: the ledger sniffs the bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from api import multipart
from api.accounts import WebSession
from api.context import LedgerContext
from api.web.session import CSRF_REFUSED, FORM_TYPE, Form, WebRefusal, read_form, same_token, signed_in
from ledger.actors import Actor, Role
from ledger.documents import Upload
from ledger.text import is_whole_number

MULTIPART = "multipart/form-data"
#: At most this many documents in one form, and the room left for the form's other fields.
MAX_FILES = 10
ROOM = 256 * 1024
#: A form's body holds at most this many documents of the largest size (so that one request
#: never holds more than a few documents in memory).
MAX_BODY_DOCUMENTS = 3
#: A claim form's fields (25 lines of 7) and its files.
MAX_PARTS = 400
#: What the file inputs accept (the ledger checks the bytes again, whatever the name says).
ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
_UNREADABLE = "the form could not be read; send it from the page"


@dataclass(frozen=True)
class Posted(Form):
    """A posted form's fields and its documents (by field name, in the order sent)."""

    files: dict[str, list[Upload]] = field(default_factory=dict)

    def uploads(self, name: str) -> list[Upload]:
        return list(self.files.get(name, ()))


def size_text(size: int) -> str:
    """A size as a person reads it: 512 bytes, 12.3 KB, 20 MB (1 KB = 1,024 bytes)."""
    if size < 1024:
        return f"{size:,} byte{'s' if size != 1 else ''}"
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            value = size / scale
            return f"{value:,.0f} {unit}" if value == int(value) else f"{value:,.1f} {unit}"
    return f"{size:,} bytes"  # pragma: no cover - every size is one of the above


def max_document_bytes(request: Request) -> int:
    context: LedgerContext = request.app.state.context
    return int(context.app.document_max_bytes)


def body_limit(max_bytes: int) -> int:
    """A form's largest body: three documents of the largest size (or all its documents, if
    smaller), and the room for its fields."""
    return max_bytes * MAX_BODY_DOCUMENTS + ROOM


def too_large(max_bytes: int) -> WebRefusal:
    detail = (
        f"the form is larger than {size_text(body_limit(max_bytes))}, so nothing was read or recorded: a form takes at "
        f"most {MAX_FILES} documents of at most {size_text(max_bytes)} each, {size_text(body_limit(max_bytes) - ROOM)} "
        "in all. Send fewer documents at a time"
    )
    return WebRefusal(413, "Documents too large", detail)


def file_name(text: str) -> str:
    """The name the person's file had (no folders: some browsers send the whole path); the
    bytes of a name the browser sent in UTF-8 are read as UTF-8."""
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8")
    except UnicodeError:
        text = text.encode("utf-8", "replace").decode("utf-8", "replace")
    return text.replace("\\", "/").rsplit("/", 1)[-1].strip()


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if is_whole_number(declared) and int(declared) > limit:
        raise too_large((limit - ROOM) // MAX_BODY_DOCUMENTS)
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise too_large((limit - ROOM) // MAX_BODY_DOCUMENTS)
        chunks.append(chunk)
    return b"".join(chunks)


def split_parts(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, list[Upload]]]:
    """A multipart body's text fields (the first of each name) and its files; a file input
    left empty (no name, no bytes) is no document."""
    try:
        parts = multipart.split_parts(content_type, body, MAX_PARTS)
    except multipart.Unreadable:
        raise WebRefusal(400, "Unreadable form", _UNREADABLE) from None
    fields: dict[str, str] = {}
    files: dict[str, list[Upload]] = {}
    for part in parts:
        if part.filename is not None:
            if part.filename or part.data:
                files.setdefault(part.name, []).append(Upload(file_name(part.filename) or "document", part.data))
            continue
        try:
            fields.setdefault(part.name, part.data.decode("utf-8"))
        except UnicodeDecodeError:
            raise WebRefusal(400, "Unreadable form", "the form's fields are not UTF-8; send it from the page") from None
    return fields, files


async def read_posted(request: Request, actor: Actor) -> Posted:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() == FORM_TYPE:
        return Posted(await read_form(request))
    if content_type.split(";")[0].strip().lower() != MULTIPART:
        raise WebRefusal(415, "Not a form", f"this address takes a form ({MULTIPART}); send it from the page")
    if actor.role != Role.OFFICER:  # before the body is read: only officers send documents
        detail = (
            f"{actor.describe()} may not send documents: receipts and invoices are recorded by the financial "
            "officers of the partner they are charged to; nothing was read or recorded"
        )
        raise WebRefusal(403, "Not allowed", detail)
    max_bytes = max_document_bytes(request)
    body = await read_body(request, body_limit(max_bytes))
    fields, files = await run_in_threadpool(split_parts, content_type, body)  # off the event loop
    if sum(len(uploads) for uploads in files.values()) > MAX_FILES:
        detail = f"a form takes at most {MAX_FILES} documents at a time; nothing was recorded. Send fewer at a time"
        raise WebRefusal(413, "Too many documents", detail)
    return Posted(fields, files)


async def posted_files(request: Request, session: Annotated[WebSession, Depends(signed_in)]) -> Posted:
    """The form of a signed-in POST with its documents, its CSRF token checked first (403 page)."""
    posted = await read_posted(request, session.actor)
    if not same_token(posted.fields.get("csrf"), session.csrf):
        raise WebRefusal(403, "Form refused", CSRF_REFUSED)
    return posted


FilesDep = Annotated[Posted, Depends(posted_files)]
