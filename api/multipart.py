"""Uploads to the JSON API (multipart/form-data), read at the edge with a bound on the body.

A route that takes files declares it (``@takes_files``). The edge (api.edge) then reads its body
only up to the documents' limit (``GrantLedger.document_max_bytes``) and the room a form's other
fields and headers take: a larger declared Content-Length is refused at once with a 413, and a
body that grows past the bound while it is read is refused as soon as it does, before it is
ever held whole. The parts are split by the standard library's MIME parser (the email package,
as the web app's forms are), so no multipart library is needed. The form is kept on the request
for the route (``posted_form``) and, as a canonical form (field names, file names and the
SHA-256 of each file), keys the Idempotency-Key record: the same files sent again with another
boundary are the same request.

The media type a client gives a part is never read: the ledger sniffs the bytes (ledger.documents).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, TypeVar

from fastapi import HTTPException, Request

from ledger.documents import Upload
from ledger.errors import InvalidInput

F = TypeVar("F", bound=Callable[..., Any])

MULTIPART = "multipart/form-data"
#: Room in a request beside its files: the boundaries, each part's headers and the text fields.
FORM_ROOM = 64 * 1024
#: The most parts (files and fields) one request may carry.
MAX_PARTS = 21
_TAKES_FILES = "__grantledger_takes_files__"


def takes_files(endpoint: F) -> F:
    """Declare that a write takes multipart/form-data with files (the edge bounds its body)."""
    setattr(endpoint, _TAKES_FILES, True)
    return endpoint


def is_upload(endpoint: Callable[..., Any]) -> bool:
    return bool(getattr(endpoint, _TAKES_FILES, False))


@dataclass(frozen=True)
class PostedForm:
    """A multipart form as posted: its text fields and its files, in the order sent."""

    fields: dict[str, list[str]]
    files: dict[str, list[Upload]]

    def text(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[0] if values else None

    def uploads(self, name: str = "file") -> list[Upload]:
        return list(self.files.get(name, ()))

    def canonical(self) -> bytes:
        """What keys an Idempotency-Key record: the fields and each file's name and digest."""
        files = {
            name: [[u.filename, hashlib.sha256(u.data).hexdigest()] for u in uploads]
            for name, uploads in self.files.items()
        }
        return json.dumps({"fields": self.fields, "files": files}, sort_keys=True, ensure_ascii=False).encode()


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):.1f} MB ({count:,} bytes)" if count >= 1024 * 1024 else f"{count:,} bytes"


def too_large(limit: int, declared: int | None = None) -> HTTPException:
    """413: the request is larger than a document may be (with the room for the form)."""
    sent = f"this request declares {_size(declared)}" if declared is not None else "this request is larger"
    return HTTPException(
        413,
        f"{sent}, more than the {_size(limit)} an upload may carry (a document of at most "
        f"{_size(limit - FORM_ROOM)} and the form around it); nothing was read further and nothing was "
        "recorded. Send a smaller file (a scan at a lower resolution), or each file in a request of its own",
    )


async def read_bounded(request: Request, document_max_bytes: int) -> bytes:
    """The body, read up to ``document_max_bytes`` and the form's room; a 413 past it."""
    limit = document_max_bytes + FORM_ROOM
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit, int(declared))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _unreadable(why: str) -> InvalidInput:
    return InvalidInput(
        f"the upload could not be read: {why}. Send multipart/form-data with each document in a part "
        "named 'file' (curl -F file=@receipt.pdf); nothing was recorded"
    )


def _unescaped(filename: str) -> str:
    """A file name as the sender chose it: browsers and httpx send a quote as %22 and line
    breaks as %0D %0A in multipart/form-data (WHATWG HTML, "multipart/form-data encoding")."""
    return filename.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n")


def parse_form(content_type: str | None, body: bytes) -> PostedForm:
    """Split a multipart/form-data body into fields and files (422 if it cannot be read)."""
    if (content_type or "").split(";")[0].strip().lower() != MULTIPART:
        raise HTTPException(
            415,
            f"this address takes {MULTIPART} (a form with the documents as files, e.g. curl -F file=@receipt.pdf), "
            f"not {(content_type or 'a body without a Content-Type').split(';')[0]}; nothing was recorded",
        )
    head = b"Content-Type: " + (content_type or "").encode("latin-1", "replace") + b"\r\n\r\n"
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not isinstance(message, EmailMessage) or not message.is_multipart() or message.defects:
        raise _unreadable("its parts or their boundary are malformed")
    fields: dict[str, list[str]] = {}
    files: dict[str, list[Upload]] = {}
    for number, part in enumerate(message.iter_parts()):
        if number == MAX_PARTS:
            raise _unreadable(f"it has more than {MAX_PARTS} parts")
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            raise _unreadable(f"part {number + 1} has no name")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files.setdefault(name, []).append(Upload(_unescaped(filename), data))
            continue
        try:
            fields.setdefault(name, []).append(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise _unreadable(f"the field {name!r} is not UTF-8 text") from None
    return PostedForm(fields, files)


def posted_form(request: Request) -> PostedForm:
    """The form the edge read for this request (``@takes_files`` routes only)."""
    form: PostedForm | None = getattr(request.state, "posted_form", None)
    if form is None:  # pragma: no cover - a route that takes files without @takes_files
        raise RuntimeError("this route reads a form but was not declared with @takes_files")
    return form
