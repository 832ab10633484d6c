"""Supporting documents on the claim and cost pages: attach one or more to a claim line (while
the claim is pending) or to a cost, mark one superseded with a reason (optionally with its
replacement), and download one document or all the live documents of a claim as a zip.

Each form posts multipart (api.web.files) to the Application's own method (attach_to_claim,
attach_to_cost, supersede_document): a refusal (a file that is not a PDF, JPEG or PNG, one too
large, the same document on another live line or cost) is shown beside the form it came from,
in the ledger's words, and nothing is recorded. Downloads are attachments, never shown in the
browser (``X-Content-Type-Options: nosniff``), with the media type the ledger recorded from the
bytes; who may download is the officers of the holder's partner, the coordinator and auditors.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from api.context import LedgerContext
from api.document_views import document_response, may_read, zip_response
from api.web.claims import act_on_claim, claim_id_of
from api.web.costs import cost_id_of, cost_page
from api.web.document_views import officer_of
from api.web.errors import ledger_refused, status_of
from api.web.files import FilesDep, Posted
from api.web.reads import books
from api.web.session import SessionDep, WebRefusal
from api.web.writes import FieldRefusal, write
from ledger.actors import Actor
from ledger.documents import Upload, is_digest
from ledger.errors import LedgerError, NotAllowed
from ledger.text import is_whole_number
from projections import tables as t
from projections.documents import documents_of, documents_with
from projections.queries import claim_detail

router = APIRouter(include_in_schema=False)
ZIP = "application/zip"


def no_such_document(text: str) -> WebRefusal:
    detail = (
        f"no document with the digest {text[:64]!r} that you may read is attached to a claim or cost (documents are "
        "read by the officers of the claim's or cost's partner, the coordinator and auditors); the claim and cost "
        "pages link each"
    )
    return WebRefusal(404, "No such document", detail)


@router.get("/documents/{sha256}")
def document(request: Request, session: SessionDep, sha256: str) -> Response:
    """One document, as an attachment (its digest checked by the ledger on the way out)."""
    digest = sha256.lower()
    if not is_digest(digest):
        raise no_such_document(sha256)
    with books(request) as conn:
        rows = documents_with(conn, digest)
    if not rows:
        raise no_such_document(sha256)
    if not any(may_read(session.actor, row.partner) for row in rows):
        raise no_such_document(sha256)  # another partner's: the same words as for an unknown digest
    readable = [row for row in rows if may_read(session.actor, row.partner)]
    live = [row for row in readable if row.live]
    return document_response(request.app.state.context, (live or readable)[-1])


@router.get("/claims/{claim_id}/documents.zip")
def claim_zip(request: Request, session: SessionDep, claim_id: str) -> Response:
    """The claim's live documents in a zip, with MANIFEST.sha256 and manifest.csv."""
    uuid = claim_id_of(claim_id)
    with books(request) as conn:
        detail = claim_detail(conn, str(uuid))
        rows = [row for row in documents_of(conn, str(uuid)) if row.live]
    if detail is None:
        raise WebRefusal(404, "No such claim", f"claim {uuid} is not in the ledger (or not yet projected)")
    partner = detail.claim.partner
    if not may_read(session.actor, partner):
        detail_text = (
            f"{session.actor.describe()} may not download this claim's documents: it is charged to {partner}, and only "
            f"{partner}'s financial officers, the coordinator and auditors download them"
        )
        raise WebRefusal(403, "Not allowed", detail_text)
    context: LedgerContext = request.app.state.context
    return zip_response(context, rows, title=f"claim {uuid}", filename=f"claim-{str(uuid)[:8]}-documents.zip")


def one_replacement(form: Posted) -> Upload | None:
    uploads = form.uploads("file")
    if len(uploads) > 1:
        raise FieldRefusal("file", "choose one replacement document (or none)")
    return uploads[0] if uploads else None


def line_of(form: Posted) -> int:
    text = form.get("line")
    if not is_whole_number(text) or not 0 < int(text) < 1000:
        raise FieldRefusal("file", "the form names no line of the claim; send it from the claim's page")
    return int(text)


