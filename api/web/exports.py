"""Downloads for auditors, signed in: the XLSX workbook and each table as CSV, made by the same
functions as the JSON API's exports (projections.export), stamped with the chain's head."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.context import LedgerContext
from api.routes.audit import XLSX, ExportTable
from api.web.session import SessionDep, WebRefusal
from ledger.actors import Role, require_role
from projections import export
from projections.chain import stamp

router = APIRouter(include_in_schema=False)


def _head(position: int, seal: str) -> dict[str, str]:
    return {"X-Ledger-Position": str(position), "X-Ledger-Head-Seal": seal}


@router.get("/exports/ledger.xlsx")
def workbook(request: Request, session: SessionDep) -> Response:
    require_role(session.actor, "export the books", Role.AUDITOR)
    context: LedgerContext = request.app.state.context
    with context.read_db.reading(snapshot=True) as conn:
        at = stamp(conn)
        tables = export.sheets(conn)
    return Response(
        export.to_xlsx([export.cover(at), *tables]),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="grantledger.xlsx"', **_head(at.position, at.head_seal)},
    )


@router.get("/exports/{name}.csv")
def table(request: Request, session: SessionDep, name: str) -> Response:
    require_role(session.actor, "export the books", Role.AUDITOR)
    tables = [kind.value for kind in ExportTable]
    if name not in tables:
        raise WebRefusal(
            404, "No such export", f"there is no table {name!r} to export; the tables are {', '.join(tables)}"
        )
    context: LedgerContext = request.app.state.context
    with context.read_db.reading(snapshot=True) as conn:
        at = stamp(conn)
        sheet = next(s for s in export.sheets(conn) if s.name == name)
    return Response(
        export.to_csv(sheet),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"', **_head(at.position, at.head_seal)},
    )
