"""Supporting documents: the receipts and invoices behind each expense line and own cost.

A document is recorded by its facts (SHA-256 of its bytes, size, media type, file name) on an
event of the claim or cost it supports, so the hash chain seals its digest; its bytes are kept in
the ledger's blob store (ledger/blobs.py). Documents are never replaced or deleted: a wrong one is
superseded by a new event with a reason.

Only PDF, JPEG and PNG are accepted, recognised from their bytes (magic numbers), never from the
file name or the client's media type. The same document (same digest) may support one live line
or cost at a time (no double funding by document, like receipt references): a ``DocumentIndex``
per digest holds its live holder, so two commands declaring it at once collide on its version.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from ledger.actors import Actor
from ledger.base import LedgerAggregate
from ledger.errors import InvalidInput, NotFound, Refused
from ledger.ids import natural_id
from ledger.text import clean_optional, clean_text

#: What a document may be, and the extension a download gets.
MEDIA_TYPES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
ENV_MAX_BYTES = "GRANTLEDGER_DOCUMENT_MAX_BYTES"
FILENAME_MAX = 200
ACCEPTED = "a PDF, JPEG or PNG file"


class DocumentRefused(InvalidInput):
    title = "Document refused"


class DocumentTooLarge(DocumentRefused):
    title = "Document too large"


class DocumentAlreadyUsed(Refused):
    title = "Document already declared"


class DocumentMissing(NotFound):
    title = "Document missing"


class DocumentAltered(Refused):
    title = "Document altered"


class UnknownDocument(NotFound):
    title = "Unknown document"


@dataclass(frozen=True)
class Upload:
    """A file as received: its name as the sender gave it and its bytes (the media type the
    client claims is never trusted, so it is not carried)."""

    filename: str
    data: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"Upload({self.filename!r}, {len(self.data):,} bytes)"


@dataclass(frozen=True)
class DocumentFacts:
    """What the ledger records of a document."""

    sha256: str
    size: int
    media_type: str
    filename: str


#: What may follow a JPEG's start of image: an APPn segment (JFIF, Exif...), a quantisation or
#: Huffman table, a frame header or a comment.
_JPEG_MARKERS = frozenset({*range(0xE0, 0xF0), 0xDB, 0xC4, 0xC0, 0xC1, 0xC2, 0xFE})


#: What betrays markup a browser would run, wherever it hides at the start of a file.
_MARKUP = (b"<script", b"<html", b"<svg", b"<!doctype", b"<iframe", b"<body", b"<object", b"<embed", b"javascript:")
#: How far into a file markup is looked for (a polyglot puts it right after the magic number).
_MARKUP_WINDOW = 4096


def _is_markup(data: bytes) -> bool:
    head = data[:_MARKUP_WINDOW].lower()
    return any(marker in head for marker in _MARKUP)


def _jpeg_ends(data: bytes) -> bool:
    """A JPEG ends with its end-of-image marker (padding after it allowed), or has a motion
    photo's MP4 appended after it."""
    end = data.rfind(b"\xff\xd9")
    if end < 0:
        return False
    trailer = data[end + 2 :]
    return not trailer.strip(b"\x00\r\n ") or trailer[4:8] == b"ftyp"


def sniff(data: bytes) -> str | None:
    """The media type the bytes are, by their magic numbers and their end (a file cut short is
    none); None for anything else, and for a file that also carries markup a browser would run."""
    if _is_markup(data):
        return None
    if data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]:
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and data[-8:-4] == b"IEND":
        return "image/png"
    if data.startswith(b"\xff\xd8\xff") and len(data) > 4 and data[3] in _JPEG_MARKERS and _jpeg_ends(data):
        return "image/jpeg"
    return None


def _what_it_looks_like(data: bytes) -> str:
    head = data[:512].lstrip().lower()
    if _is_markup(data) or head.startswith((b"<?xml", b"<")):
        return "HTML, SVG or XML text (or carries some), which could run script in a browser"
    if head.startswith((b"pk\x03\x04", b"\x1f\x8b", b"7z\xbc\xaf", b"rar!")):
        return "an archive"
    if data.startswith((b"%PDF-", b"\x89PNG", b"\xff\xd8\xff")):
        return "a PDF, PNG or JPEG that is cut short or damaged (it does not end as one): upload the whole file again"
    if data.startswith((b"MZ", b"\x7fELF", b"#!")):
        return "a program or script"
    return "not a PDF, JPEG or PNG"


