"""Search: the box in every page's navigation (GET /search?q=...), answered by the same query
function as GET /api/v1/search (projections.search.search), one page at a time. A claim found
links to its page; an SME, a payment or an own cost is shown as the ledger labels it, a payment
with a link to its claim. What was typed is shown back escaped, as all text is."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from api.views import payment_by_id
from api.web.paging import Paged, paged
from api.web.reads import books
from api.web.render import render
from api.web.session import SessionDep
from ledger.errors import LedgerError
from projections import search as found

router = APIRouter(include_in_schema=False)
PAGE = 25


def claim_of(conn: Any, hit: found.Hit) -> str | None:
    """The claim a hit belongs to: a claim itself, or the one a payment paid."""
    if hit.kind == "claim":
        return hit.record_id
    if hit.kind == "payment":
        try:
            return payment_by_id(conn, UUID(hit.record_id)).claim_id
        except (HTTPException, ValueError):
            return None
    return None


@router.get("/search")
def search(
    request: Request,
    _session: SessionDep,
    q: Annotated[str, Query(max_length=1000)] = "",
    page: Annotated[str | None, Query(max_length=12)] = None,
) -> HTMLResponse:
    hits: list[tuple[found.Hit, str | None]] = []
    result: Paged[found.Hit] = Paged([], 0, 1, 1)
    error = None
    with books(request) as conn:
        try:
            result = paged(lambda offset, limit: found.search(conn, q, offset=offset, limit=limit), page, PAGE)
        except LedgerError as refused:
            error = refused.detail
        hits = [(hit, claim_of(conn, hit)) for hit in result.rows]
    return render(
        request,
        "search.html",
        422 if error and q else 200,
        q=q,
        hits=hits,
        count=result.count,
        number=result.number,
        pages=result.pages,
        paging_notice=result.notice if q else None,
        error=error if q else None,
    )
