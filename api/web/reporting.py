"""Reporting to the EU: every reporting period with each partner's statement state (who moved
it there, and when), and one period's page: the consortium summary (the partners' statements
side by side, the totals, the EU cap and what remains of it), the FSTP report, a link to each
partner's statement (api.web.statement), and the coordinator's form that
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
from api.reporting import PeriodView, StatementRecord
from api.reporting_book import period_book
from api.routes.exports import XLSX
from api.web.forms import record
from api.web.reads import books, today
from api.web.render import render
from api.web.session import FormDep, SessionDep
from api.web.statement import download
from ledger.actors import Actor, Role
from ledger.reporting import TITLES, Column
from projections.close import statement_rows

router = APIRouter(include_in_schema=False)
Number = Annotated[int, Path(ge=1, le=1000)]


@router.get("/reporting")
def periods(request: Request, session: SessionDep) -> Response:
    """Every period, each partner's statement state with who moved it there and when."""
    with books(request) as conn:
        shown = [(view, statement_rows(conn, view.period.number)) for view in reporting.periods_view(conn)]
    return render(request, "reporting.html", periods=shown)


def unsigned(records: tuple[StatementRecord, ...]) -> list[str]:
    """The partners whose statement for the period is not signed yet."""
    return [record.partner for record in records if not record.signed]


def period_page(
    request: Request,
    actor: Actor,
    number: int,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    with books(request) as conn:
        summary = reporting.summary_view(conn, number)
        fstp = reporting.fstp_view(conn, number)
    submitted = PeriodView(summary.summary.period, summary.records).submitted
    return render(
        request,
        "reporting_period.html",
        status,
        view=summary,
        fstp=fstp,
        columns=[(column, TITLES[column]) for column in Column],
        submitted=submitted,
        may_submit=actor.role == Role.COORDINATOR and not submitted,
        unsigned=unsigned(summary.records),
        errors=errors or {},
        values=values or {},
    )


@router.get("/reporting/{number}.xlsx")
def period_workbook(request: Request, session: SessionDep, number: Number) -> Response:
    """Every partner's statement for the period, a sheet each, the summary and the FSTP report."""
    with books(request) as conn:
        book = period_book(conn, number)
    summary = book.summary
    return download(book.body, XLSX, f"statements-period-{number}.xlsx", summary.position, summary.seal)


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