def clean_filename(name: str, media_type: str) -> str:
    """The file's own name, without any folder, control or invisible characters, at most
    FILENAME_MAX characters; a name with nothing left becomes "document" with the extension."""
    base = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    kept = "".join(c for c in base if unicodedata.category(c)[0] not in {"C", "Z"} or c == " ")
    kept = " ".join(kept.split()).strip(" .")
    if len(kept) > FILENAME_MAX:
        stem, dot, ext = kept.rpartition(".")
        kept = (stem[: FILENAME_MAX - len(ext) - 1] + dot + ext) if dot and len(ext) <= 5 else kept[:FILENAME_MAX]
    return kept or "document" + MEDIA_TYPES[media_type]


def _size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


def inspect_upload(upload: Upload, max_bytes: int) -> DocumentFacts:
    """The facts of an uploaded document, or a refusal saying what is wrong with it."""
    name = upload.filename or "the file"
    size = len(upload.data)
    if size == 0:
        raise DocumentRefused(f"{name}: the file is empty; attach the receipt itself ({ACCEPTED})")
    if size > max_bytes:
        raise DocumentTooLarge(
            f"{name}: the file is {_size(size)}, over the limit of {_size(max_bytes)} per document; "
            "scan it at a lower resolution or split it into several files"
        )
    media_type = sniff(upload.data)
    if media_type is None:
        raise DocumentRefused(
            f"{name}: the file is {_what_it_looks_like(upload.data)}; a supporting document must be {ACCEPTED} "
            "(its type is read from its content, not its name). Save or scan the receipt as PDF, JPEG or PNG"
        )
    digest = hashlib.sha256(upload.data).hexdigest()
    return DocumentFacts(sha256=digest, size=size, media_type=media_type, filename=clean_filename(name, media_type))


_DIGEST = re.compile(r"[0-9a-f]{64}")


def is_digest(text: object) -> bool:
    """Whether ``text`` is a document's digest as the ledger writes it: 64 lowercase hex digits."""
    return isinstance(text, str) and _DIGEST.fullmatch(text) is not None


def document_id(sha256: str) -> UUID:
    """The index of a document's digest."""
    return natural_id("document", sha256)


def held_by(kind: str, holder_id: UUID, line: int | None) -> str:
    """How a holder is named in a message: "claim 1f2e... line 2" or "cost 3a4b..."."""
    return f"{kind} {holder_id}" + (f" line {line}" if line else "")


class DocumentIndex(LedgerAggregate):
    """Which live claim line or cost holds a document (invariant 5, by document)."""

    class Declared(LedgerAggregate.Created):
        sha256: str
        filename: str
        holder_kind: str
        holder_id: UUID
        line: int | None

        def apply(self, index: DocumentIndex) -> None:
            index.sha256 = self.sha256
            index.filename = self.filename
            index.holder_kind = self.holder_kind
            index.holder_id = self.holder_id
            index.line = self.line

    class Redeclared(LedgerAggregate.Event):
        holder_kind: str
        holder_id: UUID
        line: int | None

        def apply(self, index: DocumentIndex) -> None:
            index.holder_kind = self.holder_kind
            index.holder_id = self.holder_id
            index.line = self.line

    class Released(LedgerAggregate.Event):
        holder_id: UUID
        reason: str

        def apply(self, index: DocumentIndex) -> None:
            index.holder_id = None

    if TYPE_CHECKING:
        sha256: str
        filename: str
        holder_kind: str
        holder_id: UUID | None
        line: int | None

    @classmethod
    def declare_new(
        cls, *, actor: Actor, facts: DocumentFacts, holder_kind: str, holder_id: UUID, line: int | None, on: date
    ) -> DocumentIndex:
        return cls._create(
            cls.Declared,
            id=document_id(facts.sha256),
            actor=actor,
            effective_date=on,
            sha256=facts.sha256,
            filename=facts.filename,
            holder_kind=holder_kind,
            holder_id=holder_id,
            line=line,
        )

    def require_free(self, facts: DocumentFacts, where: str) -> None:
        """Refuse while a live claim line or cost holds this document."""
        if self.holder_id is not None:
            raise DocumentAlreadyUsed(
                f"{where}: the document {facts.filename!r} (sha256 {facts.sha256[:12]}...) is already attached "
                f"to {held_by(self.holder_kind, self.holder_id, self.line)}; a document may support one line "
                "only (no double funding). Attach the receipt of this expense, or supersede the document there first"
            )

    def declare_again(
        self, *, actor: Actor, facts: DocumentFacts, holder_kind: str, holder_id: UUID, line: int | None, on: date
    ) -> None:
        self.require_free(facts, held_by(holder_kind, holder_id, line))
        self.trigger_event(
            self.Redeclared, actor=actor, effective_date=on, holder_kind=holder_kind, holder_id=holder_id, line=line
        )

    def release(self, *, actor: Actor, holder_id: UUID, reason: str, on: date) -> bool:
        """Free the document if this holder holds it; whether it did."""
        if self.holder_id != holder_id:
            return False
        reason = clean_optional(reason, "reason", multiline=True)
        self.trigger_event(self.Released, actor=actor, effective_date=on, holder_id=holder_id, reason=reason)
        return True


