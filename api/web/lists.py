"""Lists: payments (by partner, live or reversed, value dates from and to; the latest value
date first) and SMEs (by part of the legal name), one page at a time, from the same query
functions as the JSON lists (projections.lists). A filter that cannot be read is said beside
its field, and the list is not answered; the filters live in the URL, to bookmark or send."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.schemas import parse_iso_date
from api.web.paging import Paged, paged
from api.web.reads import books
from api.web.render import render
from api.web.session import SessionDep
from api.web.smes import may_register
from ledger.errors import LedgerError
from projections import codes, glance, lists

router = APIRouter(include_in_schema=False)
PAGE = 25
REVERSED = {"": None, "yes": True, "no": False}


def _date(text: str, what: str, errors: dict[str, str], field: str) -> date | None:
    if not text:
        return None
    try:
        return parse_iso_date(text)
    except ValueError as error:
        errors[field] = f"{what}: {error}"
        return None


@router.get("/payments")
def payments(
    request: Request,
    _session: SessionDep,
    partner: Annotated[str, Query(max_length=200)] = "",
    reversed: Annotated[str, Query(max_length=10)] = "",
    start: Annotated[str, Query(alias="from", max_length=40)] = "",
    end: Annotated[str, Query(alias="to", max_length=40)] = "",
    page: Annotated[str | None, Query(max_length=12)] = None,
) -> HTMLResponse:
    shown = {"partner": partner, "reversed": reversed, "from": start, "to": end}
    errors: dict[str, str] = {}
    found: Paged[Any] = Paged([], 0, 1, 1)
    with books(request) as conn:
        code = None
        if partner:
            try:
                code = codes.partner_code(conn, partner)
            except LedgerError as error:
                errors["partner"] = error.detail
        if reversed not in REVERSED:
            errors["reversed"] = f"{reversed[:10]!r} is not a choice; choose yes, no or any"
        first, last = _date(start, "from", errors, "from"), _date(end, "to", errors, "to")
        if not errors:
            try:
                where = lists.PaymentFilter(partner=code, reversed=REVERSED[reversed], start=first, end=last)
                found = paged(
                    lambda offset, limit: lists.list_payments(conn, where, offset=offset, limit=limit), page, PAGE
                )
            except LedgerError as error:
                errors["to"] = error.detail
        context = {"partners": glance.partner_codes(conn), "names": glance.labels(conn, found.rows)}
    return render(
        request,
        "payments.html",
        422 if errors else 200,
        rows=found.rows,
        count=found.count,
        number=found.number,
        pages=found.pages,
        paging_notice=found.notice,
        shown=shown,
        errors=errors,
        **context,
    )


@router.get("/smes")
def smes(
    request: Request,
    session: SessionDep,
    name: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[str | None, Query(max_length=12)] = None,
) -> HTMLResponse:
    errors: dict[str, str] = {}
    found: Paged[Any] = Paged([], 0, 1, 1)
    with books(request) as conn:
        try:
            where = lists.SmeFilter(name=name.strip() or None)
            found = paged(lambda offset, limit: lists.list_smes(conn, where, offset=offset, limit=limit), page, PAGE)
        except LedgerError as error:
            errors["name"] = error.detail
    return render(
        request,
        "smes.html",
        422 if errors else 200,
        rows=found.rows,
        count=found.count,
        number=found.number,
        pages=found.pages,
        paging_notice=found.notice,
        shown={"name": name},
        errors=errors,
        may_register=may_register(session.actor),
    )
