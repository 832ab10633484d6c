"""One search across claims, SMEs, payments and own costs (projections/search.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ActorDep, ReadDep
from api.edge import GuardedRoute
from api.schemas import MAX_POSITION, Page, SearchHit
from api.views import search_hit
from projections import search as found

router = APIRouter(prefix="/search", tags=["search"], route_class=GuardedRoute)


@router.get("", response_model=Page[SearchHit], summary="Search claims, SMEs, payments and own costs")
def search(
    conn: ReadDep,
    _actor: ActorDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=found.MAX_QUERY,
            description="An SME's name or identifier, a receipt, document or bank reference, a description, "
            "or a EUR amount (1234.50 or 1,234.50). Words match the start of words in any case and "
            "without accents (ferr finds Ferrari); references and identifiers also match in canonical "
            "form (IT 0987-654 finds IT0987654). Plain text: no query syntax",
        ),
    ],
    offset: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[SearchHit]:
    """Records matching every word of the query, newest first, one page at a time; each hit
    says what it is, a short label, which fields matched, and links to the record and its history."""
    hits, count = found.search(conn, q, offset=offset, limit=limit)
    return Page(data=[search_hit(hit) for hit in hits], count=count)
