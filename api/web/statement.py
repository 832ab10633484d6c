"""A partner's financial statement for one reporting period, on screen and as downloads.

The page shows the statement laid out like the EU form (templates/_statement.html, the same
body the PDF is made from: api.web.statement_pdf) and the workflow's form for whoever may take
the next step, by the ledger's own rule (the use case checks again): the partner's financial
officer locks a draft for review and signs a locked one; the coordinator sends a locked or
signed one back, with a reason, until the period is submitted. Every step goes through
api.reporting, as the JSON API's and the command line's do. A refusal is shown above the form
in the ledger's words, what was typed kept and nothing recorded; a step someone may not take
is the refusal page. Downloads: the PDF and the XLSX, as attachments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from api import reporting
from api.context import LedgerContext
from api.reporting import StatementView
from api.reporting_book import statement_workbook
from api.routes.exports import XLSX
from api.web.forms import record
from api.web.reads import books, today
from api.web.render import render
from api.web.session import FormDep, SessionDep, WebRefusal
from api.web.statement_pdf import PdfUnavailable, body, html_to_pdf, pdf_name, statement_html
from ledger.actors import Actor, Role, require_officer_of
from ledger.errors import NotAllowed
from ledger.statement import StatementState
from projections import codes

router = APIRouter(include_in_schema=False)
Number = Annotated[int, Path(ge=1, le=1000)]
Partner = Annotated[str, Path(max_length=200)]
#: The workflow's steps on this page: (its address, its button, what the form asks).
STEPS = {
    "lock": ("Lock for review", "Lock the statement for review: its figures can no longer change"),
    "sign": ("Sign", "Sign the statement: its figures, position and seal are recorded with your name"),
    "send-back": ("Send back", "Send the statement back to the partner, saying why"),
}


def officer_of(actor: Actor, partner: str) -> bool:
    """Whether ``actor`` is a financial officer of ``partner`` (the ledger's rule)."""
    try:
        require_officer_of(actor, partner, "act on this statement")
    except NotAllowed:
        return False
    return True


def next_steps(actor: Actor, view: StatementView) -> list[str]:
    """The steps this person may take on the statement now (the ledger checks again). Once the
    period is submitted every statement of it is, and none can be sent back."""
    state = view.record.state
    steps = []
    if officer_of(actor, view.statement.partner):
        steps += {StatementState.DRAFT: ["lock"], StatementState.LOCKED: ["sign"]}.get(state, [])
    if actor.role == Role.COORDINATOR and state in (StatementState.LOCKED, StatementState.SIGNED):
        steps.append("send-back")
    return steps


def shown_steps(actor: Actor, view: StatementView, values: dict[str, str]) -> list[str]:
    """The forms on the page: the steps this person may take, and the one just refused (so its
    refusal is read beside what was typed, even when the statement moved on meanwhile)."""
    steps = next_steps(actor, view)
    refused = values.get("step")
    return steps if refused is None or refused in steps else [*steps, refused]


def statement_page(
    request: Request,
    actor: Actor,
    number: int,
    partner: str,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    with books(request) as conn:
        code = codes.partner_code(conn, partner)
        view = reporting.statement_view(conn, code, number)
        shown = body(conn, view)
    return render(
        request,
        "statement.html",
        status,
        view=view,
        body=shown,
        steps=[(step, *STEPS[step]) for step in shown_steps(actor, view, values or {})],
        errors=errors or {},
        values=values or {},
    )


@router.get("/reporting/{number}/{partner}.pdf")
def statement_pdf(request: Request, session: SessionDep, number: Number, partner: Partner) -> Response:
    with books(request) as conn:
        code = codes.partner_code(conn, partner)
        view = reporting.statement_view(conn, code, number)
        html = statement_html(conn, view)
    try:
        pdf = html_to_pdf(html)
    except PdfUnavailable as missing:
        raise WebRefusal(503, "PDF not available", str(missing)) from None
    return download(pdf, "application/pdf", pdf_name(code, number), view.position, view.seal)


@router.get("/reporting/{number}/{partner}.xlsx")
def statement_xlsx(request: Request, session: SessionDep, number: Number, partner: Partner) -> Response:
    with books(request) as conn:
        code = codes.partner_code(conn, partner)
        view = reporting.statement_view(conn, code, number)
        workbook = statement_workbook([view], reporting.grant_name(conn))
    return download(workbook, XLSX, f"statement-{code}-P{number}.xlsx", view.position, view.seal)


def download(content: bytes, media_type: str, filename: str, position: int, seal: str) -> Response:
    """A download (never shown in the page): where the figures stand in its headers too."""
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Content-Type-Options": "nosniff",
        "X-Ledger-Position": str(position),
        "X-Ledger-Head-Seal": seal,
    }
    return Response(content, media_type=media_type, headers=headers)


@router.get("/reporting/{number}/{partner}")
def statement(request: Request, session: SessionDep, number: Number, partner: Partner) -> Response:
    return statement_page(request, session.actor, number, partner)


def step_of(request: Request, actor: Actor, number: int, partner: str, form: FormDep, step: str) -> Response:
    """Take ``step`` on the statement: the page again with the refusal, or back to it."""
    with books(request) as conn:
        partner = codes.partner_code(conn, partner)
    values = {"step": step, "reason": form.get("reason")}
    on = today().date()
    steps: dict[str, Callable[[LedgerContext], object]] = {
        "lock": lambda c: reporting.lock_statement(c, actor, partner, number, on, values["reason"]),
        "sign": lambda c: reporting.sign_statement(c, actor, partner, number, on, values["reason"]),
        "send-back": lambda c: reporting.send_back_statement(c, actor, partner, number, on, values["reason"]),
    }
    return record(
        request,
        lambda status, errors: statement_page(request, actor, number, partner, status, errors, values),
        steps[step],
        lambda _done: f"/reporting/{number}/{partner}",
        ("reason",),
        (("reason", "reason"),) if step == "send-back" else (),
    )


@router.post("/reporting/{number}/{partner}/lock")
def lock(request: Request, session: SessionDep, form: FormDep, number: Number, partner: Partner) -> Response:
    return step_of(request, session.actor, number, partner, form, "lock")


@router.post("/reporting/{number}/{partner}/sign")
def sign(request: Request, session: SessionDep, form: FormDep, number: Number, partner: Partner) -> Response:
    return step_of(request, session.actor, number, partner, form, "sign")


@router.post("/reporting/{number}/{partner}/send-back")
def send_back(request: Request, session: SessionDep, form: FormDep, number: Number, partner: Partner) -> Response:
    return step_of(request, session.actor, number, partner, form, "send-back")
