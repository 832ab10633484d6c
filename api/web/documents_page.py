"""The Documents page: every claim line and cost that still lacks a live supporting document
(by partner, each linked to its claim or cost), and the download of a reporting period's
documents as one zip with its manifest (MANIFEST.sha256, checked with ``sha256sum -c`` inside
the unzipped folder, and manifest.csv: claim or cost, line, receipt reference, digest, size).

The period's documents are those of its statement (projections.documents.period_documents):
costs dated in the period and claims with a payment value-dated in it. Auditors and the
coordinator download every partner's, or one partner's; a financial officer their own partner's
(asking for another's is refused, as for the exports: ledger.actors.export_scope).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from api import reporting
from api.document_views import zip_response
from api.web.reads import books
from api.web.render import render
from api.web.session import SessionDep, WebRefusal
from ledger.actors import export_scope
from ledger.errors import LedgerError, NotFound
from ledger.text import is_whole_number
from projections import codes, glance
from projections.documents import missing_documents, period_documents

router = APIRouter(include_in_schema=False)


def period_choices(conn: Any) -> list[Any]:
    """The reporting periods (none before the grant is signed)."""
    try:
        return [view.period for view in reporting.periods_view(conn)]
    except NotFound:
        return []


@router.get("/documents")
def documents(request: Request, session: SessionDep) -> Response:
    """The lines and costs lacking a document (?partner=), and the period zip's form."""
    params = request.query_params
    shown = {"partner": params.get("partner", "")[:200].strip()}
    errors: dict[str, str] = {}
    rows: list[Any] = []
    with books(request) as conn:
        partner = None
        if shown["partner"]:
            try:
                partner = codes.partner_code(conn, shown["partner"])
            except LedgerError as error:
                errors["partner"] = error.detail
        if not errors:
            rows = missing_documents(conn, partner=partner)
        partners = glance.partner_codes(conn)
        periods = period_choices(conn)
    actor = session.actor
    return render(
        request,
        "documents.html",
        422 if errors else 200,
        rows=rows,
        shown=shown,
        errors=errors,
        partners=partners,
        periods=periods,
        own=actor.partner if actor.role == "officer" else None,
    )


@router.get("/documents/period.zip")
def period_zip(request: Request, session: SessionDep) -> Response:
    """A reporting period's live documents (?period=N, ?partner=P) in one zip with its manifest."""
    params = request.query_params
    text, given = params.get("period", "").strip(), params.get("partner", "")[:200].strip()
    with books(request) as conn:
        numbers = [period.number for period in period_choices(conn)]
        if not is_whole_number(text) or int(text) not in numbers:
            there = ", ".join(str(number) for number in numbers) or "none yet (the coordinator sets them)"
            detail = f"there is no reporting period {text[:12]!r}; the periods are {there}"
            raise WebRefusal(404, "No such period", detail)
        number = int(text)
        partner = codes.partner_code(conn, given) if given else None
        scope = export_scope(session.actor, partner)
        rows = period_documents(conn, number, partner=scope)
    title = f"reporting period {number}" + (f", {scope}" if scope else ", every partner")
    filename = f"documents-period-{number}{'-' + scope if scope else ''}.zip"
    return zip_response(request.app.state.context, rows, title=title, filename=filename)
