"""Exports auditors open with their own tools: CSV files and one XLSX workbook.

Four tables, read from the read models in one transaction: the audit trail, the claims,
the budget per partner x category (now or as of a past point) and the support per SME and
mission. Amounts are exact decimals: text in CSV ("1234.50"), numeric cells with two
decimals in XLSX (written from the decimal text, never through a float). Every cell goes
through ``rows``: free text that a spreadsheet would run as a formula is neutralised.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from projections import queries as q
from projections import tables as t
from projections.chain import Stamp
from projections.escaping import Cell, cell


@dataclass(frozen=True)
class Sheet:
    name: str
    headers: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def _audit(conn: Connection) -> Sheet:
    a = t.audit.c
    rows = [
        (
            r.position,
            r.recorded_at.isoformat(),
            r.effective_date,
            r.actor_id,
            r.role,
            r.partner or "",
            r.aggregate_type,
            r.aggregate_id,
            r.version,
            r.event_type,
            r.reason,
            json.dumps(json.loads(r.payload), sort_keys=True),
        )
        for r in conn.execute(select(t.audit).order_by(a.position))
    ]
    headers = (
        "position",
        "recorded_at_utc",
        "effective_date",
        "actor",
        "role",
        "partner",
        "record_type",
        "record_id",
        "version",
        "event",
        "reason",
        "payload",
    )
    return Sheet("audit_trail", headers, rows)


def _claims(conn: Connection) -> Sheet:
    c = t.claims.c
    rows = [
        (r.id, r.partner, r.sme_id, r.mission_id, r.state, r.submitted_on, r.requested, r.approved, r.paid, r.reason)
        for r in conn.execute(select(t.claims).order_by(c.position, c.id))
    ]
    headers = (
        "claim_id",
        "partner",
        "sme_id",
        "mission_id",
        "state",
        "submitted_on",
        "requested_eur",
        "approved_eur",
        "paid_eur",
        "reason",
    )
    return Sheet("claims", headers, rows)


def _budget(conn: Connection, as_of: q.AsOf) -> Sheet:
    overview = q.budget_overview(conn, as_of)
    lines = () if overview is None else (*overview.lines, overview.totals())
    rows = [
        (
            line.partner,
            line.category,
            line.allocated,
            line.pending,
            line.committed,
            line.paid,
            line.spent,
            line.remaining,
        )
        for line in lines
    ]
    headers = ("partner", "category", "allocated", "pending", "committed", "paid", "own_costs", "remaining")
    return Sheet("budget", headers, rows)


def _sme_support(conn: Connection) -> Sheet:
    rows = [
        (
            s.id,
            s.legal_name,
            s.country,
            s.identifier,
            m.mission_code,
            m.cap,
            m.requested,
            m.approved,
            m.paid,
            m.remaining_cap,
        )
        for s in q.sme_summaries(conn)
        for m in s.missions
    ]
    headers = (
        "sme_id",
        "legal_name",
        "country",
        "identifier",
        "mission",
        "cap_eur",
        "requested_eur",
        "approved_eur",
        "paid_eur",
        "remaining_cap_eur",
    )
    return Sheet("sme_support", headers, rows)


def sheets(conn: Connection, as_of: q.AsOf | None = None) -> list[Sheet]:
    """The four tables, consistently from one read transaction."""
    return [_audit(conn), _claims(conn), _budget(conn, as_of or q.AsOf()), _sme_support(conn)]


def rows(sheet: Sheet) -> Iterator[list[Cell]]:
    """The sheet's header and rows as cells: every CSV and XLSX cell comes from here, so numbers
    stay numbers and no text can be read as a formula (``projections.escaping.cell``)."""
    yield [cell(v) for v in sheet.headers]
    for row in sheet.rows:
        yield [cell(v) for v in row]


def to_csv(sheet: Sheet) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows(sheet))
    return out.getvalue()


def write_csv(all_sheets: list[Sheet], directory: Path) -> list[Path]:
    """One CSV file per table in ``directory`` (created if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for sheet in all_sheets:
        path = directory / f"{sheet.name}.csv"
        path.write_text(to_csv(sheet), encoding="utf-8")
        written.append(path)
    return written


def cover(at: Stamp) -> Sheet:
    """A first sheet naming the head the workbook was made at."""
    rows = [("position", at.position), ("head_seal", at.head_seal), ("expect_head", at.head)]
    return Sheet("export", ("field", "value"), [*rows, ("exported_at", at.exported_at.isoformat(timespec="seconds"))])


def write_manifest(at: Stamp, files: list[Path], directory: Path) -> Path:
    """manifest.json beside the CSV files: the head they were made at and each file's SHA-256."""
    manifest = {
        "position": at.position,
        "head_seal": at.head_seal,
        "expect_head": at.head,
        "exported_at": at.exported_at.isoformat(timespec="seconds"),
        "files": {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in files},
    }
    path = directory / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path


def to_xlsx(all_sheets: list[Sheet]) -> bytes:
    """One workbook, a sheet per table; amounts as numeric cells formatted with two decimals,
    texts as string cells (never a formula, an error value or anything else inferred), no
    text as an empty cell."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for sheet in all_sheets:
        ws = book.create_sheet(sheet.name)
        for row, values in enumerate(rows(sheet), start=1):
            for column, value in enumerate(values, start=1):
                xlsx_cell = ws.cell(row, column, value if value != "" else None)
                if isinstance(value, str) and value:
                    xlsx_cell.data_type = "s"
                elif isinstance(value, Decimal):
                    xlsx_cell.number_format = "#,##0.00"
        ws.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