def digest_of(form: Posted) -> str:
    text = form.get("document").lower()
    if not is_digest(text):
        raise FieldRefusal("document", "choose the document to mark superseded from the list")
    return text


@router.post("/claims/{claim_id}/documents")
def attach_to_claim(request: Request, session: SessionDep, form: FilesDep, claim_id: str) -> Response:
    uuid, actor = claim_id_of(claim_id), session.actor
    values = {"action": f"attach-{form.get('line')}"}

    def command(context: LedgerContext) -> None:
        line = line_of(form)
        uploads = form.uploads("file")
        if not uploads:
            raise FieldRefusal("file", f"line {line}: choose a file to attach (a PDF, JPEG or PNG)")
        context.app.attach_to_claim(actor=actor, claim_id=uuid, line=line, uploads=uploads)

    return act_on_claim(request, actor, uuid, values, f"attach documents to claim {uuid}", command)


@router.post("/claims/{claim_id}/documents/supersede")
def supersede_on_claim(request: Request, session: SessionDep, form: FilesDep, claim_id: str) -> Response:
    uuid, actor = claim_id_of(claim_id), session.actor
    values = {"action": f"supersede-{form.get('line')}", "reason": form.get("reason"), "document": form.get("document")}

    def command(context: LedgerContext) -> None:
        digest, replacement = digest_of(form), one_replacement(form)
        context.app.supersede_document(
            actor=actor, holder_id=uuid, sha256=digest, reason=values["reason"], replacement=replacement
        )

    return act_on_claim(request, actor, uuid, values, f"supersede a document of claim {uuid}", command)


def act_on_cost(
    request: Request, actor: Actor, cost_id: UUID, values: dict[str, str], command: Callable[[LedgerContext], object]
) -> Response:
    """Run ``command`` on a cost from a form on its page: who may is checked first (its
    partner's officers); a refusal is shown on the cost's page with what was typed kept."""
    with books(request) as conn:
        found = conn.execute(select(t.costs.c.partner).where(t.costs.c.id == str(cost_id))).scalar_one_or_none()
    if found is None:
        raise WebRefusal(404, "No such cost", f"cost {cost_id} is not in the ledger (or not yet projected)")
    if not officer_of(actor, found):
        detail = (
            f"{actor.describe()} may not change the documents of this cost: it is charged to {found}'s budget, "
            f"and only {found}'s financial officers may act on it"
        )
        return ledger_refused(request, NotAllowed(detail))
    try:
        write(request, command)
    except FieldRefusal as error:
        return cost_page(request, actor, cost_id, 422, error=error.detail, field=error.field, values=values)
    except NotAllowed as error:
        return ledger_refused(request, error)
    except LedgerError as error:
        return cost_page(request, actor, cost_id, status_of(error), error=error.detail, values=values)
    return RedirectResponse(f"/costs/{cost_id}#documents", status_code=303)


@router.post("/costs/{cost_id}/documents")
def attach_to_cost(request: Request, session: SessionDep, form: FilesDep, cost_id: str) -> Response:
    uuid, actor = cost_id_of(cost_id), session.actor

    def command(context: LedgerContext) -> None:
        uploads = form.uploads("file")
        if not uploads:
            raise FieldRefusal("file", "choose a file to attach (a PDF, JPEG or PNG)")
        context.app.attach_to_cost(actor=actor, cost_id=uuid, uploads=uploads)

    return act_on_cost(request, actor, uuid, {"action": "attach"}, command)


@router.post("/costs/{cost_id}/documents/supersede")
def supersede_on_cost(request: Request, session: SessionDep, form: FilesDep, cost_id: str) -> Response:
    uuid, actor = cost_id_of(cost_id), session.actor
    values = {"action": "supersede", "reason": form.get("reason"), "document": form.get("document")}

    def command(context: LedgerContext) -> None:
        digest, replacement = digest_of(form), one_replacement(form)
        context.app.supersede_document(
            actor=actor, holder_id=uuid, sha256=digest, reason=values["reason"], replacement=replacement
        )

    return act_on_cost(request, actor, uuid, values, command)
