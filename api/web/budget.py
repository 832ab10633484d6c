"""The budget: partner x category lines with allocated, pending, committed, paid, own costs and
remaining, a subtotal per partner and the grand total; now, as recorded by the end of a day
(``?as_of=``) or as effective on a business date (``?effective=``), the same query string as
the JSON API's, so a page can be bookmarked and sent to a colleague."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.routes.budget import AsOfQuery, _no_grant
from api.schemas import parse_iso_date
from api.web.reads import books
from api.web.render import render
from api.web.session import SessionDep
from projections import queries as q

router = APIRouter(include_in_schema=False)


def parsed_date(name: str, text: str | None, errors: dict[str, str]) -> date | None:
    """A date from the query string (empty: none); a bad one is noted under its field."""
    if not text:
        return None
    try:
        return parse_iso_date(text.strip())
    except ValueError as error:
        errors[name] = str(error)
        return None


@router.get("/budget")
def budget(
    request: Request,
    session: SessionDep,
    as_of: Annotated[str | None, Query(max_length=40)] = None,
    effective: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    errors: dict[str, str] = {}
    recorded_by = parsed_date("as_of", as_of, errors)
    effective_on = parsed_date("effective", effective, errors)
    if recorded_by is not None and effective_on is not None:
        errors["effective"] = "give one of the two dates, not both: the books as recorded, or as effective"
    asked = AsOfQuery() if errors else AsOfQuery(recorded_by=recorded_by, effective=effective_on)
    shown = {"as_of": as_of or "", "effective": effective or ""}
    with books(request) as conn:
        overview = q.budget_overview(conn, asked.resolve(conn))
    missing = None if overview is not None else str(_no_grant(asked).detail)
    lines = () if overview is None else overview.lines
    partner = session.actor.partner if session.actor.role == "officer" else None
    groups = [] if overview is None else [(p, overview.partner(p.partner)) for p in overview.by_partner()]
    if partner is not None:  # an officer sees every partner's lines; their own come first
        groups.sort(key=lambda group: group[0].partner != partner)
    return render(
        request,
        "budget.html",
        422 if errors else 200,
        overview=overview,
        groups=groups,
        totals=None if overview is None else overview.totals(lines),
        missing=missing,
        errors=errors,
        shown=shown,
        asked=asked,
    )
