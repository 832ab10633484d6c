"""Supporting documents: attach receipts to a claim's lines or to an own cost (multipart), supersede
a wrong one with a reason, list them, download one, a claim's or a period's in a zip, and the
lines still without one.

A partner's financial officers attach and supersede (the ledger checks the partner, and that a
claim is still pending). The documents are read by that partner's officers, the coordinator and
auditors: an officer of another partner gets a 403 on a claim's or cost's list and a 404 on a
digest, never its bytes or its name. Uploads are bounded at the edge (api.multipart): a request
larger than a document may be is a 413, read no further.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from sqlalchemy import Connection

from api.context import LedgerContext
from api.deps import ActorDep, ContextDep, ReadDep, SettingsDep
from api.document_views import (
    ZIP,
    document_public,
    document_response,
    missing_public,
    readable_row,
    require_reader,
    scope_of,
    zip_response,
)
from api.edge import GuardedRoute, allowed
from api.multipart import MULTIPART, PostedForm, posted_form, takes_files
from api.routes._query import in_query
from api.routes._write import then_read
from api.schemas import Page, Written
from api.schemas.common import SHA256
from api.schemas.documents import DocumentPublic, MissingDocumentPublic
from api.views import claim_by_id, cost_by_id
from ledger.actors import Role
from ledger.documents import MEDIA_TYPES
from ledger.text import is_whole_number
from projections import codes
from projections.documents import documents_of, missing_documents, period_bounds, period_documents

router = APIRouter(tags=["documents"], route_class=GuardedRoute)
WHO = (Role.AUDITOR, Role.COORDINATOR, Role.OFFICER)
Sha256 = Annotated[str, Path(pattern=SHA256, description="The document's SHA-256, 64 hex digits")]
Number = Annotated[int, Path(ge=1, le=1000, description="The reporting period's number, from 1")]

_FILE = {"type": "string", "format": "binary", "description": "A PDF, JPEG or PNG (its type is read from its bytes)"}
_FILES = {"type": "array", "items": _FILE, "description": "One or more documents, each a part named 'file'"}


def _form(properties: dict[str, Any], required: list[str], example: dict[str, Any]) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": required, "examples": [example]}
    return {"requestBody": {"required": True, "content": {MULTIPART: {"schema": schema}}}}


UPLOAD_PROBLEMS: dict[int | str, dict[str, Any]] = {
    413: {"description": "The request is larger than a document may be; nothing was read further or recorded"},
    415: {"description": "The body is not multipart/form-data"},
}
DOWNLOAD: dict[int | str, dict[str, Any]] = {
    200: {"content": {t: {} for t in MEDIA_TYPES}, "description": "The document's bytes, as an attachment"}
}
ZIPPED: dict[int | str, dict[str, Any]] = {
    200: {"content": {ZIP: {}}, "description": "The documents, MANIFEST.sha256 and manifest.csv"}
}


# --- reading the form -------------------------------------------------------------------------
def _field_error(name: str, message: str, given: object) -> RequestValidationError:
    error = {"type": "value_error", "loc": ("body", name), "msg": message, "input": given, "ctx": {"error": message}}
    return RequestValidationError([error])


def _line(form: PostedForm) -> int:
    text = form.text("line")
    if text is None:
        raise _field_error("line", "give the claim's line the documents support, a number from 1", None)
    if not is_whole_number(text.strip()) or not 1 <= int(text.strip()) <= 1000:
        raise _field_error("line", "is the number of the claim's line, from 1 (as the claim lists its lines)", text)
    return int(text.strip())


def _files(form: PostedForm) -> list[Any]:
    uploads = form.uploads("file")
    if not uploads:
        raise _field_error("file", "attach at least one document, each in a part named 'file'", None)
    return uploads


def _reason(form: PostedForm) -> str:
    reason = form.text("reason")
    if reason is None or not reason.strip():
        raise _field_error("reason", "say why the document is superseded (wrong file, illegible scan...)", reason)
    return reason


def _page(conn: Connection, holder_id: UUID) -> Page[DocumentPublic]:
    rows = documents_of(conn, str(holder_id))
    return Page(data=[document_public(row) for row in rows], count=len(rows))


def _written(context: LedgerContext, timeout: float, holder_id: UUID) -> Written[Page[DocumentPublic]]:
    """Read-your-writes: the holder's documents once the read models show the write."""
    position, data = then_read(context, timeout, lambda conn: _page(conn, holder_id))
    return Written(position=position, data=data)


