"""Monthly exchange rates: the list (by currency and month, the latest month first), one rate
with the claims assessed with an earlier rate of its month, and, for the officers and the
coordinator (the people the ledger lets keep rates), "Record a rate" and "Correct a rate".

The list's filters are also the record form's: /rates?currency=JPY&month=2025-03 (the link a
claim form gives when that rate is missing) lists that month's JPY rate, or says there is none,
with the form filled in, ready for the rate. Each form posts to the Application's own method
(record_rate, correct_rate), its fields read with the ledger's own parsing; a refusal is shown
beside its field or the form in the ledger's words, with what was typed kept. Anyone else sees
no form, and a POST of theirs is the refusal page by the ledger's own rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.context import LedgerContext
from api.web.errors import ledger_refused, status_of
from api.web.paging import Paged, paged
from api.web.reads import books
from api.web.render import render
from api.web.session import FormDep, SessionDep, WebRefusal
from api.web.writes import FieldRefusal, write
from ledger.actors import Actor, Role
from ledger.errors import LedgerError, NotAllowed
from ledger.money import EUR, MINOR_UNITS, parse_rate
from ledger.rates import DEFAULT_SOURCE, parse_month
from ledger.text import is_whole_number
from projections import assessments, codes, lists

T = TypeVar("T")
router = APIRouter(include_in_schema=False)
PAGE = 25
#: The currencies a rate is recorded for (EUR converts to itself).
CURRENCIES = sorted(code for code in MINOR_UNITS if code != EUR)


def keeps_rates(actor: Actor) -> bool:
    """Whether to show the rate forms: officers and the coordinator record and correct rates
    (the ledger checks again, require_role in record_rate and correct_rate)."""
    return actor.role in (Role.OFFICER, Role.COORDINATOR)


def field(name: str, read: Callable[[], T]) -> T:
    try:
        return read()
    except LedgerError as error:
        raise FieldRefusal(name, error.detail) from None


def rates_page(request: Request, actor: Actor, status: int = 200, **form: Any) -> HTMLResponse:
    params = request.query_params
    currency, month = params.get("currency", "")[:40].strip(), params.get("month", "")[:40].strip()
    shown = {"currency": currency, "month": month}
    errors: dict[str, str] = {}
    found: Paged[Any] = Paged([], 0, 1, 1)
    where: dict[str, str | None] = {"currency": None, "month": None}
    for name, text, parse in (("currency", currency, codes.currency_code), ("month", month, parse_month)):
        try:
            where[name] = parse(text) if text else None
        except LedgerError as error:
            errors[name] = error.detail
    if not errors:
        with books(request) as conn:
            chosen = lists.RateFilter(currency=where["currency"], month_from=where["month"], month_to=where["month"])
            found = paged(
                lambda offset, limit: lists.list_rates(conn, chosen, offset=offset, limit=limit),
                params.get("page"),
                PAGE,
            )
    values = {
        "action": "",
        "currency": where["currency"] or currency.upper(),
        "month": month,
        "rate": "",
        "source": DEFAULT_SOURCE,
        **form.pop("values", {}),
    }
    imported = params.get("imported", "")
    return render(
        request,
        "rates.html",
        status if not errors else 422,
        rows=found.rows,
        count=found.count,
        number=found.number,
        pages=found.pages,
        paging_notice=found.notice,
        shown=shown,
        errors=errors,
        currencies=CURRENCIES,
        may=keeps_rates(actor),
        imported=int(imported) if is_whole_number(imported) and len(imported) < 7 else None,
        error=form.get("error"),
        field=form.get("field"),
        values=values,
    )


@router.get("/rates")
def rates(request: Request, session: SessionDep) -> HTMLResponse:
    """The list, filtered by ?currency= and ?month= (which also fill in the record form)."""
    return rates_page(request, session.actor)


@router.post("/rates")
def record_rate(request: Request, session: SessionDep, form: FormDep) -> Response:
    values = {key: form.get(key) for key in ("currency", "month", "rate", "source")} | {"action": "record"}
    actor = session.actor

    def command(context: LedgerContext) -> None:
        currency = field("currency", lambda: codes.currency_code(values["currency"]))
        month = field("month", lambda: parse_month(values["month"]))
        rate = field("rate", lambda: parse_rate(values["rate"], "the rate"))
        values.update(currency=currency)
        context.app.record_rate(actor=actor, currency=currency, month=month, rate=rate, source=values["source"])

    try:
        write(request, command)
    except FieldRefusal as error:
        return rates_page(request, actor, 422, error=error.detail, field=error.field, values=values)
    except NotAllowed as error:
        return ledger_refused(request, error)
    except LedgerError as error:
        return rates_page(request, actor, status_of(error), error=error.detail, values=values)
    return RedirectResponse(f"/rates/{values['currency']}/{values['month']}?recorded=1", status_code=303)


def _rate_of(currency: str, month: str) -> tuple[str, str]:
    try:
        return codes.currency_code(currency), parse_month(month)
    except LedgerError as error:
        raise WebRefusal(404, "No such rate", f"{error.detail}; the list of rates links each") from None


def rate_page(request: Request, actor: Actor, currency: str, month: str, status: int = 200, **form: Any) -> Response:
    with books(request) as conn:
        report = assessments.rate_assessments(conn, currency, month)
    if report is None:
        raise WebRefusal(
            404,
            "No such rate",
            f"no {currency} rate is recorded for {month}; /rates?currency={currency}&month={month} records it",
        )
    params = request.query_params
    values = {"action": "", "rate": "", "source": report.source, "reason": "", **form.pop("values", {})}
    return render(
        request,
        "rate.html",
        status,
        report=report,
        may=keeps_rates(actor),
        recorded=params.get("recorded") == "1",
        corrected=params.get("corrected") == "1",
        error=form.get("error"),
        field=form.get("field"),
        values=values,
    )


@router.get("/rates/{currency}/{month}")
def rate(request: Request, session: SessionDep, currency: str, month: str) -> Response:
    code, month = _rate_of(currency, month)
    return rate_page(request, session.actor, code, month)


@router.post("/rates/{currency}/{month}/correction")
def correct_rate(request: Request, session: SessionDep, form: FormDep, currency: str, month: str) -> Response:
    code, month = _rate_of(currency, month)
    values = {key: form.get(key) for key in ("rate", "source", "reason")} | {"action": "correct"}
    actor = session.actor

    def command(context: LedgerContext) -> None:
        rate = field("rate", lambda: parse_rate(values["rate"], "the corrected rate"))
        context.app.correct_rate(
            actor=actor, currency=code, month=month, rate=rate, source=values["source"], reason=values["reason"]
        )

    try:
        write(request, command)
    except FieldRefusal as error:
        return rate_page(request, actor, code, month, 422, error=error.detail, field=error.field, values=values)
    except NotAllowed as error:
        return ledger_refused(request, error)
    except LedgerError as error:
        return rate_page(request, actor, code, month, status_of(error), error=error.detail, values=values)
    return RedirectResponse(f"/rates/{code}/{month}?corrected=1", status_code=303)
