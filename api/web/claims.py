"""Claims: the list (filters by state, partner and mission, one page at a time), and one claim
with its lines, payments and history as a timeline, with the forms its reader may use: the
decisions (api/web/decisions.py) and the corrections (api/web/payments.py). Recording a claim
is api/web/claim_new.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.context import LedgerContext
from api.web.document_views import claim_documents
from api.web.errors import ledger_refused, status_of
from api.web.files import max_document_bytes
from api.web.paging import Paged, paged
from api.web.reads import books, today
from api.web.render import render
from api.web.rights import may_act_on_claim, recordable
from api.web.session import SessionDep, WebRefusal
from api.web.writes import FieldRefusal, write
from ledger.actors import Actor, Role
from ledger.claim import ClaimState
from ledger.errors import LedgerError, NotAllowed
from ledger.money import MINOR_UNITS
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
    session: SessionDep,
    state: Annotated[str | None, Query(max_length=40)] = None,
    partner: Annotated[str | None, Query(max_length=200)] = None,
    mission: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[str | None, Query(max_length=12)] = None,
) -> HTMLResponse:
    shown = {"state": state or "", "partner": partner or "", "mission": mission or ""}
    errors: dict[str, str] = {}
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
        found: Paged[Any] = Paged([], 0, 1, 1)
        if not errors:
            chosen = q.ClaimFilter(state=where["state"], mission_id=where["mission"], partner=where["partner"])
            found = paged(lambda offset, limit: q.list_claims(conn, chosen, offset=offset, limit=limit), page, PAGE)
        context = {
            "rows": found.rows,
            "count": found.count,
            "number": found.number,
            "pages": found.pages,
            "paging_notice": found.notice,
            "shown": shown,
            "errors": errors,
            "names": glance.labels(conn, found.rows),
            "states": STATES,
            "partners": glance.partner_codes(conn),
            "missions": glance.mission_codes(conn),
            "may_record": bool(recordable(conn, session.actor)),
        }
    # an htmx request from the filter form gets the results alone; any other, the whole page
    fragment = request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == "results"
    return render(request, "_claims_results.html" if fragment else "claims.html", 422 if errors else 200, **context)


def may_decide(actor: Actor, claim: Any) -> bool:
    """Whether to show the decision forms (approve, partly or fully, reject, withdraw): only
    the partner's officers decide on a submitted claim (the ledger checks again)."""
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


def plain(amount: Decimal, currency: str) -> str:
    """An amount as one types it: no separators, the currency's decimals (144830, 1250.50)."""
    return f"{amount:.{MINOR_UNITS.get(currency, 2)}f}"


def event_words(event_type: str) -> str:
    """A claim event's name as a person says it: ReimbursementPaid is "reimbursement paid"."""
    return re.sub(r"(?<!^)([A-Z])", r" \1", event_type).lower()


def claim_page(request: Request, actor: Actor, claim_id: UUID, status: int = 200, **form: Any) -> HTMLResponse:
    with books(request) as conn:
        detail = q.claim_detail(conn, str(claim_id))
        if detail is None:
            raise WebRefusal(404, "No such claim", f"claim {claim_id} is not in the ledger (or not yet projected)")
        names = glance.labels(conn, [detail.claim])
        documents = claim_documents(conn, actor, detail, max_document_bytes(request))
    accepted = {f"accepted-{line.line_no}": plain(line.amount, line.currency) for line in detail.lines}
    values = {
        **accepted,
        "on": today().date().isoformat(),
        "reason": "",
        "action": "",
        "amount": "",
        "bank_reference": "",
        "payment": "",
        "payment_id": str(uuid4()),  # the new payment's id: the same form sent twice records one
        "reject": "",
        "document": "",
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
        preview=form.get("preview"),
        line_errors=form.get("line_errors", {}),
        what=event_words,
        **documents,
    )


@router.get("/claims/{claim_id}")
def claim(request: Request, session: SessionDep, claim_id: str) -> HTMLResponse:
    return claim_page(request, session.actor, claim_id_of(claim_id))


def act_on_claim(
    request: Request,
    actor: Actor,
    claim_id: UUID,
    values: dict[str, str],
    what: str,
    command: Callable[[LedgerContext], object],
) -> Response:
    """Run ``command`` (one Application method) on a claim, from a form on its page: who may
    ``what`` ("reject this claim") is checked first, by the ledger's rule, so that someone who
    may not is told so rather than shown their typing errors; a field ``command`` cannot read,
    or a refusal of the ledger, is shown on the claim's page with what was typed (``values``)
    kept; once recorded, the claim's page (POST-redirect-GET)."""

    def checked(context: LedgerContext) -> None:
        with books(request) as conn:
            barred = may_act_on_claim(conn, actor, str(claim_id), what)
        if barred is not None:
            raise barred
        command(context)

    try:
        write(request, checked)
    except FieldRefusal as error:
        return claim_page(request, actor, claim_id, 422, error=error.detail, field=error.field, values=values)
    except NotAllowed as error:
        return ledger_refused(request, error)
    except LedgerError as error:
        return claim_page(request, actor, claim_id, status_of(error), error=error.detail, values=values)
    return RedirectResponse(f"/claims/{claim_id}", status_code=303)
