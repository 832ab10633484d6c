"""The audit trail, for everyone who reads the books: every event (who, in which role, when
recorded, its business date, to which record, why), filtered by record type, record, user,
event type and business dates, newest first or in log order, paged by position; the same
query function as ``GET /api/v1/audit/events`` (projections.queries.audit_trail). And one
record's history version by version: each event with its payload, the record's state at a
chosen version and what changed from the version before (projections.history, as the API's
``GET /api/v1/audit/entities/{id}``). Filters live in the URL; one that cannot be read is
said beside its field (422) and nothing is listed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.context import LedgerContext
from api.schemas import MAX_POSITION, parse_iso_date
from api.web.reads import books
from api.web.render import amount, render
from api.web.session import SessionDep, WebRefusal
from ledger.text import is_whole_number
from projections import queries as q
from projections.history import (
    Path,
    VersionNotRecorded,
    compare,
    flatten,
    is_money,
    record_history,
    record_types,
    state_at,
)

router = APIRouter(include_in_schema=False)
PAGE = 50
ORDERS = {"newest": "newest first", "log": "in log order (oldest first)"}


def _choice(text: str, choices: list[str]) -> str | None:
    key = text.strip().casefold()
    return next((choice for choice in choices if choice.casefold() == key), None)


def _date(text: str, errors: dict[str, str], field: str) -> date | None:
    if not text:
        return None
    try:
        return parse_iso_date(text.strip())
    except ValueError as error:
        errors[field] = str(error)
        return None


def _position(text: str, errors: dict[str, str]) -> int | None:
    if not text:
        return None
    if not is_whole_number(text) or int(text) > MAX_POSITION:
        errors["page"] = f"{text[:20]!r} is not a position in the log; the page links give one"
        return None
    return int(text)


def read_filter(shown: dict[str, str], errors: dict[str, str]) -> q.AuditFilter:
    """The filter the query string asks for; what cannot be read is noted under its field."""
    types = record_types()
    kind = None
    if shown["type"]:
        kind = _choice(shown["type"], list(types))
        if kind is None:
            errors["type"] = f"no record type is called {shown['type'][:40]!r}; the types are {', '.join(types)}"
    events = sorted(types[kind]) if kind else sorted({e for names in types.values() for e in names})
    event = None
    if shown["event"]:
        event = _choice(shown["event"], events)
        if event is None:
            what = f"a {kind}" if kind else "any record"
            errors["event"] = f"no event of {what} is called {shown['event'][:40]!r}; they are {', '.join(events)}"
    record = None
    if shown["record"]:
        try:
            record = str(UUID(shown["record"].strip()))
        except ValueError:
            errors["record"] = (
                f"{shown['record'][:40]!r} is not a record's id: the trail's Record column links each record "
                "and its id is shown there (such as 6f1c2a4e-...)"
            )
    first, last = _date(shown["from"], errors, "from"), _date(shown["to"], errors, "to")
    if first is not None and last is not None and first > last:
        errors["to"] = f"the business dates run from {first} to {last}: the first is after the last"
    if shown["order"] not in ORDERS:
        errors["order"] = f"{shown['order'][:20]!r} is not an order; choose newest first or log order"
    after, before = _position(shown["after"], errors), _position(shown["before"], errors)
    return q.AuditFilter(
        aggregate_id=record,
        aggregate_type=kind,
        actor_id=shown["user"].strip() or None,
        event_type=event,
        effective_from=first,
        effective_to=last,
        after_position=after,
        before_position=before,
    )


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    #: The query-string changes that lead to the next and the previous page (None: no such page).
    next: dict[str, Any] | None
    previous: dict[str, Any] | None


def page_of(conn: Any, where: q.AuditFilter, newest: bool) -> Page:
    """One page of the trail, and the cursors of the pages beside it (positions can have gaps)."""
    rows = q.audit_trail(conn, where, limit=PAGE + 1, newest_first=newest)
    more, rows = len(rows) > PAGE, rows[:PAGE]
    cursor = "before" if newest else "after"
    following = {cursor: rows[-1]["position"], "after" if newest else "before": None} if more else None
    started = where.before_position if newest else where.after_position
    previous = None
    if started is not None:
        edge = rows[0]["position"] if rows else (started - 1 if newest else started + 1)
        back_where = q.AuditFilter(
            **{**vars(where), "after_position": edge if newest else None, "before_position": None if newest else edge}
        )
        back = q.audit_trail(conn, back_where, limit=PAGE + 1, newest_first=not newest)
        if len(back) > PAGE:  # a page before that one too: start just beyond its far end
            far = back[PAGE - 1]["position"]
            previous = {cursor: far + 1 if newest else far - 1, "after" if newest else "before": None}
        elif back or rows == []:
            previous = {"after": None, "before": None}
    return Page(rows, following, previous)


@router.get("/audit")
def trail(
    request: Request,
    _session: SessionDep,
    kind: Annotated[str, Query(alias="type", max_length=60)] = "",
    record: Annotated[str, Query(max_length=60)] = "",
    user: Annotated[str, Query(max_length=200)] = "",
    event: Annotated[str, Query(max_length=60)] = "",
    start: Annotated[str, Query(alias="from", max_length=40)] = "",
    end: Annotated[str, Query(alias="to", max_length=40)] = "",
    order: Annotated[str, Query(max_length=20)] = "newest",
    after: Annotated[str, Query(max_length=20)] = "",
    before: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    shown = {"type": kind, "record": record, "user": user, "event": event, "from": start, "to": end}
    shown |= {"order": order, "after": after, "before": before}
    errors: dict[str, str] = {}
    where = read_filter(shown, errors)
    found = Page([], None, None)
    if not errors:
        with books(request) as conn:
            found = page_of(conn, where, newest=order == "newest")
    types = record_types()
    return render(
        request,
        "audit.html",
        422 if errors else 200,
        found=found,
        shown=shown,
        errors=errors,
        types=list(types),
        events=sorted({e for names in types.values() for e in names}),
        orders=ORDERS,
        base={key: value for key, value in shown.items() if key not in ("after", "before")},
    )


#: Fields of a payload the trail shows elsewhere or that only the library reads.
HIDDEN = frozenset({"originator_topic"})


def readable(value: Any) -> str:
    """A field's value as a person reads it: money with its currency and separators."""
    if is_money(value):
        try:
            return f"{value['currency']} {amount(Decimal(value['amount']), value['currency'])}"
        except (InvalidOperation, ValueError, TypeError):
            return f"{value['currency']} {value['amount']}"
    if value is None or value == {} or value == []:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value == "":
        return "(empty)"
    return str(value)


