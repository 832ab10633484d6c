"""Partners' own costs: the list (by partner, category and cost dates, the latest first), one
cost, and, for the officers of the cost's partner (the ledger's rule), "Record a cost" and
"Correct a cost" with a reason. EUR beside the original currency.

Each form posts to the Application's own method (record_cost, correct_cost), its amount read as
the JSON API reads one (a plain decimal text in the currency's minor units: ledger.money); a
refusal is shown beside its field or the form in the ledger's words, with what was typed kept.
A missing rate says which, with a link that opens the rate form filled in. A new cost's id is
a random one put in the form when the page is drawn, so that the form sent twice records one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from api.context import LedgerContext
from api.schemas import parse_iso_date
from api.web.document_views import cost_documents, limits
from api.web.errors import ledger_refused, status_of
from api.web.files import FilesDep, max_document_bytes
from api.web.forms import form_id, typed_date
from api.web.paging import Paged, paged
from api.web.rates import field
from api.web.reads import books, today
from api.web.render import render
from api.web.session import FormDep, SessionDep, WebRefusal
from api.web.writes import FieldRefusal, write
from ledger.actors import Actor, Role
from ledger.documents import DocumentAlreadyUsed, DocumentRefused, DocumentTooLarge, inspect_upload
from ledger.errors import LedgerError, NotAllowed
from ledger.grant import OWN_COST_CATEGORIES
from ledger.money import EUR, MINOR_UNITS, Money, parse_decimal_text
from ledger.rates import RateMissing, month_of
from projections import codes, glance, lists
from projections import tables as t

router = APIRouter(include_in_schema=False)
PAGE = 25
CATEGORIES = sorted(category.value for category in OWN_COST_CATEGORIES)
CURRENCIES = [EUR, *sorted(code for code in MINOR_UNITS if code != EUR)]
#: The ledger's refusals of a document, shown beside the file field.
DOCUMENT_REFUSALS = (DocumentRefused, DocumentTooLarge, DocumentAlreadyUsed)


def records_costs(actor: Actor, partner: str | None) -> bool:
    """Whether to show a partner's cost forms: only its officers record and correct its costs
    (the ledger checks again: require_officer_of)."""
    return actor.role == Role.OFFICER and partner is not None and actor.partner == partner


def _day(text: str, what: str, errors: dict[str, str], name: str) -> date | None:
    if not text:
        return None
    try:
        return parse_iso_date(text)
    except ValueError as error:
        errors[name] = f"{what}: {error}"
        return None


def costs_page(request: Request, actor: Actor, status: int = 200, **form: Any) -> HTMLResponse:
    params = request.query_params
    shown = {name: params.get(name, "")[:200].strip() for name in ("partner", "category", "from", "to")}
    errors: dict[str, str] = {}
    found: Paged[Any] = Paged([], 0, 1, 1)
    with books(request) as conn:
        where: dict[str, str | None] = {"partner": None, "category": None}
        resolvers: tuple[tuple[str, Callable[[str], str]], ...] = (
            ("partner", lambda text: codes.partner_code(conn, text)),
            ("category", codes.category_code),
        )
        for name, resolve in resolvers:
            try:
                where[name] = resolve(shown[name]) if shown[name] else None
            except LedgerError as error:
                errors[name] = error.detail
        first, last = _day(shown["from"], "from", errors, "from"), _day(shown["to"], "to", errors, "to")
        if not errors:
            try:
                chosen = lists.CostFilter(partner=where["partner"], category=where["category"], start=first, end=last)
                found = paged(
                    lambda offset, limit: lists.list_costs(conn, chosen, offset=offset, limit=limit),
                    params.get("page"),
                    PAGE,
                )
            except LedgerError as error:
                errors["to"] = error.detail
        partners = glance.partner_codes(conn)
    values = {
        "action": "",
        "cost_id": str(uuid4()),
        "category": "",
        "amount": "",
        "currency": EUR,
        "document_ref": "",
        "description": "",
        "on": today().date().isoformat(),
        "declared_on": "",
        **form.pop("values", {}),
    }
    return render(
        request,
        "costs.html",
        status if not errors else 422,
        rows=found.rows,
        count=found.count,
        number=found.number,
        pages=found.pages,
        paging_notice=found.notice,
        shown=shown,
        errors=errors,
        partners=partners,
        categories=CATEGORIES,
        currencies=CURRENCIES,
        may=records_costs(actor, actor.partner),
        error=form.get("error"),
        field=form.get("field"),
        missing=form.get("missing"),
        values=values,
        **limits(max_document_bytes(request)),
    )


@router.get("/costs")
def costs(request: Request, session: SessionDep) -> HTMLResponse:
    """The list, filtered by ?partner=, ?category=, ?from= and ?to= (cost dates)."""
    return costs_page(request, session.actor)


def _amount(text: str, currency: str) -> Money:
    code = field("currency", lambda: codes.currency_code(currency))
    return field("amount", lambda: Money(parse_decimal_text(text, "the amount"), code))


@router.post("/costs")
def record_cost(request: Request, session: SessionDep, form: FilesDep) -> Response:
    names = ("partner", "category", "amount", "currency", "document_ref", "description", "on", "declared_on")
    values = {name: form.get(name) for name in names} | {"action": "record"}
    cost_id = form_id(form.get("cost_id"))
    values["cost_id"] = str(cost_id)
    actor = session.actor
    missing: tuple[str, str] | None = None
    documents = form.uploads("documents")

    def command(context: LedgerContext) -> None:
        nonlocal missing
        for upload in documents:  # each file's type and size first, beside its field
            try:
                inspect_upload(upload, context.app.document_max_bytes)
            except LedgerError as error:
                raise FieldRefusal("documents", f"{upload.filename}: {error.detail}") from None
        amount, on = _amount(values["amount"], values["currency"]), typed_date(values["on"], "on", "the cost date")
        missing = (amount.currency, month_of(on))
        declared = values["declared_on"]
        declared_on = typed_date(declared, "declared_on", "the declaration date") if declared else None
        context.app.record_cost(
            actor=actor,
            cost_id=cost_id,
            partner=values["partner"] or (actor.partner or ""),
            category=field("category", lambda: codes.category_code(values["category"])),
            amount=amount,
            document_ref=values["document_ref"],
            description=values["description"],
            on=on,
            declared_on=declared_on,
            documents=documents,
        )

    try:
        write(request, command)
    except FieldRefusal as error:
        return costs_page(request, actor, 422, error=error.detail, field=error.field, values=values)
    except NotAllowed as error:
        return ledger_refused(request, error)
    except LedgerError as error:
        gap = missing if isinstance(error, RateMissing) else None
        where = "documents" if isinstance(error, DOCUMENT_REFUSALS) else None
        return costs_page(request, actor, status_of(error), error=error.detail, field=where, values=values, missing=gap)
    return RedirectResponse(f"/costs/{cost_id}?recorded=1", status_code=303)


def cost_id_of(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        detail = f"{text[:40]!r} is not a cost's id; the list of costs links each"
        raise WebRefusal(404, "No such cost", detail) from None


def cost_page(request: Request, actor: Actor, cost_id: UUID, status: int = 200, **form: Any) -> HTMLResponse:
    with books(request) as conn:
        cost = conn.execute(select(t.costs).where(t.costs.c.id == str(cost_id))).one_or_none()
        if cost is None:
            raise WebRefusal(404, "No such cost", f"cost {cost_id} is not in the ledger (or not yet projected)")
        documents = cost_documents(conn, actor, cost, max_document_bytes(request))
    params = request.query_params
    values = {
        "action": "",
        "amount": "",
        "reason": "",
        "document": "",
        "on": today().date().isoformat(),
        **form.pop("values", {}),
    }
    return render(
        request,
        "cost.html",
        status,
        cost=cost,
        may=records_costs(actor, cost.partner),
        recorded=params.get("recorded") == "1",
        corrected=params.get("corrected") == "1",
        error=form.get("error"),
        field=form.get("field"),
        values=values,
        **documents,
    )


@router.get("/costs/{cost_id}")
def cost(request: Request, session: SessionDep, cost_id: str) -> HTMLResponse:
    return cost_page(request, session.actor, cost_id_of(cost_id))


@router.post("/costs/{cost_id}/correction")
def correct_cost(request: Request, session: SessionDep, form: FormDep, cost_id: str) -> Response:
    uuid, actor = cost_id_of(cost_id), session.actor
    values = {name: form.get(name) for name in ("amount", "reason", "on")} | {"action": "correct"}
    with books(request) as conn:
        currency = conn.execute(select(t.costs.c.currency).where(t.costs.c.id == str(uuid))).scalar_one_or_none()
    if currency is None:
        raise WebRefusal(404, "No such cost", f"cost {uuid} is not in the ledger (or not yet projected)")

    def command(context: LedgerContext) -> None:
        amount, on = _amount(values["amount"], currency), typed_date(values["on"], "on", "the correction date")
        context.app.correct_cost(actor=actor, cost_id=uuid, amount=amount, reason=values["reason"], on=on)

    try:
        write(request, command)
    except FieldRefusal as error:
        return cost_page(request, actor, uuid, 422, error=error.detail, field=error.field, values=values)
    except NotAllowed as error:
        return ledger_refused(request, error)
    except LedgerError as error:
        return cost_page(request, actor, uuid, status_of(error), error=error.detail, values=values)
    return RedirectResponse(f"/costs/{uuid}?corrected=1", status_code=303)