# --- attach and supersede ---------------------------------------------------------------------
@router.post(
    "/claims/{claim_id}/documents",
    status_code=201,
    response_model=Written[Page[DocumentPublic]],
    summary="Attach documents to a claim's line",
    responses=UPLOAD_PROBLEMS,
    openapi_extra=_form({"line": {"type": "integer", "minimum": 1}, "file": _FILES}, ["line", "file"], {"line": 1}),
)
@allowed(Role.OFFICER)
@takes_files
def attach_to_claim(
    claim_id: UUID, request: Request, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[Page[DocumentPublic]]:
    """Officers of the claim's partner, while the claim is submitted (not yet decided): the
    receipts of one line, each a PDF, JPEG or PNG. A document already on another live line or
    cost is refused (409, naming it); nothing is recorded unless every file is accepted."""
    form = posted_form(request)
    line, uploads = _line(form), _files(form)
    context.app.attach_to_claim(actor=actor, claim_id=claim_id, line=line, uploads=uploads)
    return _written(context, settings.read_your_writes_timeout, claim_id)


@router.post(
    "/costs/{cost_id}/documents",
    status_code=201,
    response_model=Written[Page[DocumentPublic]],
    summary="Attach documents to an own cost",
    responses=UPLOAD_PROBLEMS,
    openapi_extra=_form({"file": _FILES}, ["file"], {}),
)
@allowed(Role.OFFICER)
@takes_files
def attach_to_cost(
    cost_id: UUID, request: Request, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[Page[DocumentPublic]]:
    """Officers of the cost's partner: its invoices or receipts, each a PDF, JPEG or PNG."""
    uploads = _files(posted_form(request))
    context.app.attach_to_cost(actor=actor, cost_id=cost_id, uploads=uploads)
    return _written(context, settings.read_your_writes_timeout, cost_id)


_SUPERSEDE = _form(
    {"reason": {"type": "string", "minLength": 1}, "file": _FILE},
    ["reason"],
    {"reason": "the scan is illegible; replaced by a new one"},
)


def _supersede(
    holder_id: UUID,
    sha256: str,
    request: Request,
    actor: ActorDep,
    context: ContextDep,
    settings: SettingsDep,
    holder: Callable[[UUID], object],
) -> Written[Page[DocumentPublic]]:
    holder(holder_id)  # a claim's path names a claim, a cost's a cost (404 otherwise)
    form = posted_form(request)
    reason = _reason(form)
    files = form.uploads("file")
    if len(files) > 1:
        raise _field_error("file", "give at most one replacement document", len(files))
    context.app.supersede_document(
        actor=actor, holder_id=holder_id, sha256=sha256.lower(), reason=reason, replacement=files[0] if files else None
    )
    return _written(context, settings.read_your_writes_timeout, holder_id)


@router.post(
    "/claims/{claim_id}/documents/{sha256}/supersede",
    response_model=Written[Page[DocumentPublic]],
    summary="Supersede a document of a claim",
    responses=UPLOAD_PROBLEMS,
    openapi_extra=_SUPERSEDE,
)
@allowed(Role.OFFICER)
@takes_files
def supersede_claim_document(
    claim_id: UUID, sha256: Sha256, request: Request, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[Page[DocumentPublic]]:
    """Officers of the claim's partner, while it is pending: the document stays recorded (and its
    bytes kept), marked superseded with the reason; a replacement ``file`` is attached to the
    same line in the same step."""
    return _supersede(claim_id, sha256, request, actor, context, settings, context.app.claim)


@router.post(
    "/costs/{cost_id}/documents/{sha256}/supersede",
    response_model=Written[Page[DocumentPublic]],
    summary="Supersede a document of an own cost",
    responses=UPLOAD_PROBLEMS,
    openapi_extra=_SUPERSEDE,
)
@allowed(Role.OFFICER)
@takes_files
def supersede_cost_document(
    cost_id: UUID, sha256: Sha256, request: Request, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[Page[DocumentPublic]]:
    """Officers of the cost's partner: as for a claim's document."""
    return _supersede(cost_id, sha256, request, actor, context, settings, context.app.cost)


# --- reads ------------------------------------------------------------------------------------
@router.get("/claims/{claim_id}/documents", response_model=Page[DocumentPublic], summary="A claim's documents")
def claim_documents(claim_id: UUID, conn: ReadDep, actor: ActorDep) -> Page[DocumentPublic]:
    """Every document of the claim's lines, superseded ones too (``live`` false, with the reason),
    in the order attached."""
    require_reader(actor, claim_by_id(conn, claim_id).partner, f"claim {claim_id}")
    return _page(conn, claim_id)


@router.get("/costs/{cost_id}/documents", response_model=Page[DocumentPublic], summary="An own cost's documents")
def cost_documents(cost_id: UUID, conn: ReadDep, actor: ActorDep) -> Page[DocumentPublic]:
    """Every document of the cost, superseded ones too, in the order attached."""
    require_reader(actor, cost_by_id(conn, cost_id).partner, f"cost {cost_id}")
    return _page(conn, cost_id)


@router.get(
    "/claims/{claim_id}/documents.zip",
    response_class=StreamingResponse,
    summary="Download a claim's documents in one zip",
    responses=ZIPPED,
)
@allowed(*WHO)
def claim_documents_zip(claim_id: UUID, actor: ActorDep, context: ContextDep) -> StreamingResponse:
    """The claim's live documents, one folder per line, with MANIFEST.sha256 (check it with
    ``sha256sum -c MANIFEST.sha256`` in the unzipped folder) and manifest.csv."""
    with context.read_db.reading() as conn:
        require_reader(actor, claim_by_id(conn, claim_id).partner, f"claim {claim_id}")
        rows = documents_of(conn, str(claim_id))
    return zip_response(context, rows, title=f"claim {claim_id}", filename=f"claim-{str(claim_id)[:8]}-documents.zip")


@router.get(
    "/reporting/periods/{number}/documents.zip",
    response_class=StreamingResponse,
    summary="Download a reporting period's documents in one zip",
    responses=ZIPPED,
)
@allowed(*WHO)
def period_documents_zip(
    number: Number,
    actor: ActorDep,
    context: ContextDep,
    partner: Annotated[
        str | None,
        Query(max_length=200, description="Only this partner's, e.g. POINTEX; an officer's are always their own"),
    ] = None,
) -> StreamingResponse:
    """The live documents behind the period's statement: own costs dated in the period and the
    claims paid (value date) in it, with MANIFEST.sha256 and manifest.csv."""
    with context.read_db.reading() as conn:
        scope = scope_of(actor, in_query("partner", partner, lambda text: codes.partner_code(conn, text)))
        if period_bounds(conn, number) is None:
            raise HTTPException(404, f"reporting period {number} is not set; GET /reporting/periods lists them")
        rows = period_documents(conn, number, partner=scope)
    who = f"{scope}, " if scope else ""
    name = f"period-{number}-{scope.lower()}-documents.zip" if scope else f"period-{number}-documents.zip"
    return zip_response(context, rows, title=f"{who}reporting period {number}", filename=name)


@router.get(
    "/documents/missing",
    response_model=Page[MissingDocumentPublic],
    summary="Claim lines and own costs without a document",
)
def missing(
    conn: ReadDep,
    _actor: ActorDep,
    partner: Annotated[str | None, Query(max_length=200, description="Only this partner's, e.g. NTT")] = None,
) -> Page[MissingDocumentPublic]:
    """The lines of claims neither rejected nor withdrawn, and the own costs, that have no live
    document: what to ask the SMEs and the partners for before the period is reported."""
    code = in_query("partner", partner, lambda text: codes.partner_code(conn, text))
    rows = missing_documents(conn, partner=code)
    return Page(data=[missing_public(row) for row in rows], count=len(rows))


@router.get(
    "/documents/{sha256}",
    response_class=StreamingResponse,
    summary="Download a document",
    responses=DOWNLOAD,
)
@allowed(*WHO)
def download(sha256: Sha256, actor: ActorDep, context: ContextDep) -> StreamingResponse:
    """The document's bytes as recorded (their SHA-256 checked first: a missing one is a 404, an
    altered one a 409), always as an attachment, its media type the one read when it was attached."""
    with context.read_db.reading() as conn:
        row = readable_row(conn, actor, sha256.lower())
    return document_response(context, row)
