"""Burn charts: what is committed, paid and spent against the allocation over business time,
for the whole grant, a partner (``?partner=``), a cost category (``?line=``) or one line (both),
with a small chart beside it per partner or per line; the action period and today marked. The
series come from projections.burn (the budget movements, as /budget reads them), drawn as
inline SVG by api.web.charts, with the figures as a table too. The books now, as recorded by
the end of a day (``?as_of=``) or as effective on a business date (``?effective=``), as on
/budget. Everyone may look at every partner's charts (read-only, as /budget); an officer's
own partner comes first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from api.routes.budget import AsOfQuery, _no_grant
from api.web.budget import parsed_date
from api.web.charts import BANDS, draw
from api.web.reads import books, today
from api.web.render import query, render
from api.web.session import SessionDep
from ledger.actors import Role
from ledger.errors import LedgerError
from ledger.grant import Category
from projections import codes, glance
from projections.burn import Burn, Key, Series, burn, line_ids

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Shown:
    """One chart on the page: its title, drawing, series and where it leads."""

    title: str
    svg: Markup
    series: Series
    href: str
    history: str | None = None


def _chart(
    found: Burn, keys: list[Key], title: str, ident: str, asked: AsOfQuery, *, small: bool
) -> tuple[Markup, Series]:
    series = found.series(keys)
    period = (found.period_start, found.period_end)
    svg = draw(
        series, ident=ident, title=title, period=period, today=today().date(), effective=asked.effective, small=small
    )
    return svg, series


@router.get("/charts")
def charts(
    request: Request,
    session: SessionDep,
    partner: Annotated[str, Query(max_length=200)] = "",
    line: Annotated[str, Query(max_length=60)] = "",
    as_of: Annotated[str, Query(max_length=40)] = "",
    effective: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    errors: dict[str, str] = {}
    recorded_by = parsed_date("as_of", as_of, errors)
    effective_on = parsed_date("effective", effective, errors)
    if recorded_by is not None and effective_on is not None:
        errors["effective"] = "give one of the two dates, not both: the books as recorded, or as effective"
    shown = {"partner": partner, "line": line, "as_of": as_of, "effective": effective}
    dates = {"as_of": as_of, "effective": effective}
    main: Shown | None = None
    smalls: list[Shown] = []
    found = None
    ids: dict[Key, str] = {}
    with books(request) as conn:
        code = category = None
        try:
            code = codes.partner_code(conn, partner) if partner else None
        except LedgerError as error:
            errors["partner"] = error.detail
        try:
            category = codes.category_code(line) if line else None
        except LedgerError as error:
            errors["line"] = error.detail
        asked = AsOfQuery() if errors else AsOfQuery(recorded_by=recorded_by, effective=effective_on)
        partners = glance.partner_codes(conn)
        if not errors:
            found = burn(conn, asked.resolve(conn))
            ids = line_ids(conn)
    missing = None if found is not None or errors else str(_no_grant(asked).detail)
    if found is not None:
        own = session.actor.partner if session.actor.role == Role.OFFICER else None
        keys = [k for k in found.keys if code in (None, k[0]) and category in (None, k[1])]
        title = (
            f"{code} {category}"
            if code and category
            else f"{code}: every line"
            if code
            else f"{category} of every partner"
            if category
            else "The whole grant: every line"
        )
        svg, series = _chart(found, keys, title, "main", asked, small=False)
        main = Shown(title, svg, series, "", ids.get(keys[0]) if code and category and keys else None)
        if code and category:
            groups: list[tuple[str, list[Key], dict[str, str]]] = []
        elif code:
            groups = [(f"{code} {k[1]}", [k], {"partner": code, "line": k[1]}) for k in keys]
        else:
            chosen = sorted({k[0] for k in keys}, key=lambda p: (p != own, p))
            groups = [
                (
                    f"{p} {category}" if category else p,
                    [k for k in keys if k[0] == p],
                    {"partner": p, "line": category or ""},
                )
                for p in chosen
            ]
        for number, (name, group, link) in enumerate(groups, start=1):
            svg, series = _chart(found, group, name, f"small-{number}", asked, small=True)
            history = ids.get(group[0]) if len(group) == 1 else None
            smalls.append(Shown(name, svg, series, "/charts" + query(dates, **link), history))
    return render(
        request,
        "charts.html",
        422 if errors else 200,
        main=main,
        smalls=smalls,
        found=found,
        errors=errors,
        shown=shown,
        dates=dates,
        asked=asked,
        missing=missing,
        partners=partners,
        categories=[category.value for category in Category],
        bands=BANDS,
    )
