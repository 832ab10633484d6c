"""The receipts sent with a new claim (api/web/claim_new.py): each line's files, checked before
anything is recorded so that a refusal is shown beside the line's file field: a file that is
not a PDF, JPEG or PNG (by its bytes, whatever its name), one too large, one sent for two lines,
or one already attached to another live line or cost (double funding). The ledger checks all of
it again when it records the claim; a refusal of its own is placed on the line it names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from api.web.files import Posted
from ledger.documents import DocumentAlreadyUsed, DocumentRefused, DocumentTooLarge, Upload, inspect_upload
from ledger.errors import LedgerError
from projections.documents import DocumentRow, documents_with

#: The ledger's refusals of a document, shown beside a file field.
DOCUMENT_REFUSALS = (DocumentRefused, DocumentTooLarge, DocumentAlreadyUsed)
_LINE = re.compile(r"^(?:claim \S+ )?line (\d+): ")


def documents_of_form(form: Posted, count: int) -> dict[int, list[Upload]]:
    """Each line's files (line-N-documents), for the lines that have some."""
    found = {no: form.uploads(f"line-{no}-documents") for no in range(1, count + 1)}
    return {no: uploads for no, uploads in found.items() if uploads}


def holder_words(row: DocumentRow) -> str:
    if row.holder_kind == "claim":
        return f"claim {row.holder_id[:8]}, line {row.line} (receipt {row.receipt_ref}) of {row.partner}"
    return f"cost {row.holder_id[:8]} (document {row.receipt_ref}) of {row.partner}"


def checked_documents(conn: Connection, documents: Mapping[int, Sequence[Upload]], max_bytes: int) -> dict[int, str]:
    """Why a line's files cannot be attached, by line (the first refusal of each line)."""
    refused: dict[int, str] = {}
    seen: dict[str, int] = {}
    for no, uploads in documents.items():
        for upload in uploads:
            try:
                facts = inspect_upload(upload, max_bytes)
            except LedgerError as error:
                refused[no] = f"line {no}: {upload.filename}: {error.detail}"
                break
            if facts.sha256 in seen:
                refused[no] = (
                    f"line {no}: {upload.filename} is the same document as one sent for line {seen[facts.sha256]}; "
                    "a document supports one line only: attach each line's own receipt"
                )
                break
            seen[facts.sha256] = no
            live = [row for row in documents_with(conn, facts.sha256) if row.live]
            if live:
                refused[no] = (
                    f"line {no}: {upload.filename} is attached already to {holder_words(live[0])}; the same document "
                    "may not support two live lines or costs (double funding): attach this line's own receipt, or "
                    "mark the other one superseded first if it was attached by mistake"
                )
                break
    return refused


def refused_line(error: LedgerError, typed: Any, documents: Mapping[int, Sequence[Upload]]) -> int | None:
    """The line a refusal of a document concerns: the one it names, else the only line with files."""
    if (found := _LINE.match(error.detail)) and 1 <= int(found[1]) <= len(typed.lines):
        return int(found[1])
    with_files = [no for no, uploads in documents.items() if uploads]
    return with_files[0] if len(with_files) == 1 else None
