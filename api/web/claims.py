"""Claims: the list (filters by state, partner and mission, one page at a time), one claim with
its lines and history, and the decision on it: an officer of the partner charged approves it
in full or rejects it, from the claim's page.

The decision goes through the same Application method as the JSON API's; a refusal of the
ledger is shown beside the form in its own words, with what was typed kept, and nothing is
recorded; a decision recorded redirects to the claim's page (POST-redirect-GET). Anyone else
(another partner's officer, the coordinator, an auditor) sees no form, and a POST of theirs
is refused with a page saying why, by the ledger's own rule (require_officer_of).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.context import LedgerContext
from api.routes._write import then_read
from api.schemas import parse_iso_date
from api.settings import Settings
from api.web.errors import ledger_refused, status_of
from api.web.reads import books, today
from api.web.render import render
from api.web.session import FormDep, SessionDep, WebRefusal
from ledger.actors import Actor, Role
from ledger.claim import ClaimState
from ledger.errors import LedgerError, NotAllowed
from projections import codes, glance
from projections import queries as q

router = APIRouter(include_in_schema=False)
PAGE = 25
STATES = [state.value for state in ClaimState]


def claim_id_of(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise WebRefusal(
            404, "No such claim", f"{text[:40]!r} is not a claim's id; the list of claims links each"
        ) from None


@router.get("/claims")
def claims(
    request: Request,
    _session: SessionDep,
    state: Annotated[str | None, Query(max_length=40)] = None,
    partner: Annotated[str | None, Query(max_length=200)] = None,
    mission: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[str | None, Query(max_length=12)] = None,
) -> HTMLResponse:
    shown = {"state": state or "", "partner": partner or "", "mission": mission or ""}
    errors: dict[str, str] = {}
    number = int(page) if page and page.isdigit() and 0 < int(page) < 10**9 else 1
    with books(request) as conn:
        where: dict[str, str | None] = {}
        for name, text, resolve in (
            ("state", state, codes.claim_state),
            ("partner", partner, lambda given: codes.partner_code(conn, given)),
            ("mission", mission, lambda given: codes.mission_id_of(conn, given)),
        ):
            try:
                where[name] = resolve(text) if text else None
            except LedgerError as error:
                errors[name] = error.detail
        rows: list[Any] = []
        count = 0
        if not errors:
            rows, count = q.list_claims(
                conn,
                q.ClaimFilter(state=where["state"], mission_id=where["mission"], partner=where["partner"]),
                offset=(number - 1) * PAGE,
                limit=PAGE,
            )
        context = {
            "rows": rows,
            "count": count,
            "number": number,
            "pages": max(1, -(-count // PAGE)),
            "shown": shown,
            "errors": errors,
            "names": glance.labels(conn, rows),
            "states": STATES,
            "partners": glance.partner_codes(conn),
            "missions": glance.mission_codes(conn),
        }
    # an htmx request from the filter form gets the results alone; any other, the whole page
    fragment = request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == "results"
    return render(request, "_claims_results.html" if fragment else "claims.html", 422 if errors else 200, **context)


def may_decide(actor: Actor, claim: Any) -> bool:
    """Whether to show the decision forms: only the partner's officers decide (the ledger checks again)."""
    return actor.role == Role.OFFICER and actor.partner == claim.partner and claim.state == ClaimState.SUBMITTED


def may_correct(actor: Actor, claim: Any) -> dict[str, bool]:
    """Which corrections to offer (the ledger checks again): only the partner's officers record
    a payment (approved or partly paid), reverse one, settle short (partly paid) or revoke the
    approval (approved, nothing paid)."""
    officer = actor.role == Role.OFFICER and actor.partner == claim.partner
    state = claim.state
    return {
        "any": officer,
        "pay": officer and state in (ClaimState.APPROVED, ClaimState.PARTLY_PAID),
        "reverse": officer,
        "settle": officer and state == ClaimState.PARTLY_PAID,
        "revoke": officer and state == ClaimState.APPROVED,
    }


def claim_page(request: Request, actor: Actor, claim_id: UUID, status: int = 200, **form: Any) -> HTMLResponse:
    with books(request) as conn:
        detail = q.claim_detail(conn, str(claim_id))
        if detail is None:
            raise WebRefusal(404, "No such claim", f"claim {claim_id} is not in the ledger (or not yet projected)")
        names = glance.labels(conn, [detail.claim])
    values = {
        "on": today().date().isoformat(),
        "reason": "",
        "action": "",
        "amount": "",
        "bank_reference": "",
        "payment": "",
        "payment_id": str(uuid4()),  # the new payment's id: the same form sent twice records one
        "reject": "",
        **form.pop("values", {}),
    }
    return render(
        request,
        "claim.html",
        status,
        detail=detail,
        claim=detail.claim,
        names=names,
        decide=may_decide(actor, detail.claim),
        correct=may_correct(actor, detail.claim),
        error=form.get("error"),
        field=form.get("field"),
        values=values,
    )


@router.get("/claims/{claim_id}")
def claim(request: Request, session: SessionDep, claim_id: str) -> HTMLResponse:
    return claim_page(request, session.actor, claim_id_of(claim_id))


def _decide(request: Request, session: SessionDep, form: FormDep, claim_id: str, action: str) -> Response:
    """Record the decision through the Application; the claim's page shows the outcome."""
    actor, uuid = session.actor, claim_id_of(claim_id)
    context: LedgerContext = request.app.state.context
    settings: Settings = request.app.state.settings
    values = {"on": form.get("on"), "reason": form.get("reason"), "action": action}
    if context.projector.failure is not None:
        raise WebRefusal(503, "Not recorded", f"nothing was recorded: {context.projector.failure.describe()}")
    try:
        on = parse_iso_date(values["on"])
    except ValueError as error:
        return claim_page(request, actor, uuid, 422, error=f"the decision date: {error}", field="on", values=values)
    try:
        if action == "approve":
            context.app.approve_claim(actor=actor, claim_id=uuid, on=on, reason=values["reason"])
        else:
            context.app.reject_claim(actor=actor, claim_id=uuid, on=on, reason=values["reason"])
    except NotAllowed as error:
        return ledger_refused(request, error)
    except LedgerError as error:
        return claim_page(request, actor, uuid, status_of(error), error=error.detail, values=values)
    then_read(context, settings.read_your_writes_timeout, lambda _conn: None)
    return RedirectResponse(f"/claims/{uuid}", status_code=303)


@router.post("/claims/{claim_id}/approve")
def approve(request: Request, session: SessionDep, form: FormDep, claim_id: str) -> Response:
    return _decide(request, session, form, claim_id, "approve")


@router.post("/claims/{claim_id}/reject")
def reject(request: Request, session: SessionDep, form: FormDep, claim_id: str) -> Response:
    return _decide(request, session, form, claim_id, "reject")