def label(path: Path) -> str:
    """A field's name: ``("lines", "1", "rate_month")`` is "lines › 1 › rate month"."""
    return " › ".join(part.replace("_", " ") for part in path) or "value"


def payload(fields: dict[str, Any]) -> list[tuple[Path, Any]]:
    return [(path, value) for path, value in flatten(fields).items() if path and path[0] not in HIDDEN]


def record_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise WebRefusal(
            404, "No such record", f"{text[:40]!r} is not a record's id; the audit trail links each record"
        ) from None


@router.get("/audit/{record}")
def record_page(
    request: Request, _session: SessionDep, record: str, version: Annotated[str, Query(max_length=20)] = ""
) -> HTMLResponse:
    aggregate_id = record_id(record)
    context: LedgerContext = request.app.state.context
    errors: dict[str, str] = {}
    asked = None
    if version:
        if is_whole_number(version) and 0 < int(version) <= MAX_POSITION:
            asked = int(version)
        else:
            errors["version"] = f"{version[:20]!r} is not a version: versions count from 1"
    with books(request) as conn:
        try:
            history = record_history(conn, context.app, aggregate_id, asked)
        except VersionNotRecorded:
            errors["version"] = f"there is no version {asked}: this record has versions 1 to its latest, listed below"
            history = record_history(conn, context.app, aggregate_id)
    if history is None:
        raise WebRefusal(404, "No such record", f"no event of a record {aggregate_id} is in the audit trail")
    fields = None
    if not errors:
        before = state_at(context.app, aggregate_id, history.version - 1) if history.version > 1 else None
        fields = compare(history.state, before)
    return render(
        request,
        "audit_record.html",
        422 if errors else 200,
        history=history,
        fields=fields,
        errors=errors,
        typed=version,
        event_of={e["version"]: e for e in history.events},
        readable=readable,
        label=label,
        payload=payload,
    )
