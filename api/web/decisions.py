"""Decisions on a submitted claim, from its page, for an officer of the partner charged:
approve it in full, approve it line by line (preview first, then confirm), reject it, or
withdraw it at the SME's request.

Each goes through the same Application method as the JSON API's. The line-by-line approval
reads each accepted amount as the API reads one (a plain decimal text in the line's currency,
ledger.money); "Preview the approval" asks the ledger what approving would give
(Application.preview_approval: the accepted EUR per line, the reimbursement, the amount
approved and the cap that binds it, by the rule approve_claim records: ledger.approval) and
records nothing; "Confirm the approval" records it, if the figures are still those previewed
(else the new preview is shown, to be confirmed again). A refusal of the ledger is shown
beside the line or field it concerns, in its words, with what was typed kept, and nothing is
recorded; a decision recorded redirects to the claim's page (POST-redirect-GET). Anyone else
sees no form, and a POST of theirs is refused with a page saying why (require_officer_of).
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from api.context import LedgerContext
from api.schemas import parse_iso_date
from api.web.claims import act_on_claim, claim_id_of, claim_page
from api.web.errors import ledger_refused, status_of
from api.web.forms import typed_date
from api.web.reads import books
from api.web.session import Form, FormDep, SessionDep, WebRefusal
from api.web.writes import writable, write
from ledger.actors import require_officer_of
from ledger.assessment import LineDecision
from ledger.errors import LedgerError, NotAllowed
from ledger.money import Money, parse_decimal_text
from projections import queries as q

router = APIRouter(include_in_schema=False)
_LINE = re.compile(r"^line (\d+): ")
DATES = {"approve": "the decision date", "reject": "the decision date", "withdraw": "the withdrawal date"}
CHANGED = (
    "the figures changed since your preview (the amounts typed, or the SME's caps after another "
    "approval): check the new preview below and confirm again"
)


def _decide(request: Request, session: SessionDep, form: FormDep, claim_id: str, action: str) -> Response:
    """Record the decision through the Application; the claim's page shows the outcome."""
    actor, uuid = session.actor, claim_id_of(claim_id)
    values = {"on": form.get("on"), "reason": form.get("reason"), "action": action}

    def command(context: LedgerContext) -> None:
        on = typed_date(values["on"], "on", DATES[action])
        if action == "approve":
            context.app.approve_claim(actor=actor, claim_id=uuid, on=on, reason=values["reason"])
        elif action == "reject":
            context.app.reject_claim(actor=actor, claim_id=uuid, on=on, reason=values["reason"])
        else:
            context.app.withdraw_claim(actor=actor, claim_id=uuid, on=on, reason=values["reason"])

    return act_on_claim(request, actor, uuid, values, f"{action} this claim", command)


@router.post("/claims/{claim_id}/approve")
def approve(request: Request, session: SessionDep, form: FormDep, claim_id: str) -> Response:
    return _decide(request, session, form, claim_id, "approve")


@router.post("/claims/{claim_id}/reject")
def reject(request: Request, session: SessionDep, form: FormDep, claim_id: str) -> Response:
    return _decide(request, session, form, claim_id, "reject")


@router.post("/claims/{claim_id}/withdraw")
def withdraw(request: Request, session: SessionDep, form: FormDep, claim_id: str) -> Response:
    return _decide(request, session, form, claim_id, "withdraw")


def read_decisions(form: Form, lines: list[Any]) -> tuple[list[LineDecision], dict[int, str]]:
    """A decision per line: its accepted amount (in the line's currency) and reason; and why a
    line's amount cannot be read."""
    decisions, refused = [], {}
    for line in lines:
        no = line.line_no
        try:
            accepted = Money(parse_decimal_text(form.get(f"accepted-{no}"), "the accepted amount"), line.currency)
            decisions.append(LineDecision(no, accepted, form.get(f"reason-{no}")))
        except LedgerError as error:
            refused[no] = f"line {no}: {error.detail}"
    return decisions, refused


@router.post("/claims/{claim_id}/approval")
def approve_partly(request: Request, session: SessionDep, form: FormDep, claim_id: str) -> Response:
    """Preview the approval with the amounts accepted per line, or confirm it (the button pressed)."""
    actor, uuid = session.actor, claim_id_of(claim_id)
    with books(request) as conn:
        detail = q.claim_detail(conn, str(uuid))
    if detail is None:
        raise WebRefusal(404, "No such claim", f"claim {uuid} is not in the ledger (or not yet projected)")
    values: dict[str, str] = {"on": form.get("on"), "reason": form.get("reason"), "action": "approval"}
    for line in detail.lines:
        for name in ("accepted", "reason"):
            values[f"{name}-{line.line_no}"] = form.get(f"{name}-{line.line_no}")
    page: dict[str, Any] = {"values": values}
    context = writable(request)
    try:  # the ledger's own rule first: someone who may not approve sees why, not their typos
        require_officer_of(actor, detail.claim.partner, "approve this claim")
    except NotAllowed as error:
        return ledger_refused(request, error)
    decisions, line_errors = read_decisions(form, detail.lines)
    try:
        on = parse_iso_date(values["on"])
    except ValueError as error:
        page.update(error=f"the approval date: {error}", field="on")
    if line_errors or "error" in page:
        return claim_page(request, actor, uuid, 422, line_errors=line_errors, **page)
    try:
        preview = context.app.preview_approval(actor=actor, claim_id=uuid, decisions=decisions)
    except NotAllowed as error:
        return ledger_refused(request, error)
    except LedgerError as error:
        return refused(request, actor, uuid, error, page)
    page["preview"] = preview
    if form.get("op") != "confirm":
        return claim_page(request, actor, uuid, **page)
    if form.get("previewed") != str(preview.approved.amount):
        return claim_page(request, actor, uuid, 409, error=CHANGED, **page)
    try:
        write(
            request,
            lambda context: context.app.approve_claim(
                actor=actor, claim_id=uuid, on=on, decisions=decisions, reason=values["reason"]
            ),
        )
    except NotAllowed as error:
        return ledger_refused(request, error)
    except LedgerError as error:
        return refused(request, actor, uuid, error, page)
    return RedirectResponse(f"/claims/{uuid}", status_code=303)


def refused(request: Request, actor: Any, uuid: UUID, error: LedgerError, page: dict[str, Any]) -> Response:
    """The claim's page with the ledger's refusal beside the line it names, else the form."""
    found = _LINE.match(error.detail)
    if found:
        return claim_page(request, actor, uuid, status_of(error), line_errors={int(found[1]): error.detail}, **page)
    field = "on" if "approval date" in error.detail else None
    return claim_page(request, actor, uuid, status_of(error), error=error.detail, field=field, **page)
