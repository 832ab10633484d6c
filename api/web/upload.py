"""Forms with a file (multipart/form-data), checked as every form is: first the session, then
the form's CSRF token, before anything in it is used.

The body is read up to ``MAX_UPLOAD`` (a file of 1 MiB and the form's few fields); a larger one
is a 413 page saying the limit, and nothing is read further. The parts are split by
api.multipart.split_parts, as the documents' forms are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from api import multipart
from api.accounts import WebSession
from api.web.session import CSRF_REFUSED, WebRefusal, same_token, signed_in
from ledger.text import is_whole_number

MULTIPART = "multipart/form-data"
#: The largest file a form takes, and the room left for the form's other fields.
MAX_FILE = 1024 * 1024
MAX_UPLOAD = MAX_FILE + 64 * 1024
MAX_PARTS = 10


@dataclass(frozen=True)
class Upload:
    """A posted multipart form: its text fields and its files' bytes (by field name)."""

    fields: dict[str, str]
    files: dict[str, bytes]

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default)


def too_large(what: str = "the file") -> WebRefusal:
    detail = f"{what} is larger than {MAX_FILE // 1024:,} KiB; nothing was read. Split it and send each part"
    return WebRefusal(413, "File too large", detail)


async def read_upload(request: Request) -> Upload:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != MULTIPART:
        raise WebRefusal(415, "Not a form with a file", f"this address takes a form with a file ({MULTIPART})")
    declared = request.headers.get("content-length", "")
    if is_whole_number(declared) and int(declared) > MAX_UPLOAD:
        raise too_large()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD:
            raise too_large()
        chunks.append(chunk)
    body = b"".join(chunks)
    try:
        parts = multipart.split_parts(content_type, body, MAX_PARTS)
    except multipart.Unreadable:
        raise WebRefusal(400, "Unreadable form", "the form could not be read; send it from the page") from None
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in parts:
        if part.filename is not None:
            files.setdefault(part.name, part.data)
        else:
            try:
                fields.setdefault(part.name, part.data.decode("utf-8"))
            except UnicodeDecodeError:
                detail = "the form's fields are not UTF-8; send it from the page"
                raise WebRefusal(400, "Unreadable form", detail) from None
    return Upload(fields, files)


async def uploaded(request: Request, session: Annotated[WebSession, Depends(signed_in)]) -> Upload:
    """The multipart form of a signed-in POST, its CSRF token checked first (403 page otherwise)."""
    upload = await read_upload(request)
    if not same_token(upload.fields.get("csrf"), session.csrf):
        raise WebRefusal(403, "Form refused", CSRF_REFUSED)
    return upload


UploadDep = Annotated[Upload, Depends(uploaded)]
