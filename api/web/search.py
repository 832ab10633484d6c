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
from api.web.reads import books
from api.web.render import render
from api.web.session import SessionDep
from ledger.errors import LedgerError
from ledger.text import is_whole_number
from projections import search as found

router = APIRouter(include_in_schema=False)
PAGE = 25


def page_number(text: str | None) -> int:
    return int(text) if text and is_whole_number(text) and 0 < int(text) < 10**9 else 1


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
    number = page_number(page)
    hits: list[tuple[found.Hit, str | None]] = []
    count, error = 0, None
    with books(request) as conn:
        try:
            rows, count = found.search(conn, q, offset=(number - 1) * PAGE, limit=PAGE)
        except LedgerError as refused:
            rows, error = [], refused.detail
        hits = [(hit, claim_of(conn, hit)) for hit in rows]
    return render(
        request,
        "search.html",
        422 if error and q else 200,
        q=q,
        hits=hits,
        count=count,
        number=number,
        pages=max(1, -(-count // PAGE)),
        error=error if q else None,
    )
