"""Downloads for people signed in: the XLSX workbook and each table as CSV, made by the same
functions as the JSON API's exports (api/routes/exports.py): auditors and the coordinator
every partner's books (or one partner's, ``?partner=``), a financial officer their own
partner's (asking for another partner's is refused, as over the API)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.context import LedgerContext
from api.routes.exports import ExportTable, PartnerQuery, csv_download, xlsx_download
from api.web.session import SessionDep, WebRefusal

router = APIRouter(include_in_schema=False)


@router.get("/exports/ledger.xlsx")
def workbook(request: Request, session: SessionDep, partner: PartnerQuery = None) -> Response:
    context: LedgerContext = request.app.state.context
    return xlsx_download(session.actor, context, partner)


@router.get("/exports/{name}.csv")
def table(request: Request, session: SessionDep, name: str, partner: PartnerQuery = None) -> Response:
    tables = [kind.value for kind in ExportTable]
    if name not in tables:
        raise WebRefusal(
            404, "No such export", f"there is no table {name!r} to export; the tables are {', '.join(tables)}"
        )
    context: LedgerContext = request.app.state.context
    return csv_download(ExportTable(name), session.actor, context, partner)
