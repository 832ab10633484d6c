"""Reporting to the EU: the reporting periods with each partner's state, a partner's financial
statement (JSON or XLSX), the period's workbook, and the workflow steps.

Everyone reads. A partner's financial officers lock and sign its statement; the coordinator
sends one back (with a reason) and submits the period once every statement is signed. Every
step goes through api.reporting, as the command line and the web app do.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from sqlalchemy import Connection

from api import reporting
from api.context import LedgerContext
from api.deps import ActorDep, ContextDep, ReadDep, SettingsDep
from api.edge import GuardedRoute, allowed
from api.reporting_book import period_book, statement_workbook
from api.routes._write import then_read
from api.routes.exports import XLSX
from api.schemas import Page, Written
from api.schemas.reporting import (
    FstpPublic,
    PeriodPublic,
    PeriodsSet,
    SendBack,
    StatementPublic,
    StatementStep,
    SummaryPublic,
)
from ledger.actors import Role
from projections import codes

router = APIRouter(prefix="/reporting", tags=["reporting"], route_class=GuardedRoute)
WHO = (Role.AUDITOR, Role.COORDINATOR, Role.OFFICER)
Number = Annotated[int, Path(ge=1, le=1000, description="The reporting period's number, from 1")]
Partner = Annotated[str, Path(max_length=200, description="The partner's code, in any case, e.g. NTT")]


def _partner(context: LedgerContext, text: str) -> str:
    with context.read_db.reading() as conn:
        return codes.partner_code(conn, text)


def _written(context: LedgerContext, timeout: float, partner: str, number: int) -> Written[StatementPublic]:
    """The statement as the read models show it once they include the step just recorded."""
    position, data = then_read(
        context, timeout, lambda conn: StatementPublic.of(reporting.statement_view(conn, partner, number))
    )
    return Written(position=position, data=data)


def _xlsx(body: bytes, filename: str, views: list[reporting.StatementView]) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if views:
        headers["X-Ledger-Position"] = str(views[0].position)
        headers["X-Ledger-Head-Seal"] = views[0].seal
    return Response(body, media_type=XLSX, headers=headers)


# --- reads ------------------------------------------------------------------------------------
@router.get("/periods", response_model=Page[PeriodPublic], summary="Reporting periods")
def periods(conn: ReadDep, context: ContextDep) -> Page[PeriodPublic]:
    """Every reporting period with each partner's statement state."""
    views = reporting.periods_view(conn)
    return Page(data=[PeriodPublic.of(v) for v in views], count=len(views))


@router.get("/periods/{number}/summary", response_model=SummaryPublic, summary="The consortium summary")
def summary(number: Number, conn: ReadDep, context: ContextDep) -> SummaryPublic:
    """Every partner's statement side by side, the totals, the EU cap and what remains of it."""
    return SummaryPublic.of(reporting.summary_view(conn, number))


@router.get("/periods/{number}/fstp", response_model=FstpPublic, summary="The FSTP report")
def fstp(number: Number, conn: ReadDep) -> FstpPublic:
    """The third parties supported in the period: who, under which call, paid, and cumulative
    support against the cap per SME."""
    return FstpPublic.of(reporting.fstp_view(conn, number))


@router.get(
    "/periods/{number}/statements.xlsx",
    response_class=Response,
    summary="Download the period's workbook",
    responses={200: {"content": {XLSX: {}}, "description": "A sheet per partner"}},
)
@allowed(*WHO)
def period_workbook(number: Number, context: ContextDep) -> Response:
    """Every partner's statement for the period, a sheet each, laid out like the EU form, then
    the consortium summary and the FSTP report."""
    with context.read_db.reading(snapshot=True) as conn:
        book = period_book(conn, number)
    return _xlsx(book.body, f"statements-period-{number}.xlsx", book.views)