def held_document(line: int | None, facts: DocumentFacts) -> dict[str, Any]:
    """A document as its claim or cost keeps it in its state."""
    return {"line": line, "sha256": facts.sha256, "filename": facts.filename, "live": True}


def superseded(documents: Sequence[dict[str, Any]], sha256: str) -> list[dict[str, Any]]:
    return [d | {"live": False} if d["sha256"] == sha256 else d for d in documents]


def live_document(documents: Sequence[dict[str, Any]], sha256: str, holder: str) -> dict[str, Any]:
    """The live document with this digest on a claim or cost, or a refusal naming what it holds."""
    for document in documents:
        if document["sha256"] == sha256 and document["live"]:
            return document
    if any(d["sha256"] == sha256 for d in documents):
        raise Refused(f"the document {sha256[:12]}... of {holder} is already superseded; nothing to supersede")
    raise UnknownDocument(
        f"{holder} has no document with sha256 {sha256}; list its documents to find the digest of the one to supersede"
    )


class AttachedDocument(LedgerAggregate.Event):
    """A document attached to a claim line (``line``, from 1) or to a cost (``line`` None).
    Each holder redefines it as its own event (Claim.DocumentAttached, Cost.DocumentAttached)."""

    line: int | None
    sha256: str
    size: int
    media_type: str
    filename: str

    def apply(self, holder: Any) -> None:
        facts = DocumentFacts(self.sha256, self.size, self.media_type, self.filename)
        holder.documents = [*holder.documents, held_document(self.line, facts)]


class SupersededDocument(LedgerAggregate.Event):
    """A document marked superseded, with why (it stays recorded, its bytes kept)."""

    line: int | None
    sha256: str
    reason: str

    def apply(self, holder: Any) -> None:
        holder.documents = superseded(holder.documents, self.sha256)


class DocumentHolder:
    """What a claim and a cost share: their documents, attached and superseded by events."""

    #: Documents as the holder keeps them (none until one is attached: this default keeps the
    #: state of holders recorded before documents as it was). ClassVar: the library makes other
    #: annotated defaults instance fields.
    documents: ClassVar[Sequence[dict[str, Any]]] = ()
    if TYPE_CHECKING:
        id: UUID
        DocumentAttached: type[AttachedDocument]
        DocumentSuperseded: type[SupersededDocument]

        def trigger_event(self, event_class: Any, **kwargs: Any) -> None: ...

    def check_documents_open(self, line: int | None) -> None:
        """Refuse a change of documents the holder does not take now (a claim: once decided)."""

    def live_documents(self, line: int | None = None) -> list[dict[str, Any]]:
        return [d for d in self.documents if d["live"] and (line is None or d["line"] == line)]

    def attach_document(self, *, actor: Actor, line: int | None, facts: DocumentFacts, on: date) -> None:
        self.check_documents_open(line)
        self.trigger_event(
            self.DocumentAttached,
            actor=actor,
            effective_date=on,
            line=line,
            sha256=facts.sha256,
            size=facts.size,
            media_type=facts.media_type,
            filename=facts.filename,
        )

    def supersede_document(self, *, actor: Actor, sha256: str, reason: str, on: date, holder: str) -> dict[str, Any]:
        """Mark a live document superseded; the document as it was held."""
        self.check_documents_open(None)
        document = live_document(self.documents, sha256, holder)
        reason = clean_text(
            reason, "reason", multiline=True, missing="say why the document is superseded (wrong file, illegible...)"
        )
        self.trigger_event(
            self.DocumentSuperseded, actor=actor, effective_date=on, line=document["line"], sha256=sha256, reason=reason
        )
        return document
