"""Downloads of the books: the XLSX workbook, each table as CSV or all of them in a zip, and the
hledger and beancount journals.

Auditors and the coordinator download every partner's books (or one partner's, with
``?partner=``); a financial officer downloads their own partner's only (another partner is a
403). Each download is read in one snapshot with the head of the hash chain it was made at,
given in X-Ledger-Position and X-Ledger-Head-Seal (and inside: the cover sheet, manifest.json,
the journal's first lines).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import Connection

from api.context import LedgerContext
from api.deps import ActorDep, ContextDep
from api.edge import GuardedRoute, allowed
from api.routes._query import in_query
from ledger.actors import Actor, Role, export_scope
from projections import codes, export, journal
from projections.chain import Stamp, stamp

router = APIRouter(prefix="/exports", tags=["exports"], route_class=GuardedRoute)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WHO = (Role.AUDITOR, Role.COORDINATOR, Role.OFFICER)
PartnerQuery = Annotated[
    str | None,
    Query(
        max_length=200,
        description="Only this partner's rows, e.g. POINTEX (any case); an officer's are always their own partner's",
    ),
]


class JournalKind(StrEnum):
    HLEDGER = "journal"
    BEANCOUNT = "beancount"


class ExportTable(StrEnum):
    BUDGET = "budget"
    CLAIMS = "claims"
    CLAIM_LINES = "claim_lines"
    PAYMENTS = "payments"
    OWN_COSTS = "own_costs"
    TRANSFERS = "transfers"
    EXCHANGE_RATES = "exchange_rates"
    SME_SUPPORT = "sme_support"
    AUDIT_TRAIL = "audit_trail"


@dataclass(frozen=True)
class Export:
    conn: Connection
    at: Stamp
    exporter: export.Exporter


@contextmanager
def _exporting(actor: Actor, context: LedgerContext, partner: str | None) -> Iterator[Export]:
    """One read snapshot, its head, and whose rows the actor may export (``export_scope``)."""
    with context.read_db.reading(snapshot=True) as conn:
        asked = in_query("partner", partner, lambda text: codes.partner_code(conn, text))
        scope = export_scope(actor, asked)
        yield Export(conn, stamp(conn), export.Exporter(actor.id, actor.role, scope))


def _download(body: str | bytes, media_type: str, filename: str, made: Export) -> Response:
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Ledger-Position": str(made.at.position),
        "X-Ledger-Head-Seal": made.at.head_seal,
    }
    return Response(body, media_type=media_type, headers=headers)


@router.get(
    "/{table}.csv",
    response_class=Response,
    summary="Download one table as CSV",
    responses={200: {"content": {"text/csv": {}}, "description": "The table as CSV"}},
)
@allowed(*WHO)
def export_csv(table: ExportTable, actor: ActorDep, context: ContextDep, partner: PartnerQuery = None) -> Response:
    """One table, UTF-8 with a header row, amounts as exact decimals, dates as YYYY-MM-DD."""
    return csv_download(table, actor, context, partner)


def csv_download(table: ExportTable, actor: Actor, context: LedgerContext, partner: str | None) -> Response:
    """One table as CSV, as ``actor`` may export it (the API's and the web app's download)."""
    with _exporting(actor, context, partner) as made:
        sheet = next(s for s in export.sheets(made.conn, made.exporter.partner) if s.name == table.value)
    return _download(export.to_csv(sheet), "text/csv", f"{table.value}.csv", made)


@router.get(
    "/ledger.zip",
    response_class=Response,
    summary="Download every table as CSV files in one zip",
    responses={200: {"content": {"application/zip": {}}, "description": "The CSV files and manifest.json"}},
)
@allowed(*WHO)
def export_zip(actor: ActorDep, context: ContextDep, partner: PartnerQuery = None) -> Response:
    """One CSV file per table and manifest.json (the head, who exported, each file's SHA-256)."""
    with _exporting(actor, context, partner) as made:
        tables = export.sheets(made.conn, made.exporter.partner)
        body = export.to_zip(tables, made.at, made.exporter)
    return _download(body, "application/zip", "grantledger-csv.zip", made)


@router.get(
    "/ledger.xlsx",
    response_class=Response,
    summary="Download every table as one XLSX workbook",
    responses={200: {"content": {XLSX: {}}, "description": "The workbook"}},
)
@allowed(*WHO)
def export_xlsx(actor: ActorDep, context: ContextDep, partner: PartnerQuery = None) -> Response:
    """A cover sheet (grant, export time, head, who exported, whose rows), then one sheet per table."""
    return xlsx_download(actor, context, partner)


def xlsx_download(actor: Actor, context: LedgerContext, partner: str | None) -> Response:
    """The workbook, as ``actor`` may export it (the API's and the web app's download)."""
    with _exporting(actor, context, partner) as made:
        tables = export.sheets(made.conn, made.exporter.partner)
        cover = export.cover(made.conn, made.at, made.exporter)
        body = export.to_xlsx([cover, *tables])
    return _download(body, XLSX, "grantledger.xlsx", made)


@router.get(
    "/ledger.{kind}",
    response_class=Response,
    summary="Download the ledger as an hledger or beancount journal",
    responses={200: {"content": {"text/plain": {}}, "description": "The journal"}},
)
@allowed(*WHO)
def export_journal(kind: JournalKind, actor: ActorDep, context: ContextDep, partner: PartnerQuery = None) -> Response:
    """ledger.journal (hledger) or ledger.beancount: `hledger bal --tree` or beancount reproduce
    the budget overview to the cent. Comment lines on top name the head (and the partner)."""
    with _exporting(actor, context, partner) as made:
        scope = made.exporter.partner
        write = journal.hledger if kind is JournalKind.HLEDGER else journal.beancount
        text = journal.stamped(write(made.conn, scope), made.at, scope)
    return _download(text, "text/plain", f"grantledger.{kind.value}", made)
