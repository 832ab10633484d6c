"""Reporting to the EU: every reporting period with each partner's statement state, and one
period's page: the partners' statements side by side with the consortium's totals, the FSTP
report, a link to each partner's statement (api.web.statement), and the coordinator's form that
submits the period once every statement is signed.

Reads are api.reporting's (the JSON API's and the command line's too); submitting goes through
api.reporting.submit_period. The button is enabled only when every statement is signed, and
says which are not; the ledger checks again, and a refusal is shown above the form in its
words, the reason typed kept.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from api import reporting
from api.context import LedgerContext
from api.reporting import PeriodView
from api.web.forms import record
from api.web.reads import books, today
from api.web.render import render
from api.web.session import FormDep, SessionDep
from api.web.statement_pdf import lines_of
from ledger.actors import Actor, Role
from ledger.statement import StatementState

router = APIRouter(include_in_schema=False)
Number = Annotated[int, Path(ge=1, le=1000)]


@router.get("/reporting")
def periods(request: Request, session: SessionDep) -> Response:
    context: LedgerContext = request.app.state.context
    with books(request) as conn:
        views = reporting.periods_view(context, conn)
    return render(request, "reporting.html", periods=views)


def unsigned(view: PeriodView) -> list[str]:
    """The partners whose statement for the period is not signed yet."""
    signed = (StatementState.SIGNED, StatementState.SUBMITTED)
    return [record.partner for record in view.records if record.state not in signed]


def period_page(
    request: Request,
    actor: Actor,
    number: int,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    context: LedgerContext = request.app.state.context
    with books(request) as conn:
        period = reporting.period_of(conn, number)
        records = tuple(reporting.statement_record(context, code, number) for code in reporting.partners(conn))
        view = PeriodView(period, records)
        statements = [reporting.statement_view(context, conn, r.partner, number) for r in records]
    return render(
        request,
        "reporting_period.html",
        status,
        view=view,
        statements=statements,
        lines=[lines_of(s) for s in statements],
        may_submit=actor.role == Role.COORDINATOR and not view.submitted,
        unsigned=unsigned(view),
        errors=errors or {},
        values=values or {},
    )


@router.get("/reporting/{number}")
def period(request: Request, session: SessionDep, number: Number) -> Response:
    return period_page(request, session.actor, number)


@router.post("/reporting/{number}/submit")
def submit(request: Request, session: SessionDep, form: FormDep, number: Number) -> Response:
    actor = session.actor
    values = {"reason": form.get("reason")}
    return record(
        request,
        lambda status, errors: period_page(request, actor, number, status, errors, values),
        lambda context: reporting.submit_period(context, actor, number, today().date(), values["reason"]),
        lambda _done: f"/reporting/{number}",
        ("reason",),
    )
