"""Uploads to the JSON API (multipart/form-data), read at the edge with a bound on the body.

A route that takes files declares it (``@takes_files``). The edge (api.edge) then reads its body
only up to the documents' limit (``GrantLedger.document_max_bytes``) and the room a form's other
fields and headers take: a larger declared Content-Length is refused at once with a 413, and a
body that grows past the bound while it is read is refused as soon as it does, before it is
ever held whole. The parts are split by ``split_parts`` (RFC 7578): the
boundaries found with bytes.find, each part's headers read with the email package's parameter
parsing (``filename*`` of RFC 2231 included), so the cost is one pass over the body whatever
it holds (no line-by-line parsing, no copies of the files beyond their own bytes); the web
app's forms use it too. The form is kept on the request
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
from email.message import Message
from email.utils import collapse_rfc2231_value
from typing import Any, TypeVar

from fastapi import HTTPException, Request

from ledger.documents import Upload
from ledger.errors import InvalidInput
from ledger.text import is_whole_number

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


def size_text(count: int) -> str:
    """A size in words: "1.0 MB (1,048,576 bytes)", or "900 bytes" under a megabyte."""
    return f"{count / (1024 * 1024):.1f} MB ({count:,} bytes)" if count >= 1024 * 1024 else f"{count:,} bytes"


def too_large(limit: int, declared: int | None = None) -> HTTPException:
    """413: the request is larger than a document may be (with the room for the form)."""
    sent = f"this request declares {size_text(declared)}" if declared is not None else "this request is larger"
    return HTTPException(
        413,
        f"{sent}, more than the {size_text(limit)} an upload may carry (a document of at most "
        f"{size_text(limit - FORM_ROOM)} and the form around it); nothing was read further and nothing was "
        "recorded. Send a smaller file (a scan at a lower resolution), or each file in a request of its own",
    )


async def read_up_to(request: Request, limit: int, refuse: Callable[[int, int | None], HTTPException]) -> bytes:
    """The body, read up to ``limit`` bytes: ``refuse(limit, declared)`` is raised at once for a
    larger declared Content-Length, and ``refuse(limit, None)`` as soon as a body sent without
    one (chunked) or with a smaller one grows past it, before it is held whole."""
    declared = request.headers.get("content-length", "")
    if is_whole_number(declared) and int(declared) > limit:
        raise refuse(limit, int(declared))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise refuse(limit, None)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_bounded(request: Request, document_max_bytes: int) -> bytes:
    """The body, read up to ``document_max_bytes`` and the form's room; a 413 past it."""
    return await read_up_to(request, document_max_bytes + FORM_ROOM, too_large)


def _unreadable(why: str) -> InvalidInput:
    return InvalidInput(
        f"the upload could not be read: {why}. Send multipart/form-data with each document in a part "
        "named 'file' (curl -F file=@receipt.pdf); nothing was recorded"
    )


def _unescaped(filename: str) -> str:
    """A file name as the sender chose it: browsers and httpx send a quote as %22 and line
    breaks as %0D %0A in multipart/form-data (WHATWG HTML, "multipart/form-data encoding")."""
    return filename.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n")


class Unreadable(ValueError):
    """A multipart body that cannot be split into parts (the reason, in words)."""


@dataclass(frozen=True)
class FormPart:
    """One part of a multipart/form-data body: its field name, its file name (None for a text
    field) and its bytes as sent."""

    name: str
    filename: str | None
    data: bytes


def boundary_of(content_type: str) -> bytes:
    header = Message()
    header["content-type"] = content_type
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not 0 < len(boundary) <= 70 or not boundary.isascii():
        raise Unreadable("its boundary is missing or malformed")
    return boundary.encode("ascii")


def _part(head: bytes, data: bytes, number: int) -> FormPart:
    header = Message()
    for line in head.decode("utf-8", "replace").split("\r\n"):
        key, colon, value = line.partition(":")
        if not colon:
            raise Unreadable(f"part {number} has a malformed header")
        if key.strip().lower() == "content-disposition":
            header["content-disposition"] = value.strip()
    name = header.get_param("name", header="content-disposition")
    if not isinstance(name, str) or not name:
        raise Unreadable(f"part {number} has no name")
    params: list[tuple[str, Any]] = header.get_params([], header="content-disposition")
    named = [value for key, value in params if key.lower() == "filename"]
    encoded = [value for value in named if isinstance(value, tuple)]  # filename*= (RFC 2231) wins
    filename = collapse_rfc2231_value(encoded[0]) if encoded else (str(named[0]) if named else None)
    return FormPart(name, filename, data)


def split_parts(content_type: str, body: bytes, max_parts: int) -> list[FormPart]:
    """The parts of a multipart/form-data body, in order (Unreadable if it is malformed or has
    more than ``max_parts``)."""
    delimiter = b"--" + boundary_of(content_type)
    start = body.find(delimiter)
    if start < 0:
        raise Unreadable("it has no part")
    parts: list[FormPart] = []
    position = start + len(delimiter)
    while True:
        if body.startswith(b"--", position):
            return parts
        if not body.startswith(b"\r\n", position):
            raise Unreadable("its parts or their boundary are malformed")
        if len(parts) == max_parts:
            raise Unreadable(f"it has more than {max_parts} parts")
        head_end = body.find(b"\r\n\r\n", position + 2)
        end = body.find(b"\r\n" + delimiter, position + 2)
        if end < 0 or head_end < 0 or head_end > end:
            raise Unreadable("a part is cut short (its closing boundary is missing)")
        parts.append(_part(body[position + 2 : head_end], body[head_end + 4 : end], len(parts) + 1))
        position = end + 2 + len(delimiter)


def parse_form(content_type: str | None, body: bytes) -> PostedForm:
    """Split a multipart/form-data body into fields and files (422 if it cannot be read)."""
    if (content_type or "").split(";")[0].strip().lower() != MULTIPART:
        raise HTTPException(
            415,
            f"this address takes {MULTIPART} (a form with the documents as files, e.g. curl -F file=@receipt.pdf), "
            f"not {(content_type or 'a body without a Content-Type').split(';')[0]}; nothing was recorded",
        )
    try:
        parts = split_parts(content_type or "", body, MAX_PARTS)
    except Unreadable as error:
        raise _unreadable(str(error)) from None
    fields: dict[str, list[str]] = {}
    files: dict[str, list[Upload]] = {}
    for part in parts:
        if part.filename is not None:
            files.setdefault(part.name, []).append(Upload(_unescaped(part.filename), part.data))
            continue
        try:
            fields.setdefault(part.name, []).append(part.data.decode("utf-8"))
        except UnicodeDecodeError:
            raise _unreadable(f"the field {part.name!r} is not UTF-8 text") from None
    return PostedForm(fields, files)


def posted_form(request: Request) -> PostedForm:
    """The form the edge read for this request (``@takes_files`` routes only)."""
    form: PostedForm | None = getattr(request.state, "posted_form", None)
    if form is None:  # pragma: no cover - a route that takes files without @takes_files
        raise RuntimeError("this route reads a form but was not declared with @takes_files")
    return form