@router.get(
    "/periods/{number}/statements/{partner}.xlsx",
    response_class=Response,
    summary="Download a partner's statement as XLSX",
    responses={200: {"content": {XLSX: {}}, "description": "The statement, laid out like the EU form"}},
)
@allowed(*WHO)
def statement_xlsx(number: Number, partner: Partner, context: ContextDep) -> Response:
    with context.read_db.reading(snapshot=True) as conn:
        code = codes.partner_code(conn, partner)
        views = [reporting.statement_view(conn, code, number)]
        body = statement_workbook(views, reporting.grant_name(conn))
    return _xlsx(body, f"statement-{code}-period-{number}.xlsx", views)


@router.get("/periods/{number}/statements/{partner}", response_model=StatementPublic, summary="A partner's statement")
def statement(number: Number, partner: Partner, conn: ReadDep, context: ContextDep) -> StatementPublic:
    """As signed (its position, seal and digest) once signed; else as recorded now."""
    code = codes.partner_code(conn, partner)
    return StatementPublic.of(reporting.statement_view(conn, code, number))


# --- the workflow -----------------------------------------------------------------------------
@router.post("/periods", response_model=Written[Page[PeriodPublic]], summary="Set the reporting periods")
@allowed(Role.COORDINATOR)
def set_periods(
    body: PeriodsSet, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[Page[PeriodPublic]]:
    """Coordinator: consecutive periods that tile the action period; the same periods again record nothing."""
    context.app.set_reporting_periods(
        actor=actor, periods=[(p.start, p.end) for p in body.periods], reason=body.reason, on=body.on
    )

    def read(conn: Connection) -> Page[PeriodPublic]:
        views = reporting.periods_view(conn)
        return Page(data=[PeriodPublic.of(v) for v in views], count=len(views))

    position, data = then_read(context, settings.read_your_writes_timeout, read)
    return Written(position=position, data=data)


@router.post(
    "/periods/{number}/statements/{partner}/lock",
    response_model=Written[StatementPublic],
    summary="Lock a statement for review",
)
@allowed(Role.OFFICER)
def lock(
    number: Number, partner: Partner, body: StatementStep, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[StatementPublic]:
    """Officers of that partner, after the period's end: nothing dated in the period may change it."""
    code = _partner(context, partner)
    timeout = settings.read_your_writes_timeout
    reporting.lock_statement(context, actor, code, number, body.on, body.reason, timeout=timeout)
    return _written(context, timeout, code, number)


@router.post(
    "/periods/{number}/statements/{partner}/sign",
    response_model=Written[StatementPublic],
    summary="Sign a locked statement",
)
@allowed(Role.OFFICER)
def sign(
    number: Number, partner: Partner, body: StatementStep, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[StatementPublic]:
    """Officers of that partner: the figures at the log's head are signed, with their seal and digest."""
    code = _partner(context, partner)
    timeout = settings.read_your_writes_timeout
    reporting.sign_statement(context, actor, code, number, body.on, body.reason, timeout=timeout)
    return _written(context, timeout, code, number)


@router.post(
    "/periods/{number}/statements/{partner}/send-back",
    response_model=Written[StatementPublic],
    summary="Send a statement back to its partner",
)
@allowed(Role.COORDINATOR)
def send_back(
    number: Number, partner: Partner, body: SendBack, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[StatementPublic]:
    """Coordinator, before the period is submitted: the statement is a draft again."""
    code = _partner(context, partner)
    timeout = settings.read_your_writes_timeout
    reporting.send_back_statement(context, actor, code, number, body.on, body.reason, timeout=timeout)
    return _written(context, timeout, code, number)


@router.post("/periods/{number}/submit", response_model=Written[PeriodPublic], summary="Submit the period")
@allowed(Role.COORDINATOR)
def submit(
    number: Number, body: StatementStep, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[PeriodPublic]:
    """Coordinator, once every partner's statement is signed: the period is closed."""
    timeout = settings.read_your_writes_timeout
    reporting.submit_period(context, actor, number, body.on, body.reason, timeout=timeout)
    position, view = then_read(context, timeout, lambda conn: reporting.period_view(conn, number))
    return Written(position=position, data=PeriodPublic.of(view))
