"""Record a claim an SME submitted: the SME, the mission, the submission date and any number
of expense lines, with their EUR estimate shown as they are typed.

Shown only to those the ledger lets record claims (the financial officers of a mission's
responsible partner: ledger.actors.require_officer_of, the check submit_claim makes), with the
missions they may record on. "Add a line" and "remove" are submit buttons that draw the form
again with everything typed kept, so the form works without JavaScript; so does "Show the EUR
estimate". With htmx, typing posts the form to /claims/new/estimate, which answers with the
estimate alone.

Each line is read as the JSON API reads one (ledger.money's plain decimal text, ISO dates,
ExpenseLine) and the claim is recorded by Application.submit_claim. A refusal draws the form
again, every line as typed, the ledger's message beside the line it names ("line N: ...") or
the field it concerns; nothing is recorded. The claim's id is a random one put in the form when
it is first drawn, so the same form sent twice records one claim.

The estimate converts each line at the rate recorded for its month (as the read models hold
it: projections.lists.rate_quote) by the ledger's own rule (ledger.assessment.estimate); a
missing rate says which currency and month lack one, with a link to record it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import Connection

from api.schemas import parse_iso_date
from api.web.claim_documents import DOCUMENT_REFUSALS, checked_documents, documents_of_form, refused_line
from api.web.document_views import limits
from api.web.errors import ledger_refused, status_of
from api.web.files import FilesDep, Posted, max_document_bytes
from api.web.forms import form_id
from api.web.reads import books, today
from api.web.render import render
from api.web.rights import recordable, refused_to
from api.web.session import Form, SessionDep, WebRefusal
from api.web.writes import writable, write
from ledger.actors import Actor
from ledger.assessment import Estimate, ExpenseLine, estimate
from ledger.documents import Upload
from ledger.errors import LedgerError, NotAllowed
from ledger.mission import UnknownMission
from ledger.money import EUR, MINOR_UNITS, Money, check_currency, parse_decimal_text
from ledger.rates import RateMissing
from ledger.sme import SmeNotSelected, UnknownSme
from ledger.text import is_whole_number
from projections import lists
from projections.queries import MissionSummary, sme_summaries

router = APIRouter(include_in_schema=False)

#: A line's fields, as the form names them (line-1-amount...).
FIELDS = ("cost_type", "expense_date", "amount", "currency", "receipt_ref", "description")
#: At most this many lines in one form (a form holds at most 200 fields).
MAX_LINES = 25
CURRENCIES = (EUR, *sorted(set(MINOR_UNITS) - {EUR}))
_LINE = re.compile(r"^line (\d+): ")
_RATE = re.compile(r"no ([A-Z]{3}) exchange rate is recorded for ([0-9]{4}-[0-9]{2})")
#: Which field of a line a message of the ledger concerns, by the words it uses.
_WORDS = (
    ("expense date", "expense_date"),
    ("receipt", "receipt_ref"),
    ("eligible", "cost_type"),
    ("cost_type", "cost_type"),
    ("description", "description"),
    ("currency", "currency"),
    ("amount", "amount"),
)


@dataclass
class Typed:
    """The form as typed: every field as text, the lines in order."""

    claim_id: str
    sme: str
    mission: str
    on: str
    lines: list[dict[str, str]]
    #: Files were sent with the form (a page drawn again cannot keep them: they are chosen again).
    dropped: bool = False


@dataclass
class Refusals:
    """What is wrong, where: the form, a field (sme, mission, on), or a line (its field)."""

    form: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    lines: dict[int, tuple[str, str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.form or self.fields or self.lines)


def empty_line(after: dict[str, str] | None = None) -> dict[str, str]:
    """A new line; it takes the currency and date of the line before it, as the next receipt
    of a trip often has them."""
    line = dict.fromkeys(FIELDS, "")
    line["currency"] = (after or {}).get("currency") or EUR
    line["expense_date"] = (after or {}).get("expense_date", "")
    return line


def typed_of(form: Form) -> Typed:
    count = int(form.get("lines")) if is_whole_number(form.get("lines")) else 1
    lines = [{name: form.get(f"line-{no}-{name}") for name in FIELDS} for no in range(1, min(count, MAX_LINES) + 1)]
    return Typed(
        claim_id=str(form_id(form.get("claim_id"))),
        sme=form.get("sme"),
        mission=form.get("mission"),
        on=form.get("on"),
        lines=lines or [empty_line()],
        dropped=isinstance(form, Posted) and bool(form.files),
    )


def line_field(message: str) -> str:
    return next((name for words, name in _WORDS if words in message), "")


def read_line(no: int, typed: dict[str, str]) -> ExpenseLine:
    """One line as the JSON API reads it; a LineRefusal names the field that cannot be read."""
    try:
        day = parse_iso_date(typed["expense_date"])
    except ValueError as error:
        raise LineRefusal(no, "expense_date", f"line {no}: the expense date: {error}") from None
    try:
        amount = Money(parse_decimal_text(typed["amount"], "the amount"), check_currency(typed["currency"]))
    except LedgerError as error:
        where = "currency" if "currency" in error.detail and "not supported" in error.detail else "amount"
        raise LineRefusal(no, where, f"line {no}: {error.detail}") from None
    try:
        return ExpenseLine(typed["cost_type"], day, amount, typed["receipt_ref"], typed["description"])
    except LedgerError as error:
        raise LineRefusal(no, line_field(error.detail), f"line {no}: {error.detail}") from None


class LineRefusal(Exception):
    def __init__(self, no: int, name: str, detail: str) -> None:
        super().__init__(detail)
        self.no, self.name, self.detail = no, name, detail


def read_lines(typed: Typed, *, typed_only: bool = False) -> tuple[dict[int, ExpenseLine], dict[int, tuple[str, str]]]:
    """The lines that can be read (by number) and why the others cannot; with ``typed_only``,
    a line with no amount yet is passed over (the estimate of a form being filled in)."""
    read, refused = {}, {}
    for no, line in enumerate(typed.lines, start=1):
        if typed_only and not line["amount"]:
            continue
        try:
            read[no] = read_line(no, line)
        except LineRefusal as error:
            refused[no] = (error.name, error.detail)
    return read, refused


def estimate_of(conn: Connection, typed: Typed, missions: list[MissionSummary]) -> dict[str, Any]:
    """The estimate of the lines typed so far, at the recorded rates, and why a line has none."""
    read, refused = read_lines(typed, typed_only=True)
    chosen = next((m for m in missions if m.id == typed.mission), None)
    rate = chosen.reimbursement_rate if chosen is not None else Decimal(1)
    found: Estimate = estimate(read, lambda currency, month: lists.rate_quote(conn, currency, month), rate)
    return {"estimate": found, "unread": refused, "mission": chosen, "typed_lines": typed.lines}


def page(
    request: Request, actor: Actor, typed: Typed, status: int = 200, refusals: Refusals | None = None
) -> HTMLResponse:
    with books(request) as conn:
        missions = recordable(conn, actor)
        if not missions:
            refusal = refused_to(conn, actor)
            assert refusal is not None  # noqa: S101 - no mission recordable is a refusal
            raise WebRefusal(403, "Not allowed", refusal.detail)
        ids = {m.id for m in missions}
        smes = [s for s in sme_summaries(conn) if any(m.mission_id in ids for m in s.missions)]
        figures = estimate_of(conn, typed, missions)
    cost_types = sorted({kind for m in missions for kind in m.cost_types})
    return render(
        request,
        "claim_new.html",
        status,
        typed=typed,
        refusals=refusals or Refusals(),
        missions=missions,
        smes=smes,
        cost_types=cost_types,
        currencies=CURRENCIES,
        max_lines=MAX_LINES,
        **limits(max_document_bytes(request)),
        **figures,
    )


@router.get("/claims/new")
def new_claim(request: Request, session: SessionDep) -> HTMLResponse:
    fresh = Typed(str(form_id("")), "", "", today().date().isoformat(), [empty_line()])
    return page(request, session.actor, fresh)


@router.post("/claims/new/estimate")
def estimate_fragment(request: Request, session: SessionDep, form: FilesDep) -> HTMLResponse:
    """The estimate alone, for htmx as the lines are typed (nothing is recorded)."""
    typed = typed_of(form)
    with books(request) as conn:
        figures = estimate_of(conn, typed, recordable(conn, session.actor))
    return render(request, "_estimate.html", **figures)


def refusals_of(error: LedgerError, typed: Typed, documents: Mapping[int, Sequence[Upload]] | None = None) -> Refusals:
    """Where the ledger's refusal belongs: the line it names, the lines whose rate is
    missing, the SME, the mission or the submission date; else the whole form."""
    detail = error.detail
    if isinstance(error, DOCUMENT_REFUSALS):
        return (
            Refusals(lines={no: ("documents", detail)})
            if (no := refused_line(error, typed, documents or {}))
            else Refusals(form=detail)
        )
    if found := _LINE.match(detail):
        no = int(found[1])
        if 1 <= no <= len(typed.lines):
            return Refusals(lines={no: (line_field(detail[found.end() :]), detail)})
    if isinstance(error, RateMissing) and (missing := _RATE.search(detail)):
        currency, month = missing[1], missing[2]
        hit = {
            no: ("currency", detail)
            for no, line in enumerate(typed.lines, start=1)
            if line["currency"] == currency and line["expense_date"][:7] == month
        }
        if hit:
            return Refusals(lines=hit)
    if isinstance(error, SmeNotSelected | UnknownSme):
        return Refusals(fields={"sme": detail})
    if isinstance(error, UnknownMission):
        return Refusals(fields={"mission": detail})
    if "submission date" in detail:
        return Refusals(fields={"on": detail})
    return Refusals(form=detail)


def uuid_field(text: str, name: str, what: str, refusals: Refusals) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        refusals.fields[name] = f"choose {what} from the list"
        return None


@router.post("/claims/new")
def record(request: Request, session: SessionDep, form: FilesDep) -> Response:
    """Add or remove a line, show the estimate, or record the claim (the button pressed)."""
    actor, typed, op = session.actor, typed_of(form), form.get("op")
    if op == "add":
        if len(typed.lines) < MAX_LINES:
            typed.lines.append(empty_line(typed.lines[-1]))
        return page(request, actor, typed)
    if op.startswith("remove-") and is_whole_number(op[7:]):
        if len(typed.lines) > 1 and 1 <= int(op[7:]) <= len(typed.lines):
            del typed.lines[int(op[7:]) - 1]
        return page(request, actor, typed)
    if op != "record":
        return page(request, actor, typed)  # "Show the EUR estimate", or Enter in a field
    writable(request)  # the read models have stopped: nothing is read or recorded (503)
    refusals = Refusals()
    sme_id = uuid_field(typed.sme, "sme", "the SME", refusals)
    mission_id = uuid_field(typed.mission, "mission", "the mission", refusals)
    try:
        on = parse_iso_date(typed.on)
    except ValueError as error:
        refusals.fields["on"] = f"the submission date: {error}"
    lines, refusals.lines = read_lines(typed)
    documents = documents_of_form(form, len(typed.lines))
    with books(request) as conn:  # each file's type, size and double funding, beside its line
        for no, refusal in checked_documents(conn, documents, max_document_bytes(request)).items():
            refusals.lines.setdefault(no, ("documents", refusal))
    if refusals or sme_id is None or mission_id is None:
        return page(request, actor, typed, 422, refusals)
    try:
        claim_id = write(
            request,
            lambda context: context.app.submit_claim(
                actor=actor,
                claim_id=UUID(typed.claim_id),
                sme_id=sme_id,
                mission_id=mission_id,
                lines=list(lines.values()),
                on=on,
                documents=documents,
            ),
        )
    except NotAllowed as error:
        return ledger_refused(request, error)
    except LedgerError as error:
        return page(request, actor, typed, status_of(error), refusals_of(error, typed, documents))
    return RedirectResponse(f"/claims/{claim_id}", status_code=303)
