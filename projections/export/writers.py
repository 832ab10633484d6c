"""The tables as a workbook (XLSX), as CSV files in a directory, or as CSV files in a zip.

Every cell comes through ``rows`` (CSV) or ``write_cell`` (XLSX), and every text through
``projections.escaping.cell``: numbers stay numbers, no text can be read as a formula.
In CSV, amounts are plain decimal text (``1234.50``), dates ``YYYY-MM-DD`` and recorded times
ISO 8601 in UTC; in the workbook, amounts are numeric cells written from the exact
``Decimal`` (EUR as ``#,##0.00``, other currencies with their own decimals), dates are date
cells and recorded times datetime cells in UTC (the headers say so).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from ledger.money import MINOR_UNITS
from projections import queries as q
from projections import tables as t
from projections.chain import Stamp
from projections.escaping import Cell, cell
from projections.export.sheet import Exporter, Kind, Sheet

EUR_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
_MIN_WIDTH, _MAX_WIDTH, _WIDE = 8, 48, 90


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def rows(sheet: Sheet) -> Iterator[list[Cell]]:
    """The sheet's CSV header and rows as cells: numbers stay numbers, dates and times are ISO
    text, and no text can be read as a formula (``projections.escaping.cell``)."""
    yield [cell(v) for v in sheet.headers]
    for row in sheet.rows:
        yield [cell(_plain(v)) for v in row]


def to_csv(sheet: Sheet) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows(sheet))
    return out.getvalue()


def write_csv(all_sheets: list[Sheet], directory: Path) -> list[Path]:
    """One CSV file per table in ``directory`` (created if needed), UTF-8 with a header row."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for sheet in all_sheets:
        path = directory / f"{sheet.name}.csv"
        path.write_text(to_csv(sheet), encoding="utf-8")
        written.append(path)
    return written


def manifest(at: Stamp, digests: dict[str, str], exporter: Exporter | None = None) -> dict[str, Any]:
    """What manifest.json says: the head the files were made at, who made them, each file's SHA-256."""
    made_by = {} if exporter is None else {"exported_by": exporter.name, "role": exporter.role}
    return {
        "position": at.position,
        "head_seal": at.head_seal,
        "expect_head": at.head,
        "exported_at": at.exported_at.isoformat(timespec="seconds"),
        **made_by,
        **({} if exporter is None else {"partners": exporter.scope}),
        "files": digests,
    }


def _manifest_text(at: Stamp, digests: dict[str, str], exporter: Exporter | None) -> str:
    return json.dumps(manifest(at, digests, exporter), indent=2) + "\n"


def write_manifest(at: Stamp, files: list[Path], directory: Path, exporter: Exporter | None = None) -> Path:
    """manifest.json beside the CSV files: the head they were made at and each file's SHA-256."""
    digests = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in files}
    path = directory / "manifest.json"
    path.write_text(_manifest_text(at, digests, exporter), encoding="utf-8")
    return path


def to_zip(all_sheets: list[Sheet], at: Stamp, exporter: Exporter | None = None) -> bytes:
    """One CSV file per table and manifest.json, in one zip archive."""
    out = io.BytesIO()
    stamp = at.exported_at.astimezone(UTC).timetuple()[:6]
    digests = {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for sheet in all_sheets:
            data = to_csv(sheet).encode("utf-8")
            digests[f"{sheet.name}.csv"] = hashlib.sha256(data).hexdigest()
            archive.writestr(zipfile.ZipInfo(f"{sheet.name}.csv", stamp), data, zipfile.ZIP_DEFLATED)
        text = _manifest_text(at, digests, exporter).encode("utf-8")
        archive.writestr(zipfile.ZipInfo("manifest.json", stamp), text, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def cover(conn: Connection, at: Stamp, exporter: Exporter, as_of: q.AsOf | None = None) -> Sheet:
    """The first sheet: the grant, the export's time and head, who exported it, whose rows it holds."""
    grant = conn.execute(select(t.grant.c.code, t.grant.c.title)).one_or_none()
    as_of = as_of or q.AsOf()
    books = (
        f"as recorded up to event position {as_of.position}"
        if as_of.position is not None
        else f"as effective on {as_of.effective.isoformat()}"
        if as_of.effective is not None
        else f"now: every event up to position {at.position}"
    )
    fields: list[tuple[str, Any]] = [
        ("grant", "" if grant is None else grant.code),
        ("grant_title", "" if grant is None else grant.title),
        ("exported_at_utc", at.exported_at),
        ("event_position", at.position),
        ("head_seal", at.head_seal),
        ("expect_head", at.head),
        ("exported_by", exporter.name),
        ("role", exporter.role),
        ("partners", exporter.scope),
        ("budget_as_of", books),
        ("check", f"grantledger verify --expect-head {at.head}"),
    ]
    return Sheet("cover", ("field", "value"), fields, title="Cover", titles=("Field", "Value"))


# --- the workbook -----------------------------------------------------------------------------
def _number_format(kind: Kind, currency: object) -> str | None:
    if kind == "eur":
        return EUR_FORMAT
    if kind == "amount":
        decimals = MINOR_UNITS.get(str(currency), 2)
        return "#,##0" if decimals == 0 else "#,##0." + "0" * decimals
    return None


def write_cell(ws: Any, row: int, column: int, value: Any, kind: Kind, currency: object) -> Any:
    """One workbook cell: a date, a UTC time, an exact number with its format, or safe text."""
    if isinstance(value, datetime):
        utc = value.astimezone(UTC).replace(tzinfo=None)  # a workbook holds milliseconds, no zone
        target = ws.cell(row, column, utc.replace(microsecond=utc.microsecond // 1000 * 1000))
        target.number_format = TIME_FORMAT
        return target
    if isinstance(value, date):
        target = ws.cell(row, column, value)
        target.number_format = DATE_FORMAT
        return target
    shown = cell(value) if value is not None else ""
    target = ws.cell(row, column, shown if shown != "" else None)
    if isinstance(shown, str) and shown:
        target.data_type = "s"
    elif isinstance(shown, Decimal):
        target.number_format = _number_format(kind, currency) or "General"
    return target


def _width(sheet: Sheet, column: int, title: str) -> float:
    if sheet.kind(column) == "time":
        return float(max(len(title) + 2, len("2023-04-10 12:00:00") + 2))
    longest = max((len(str(_plain(row[column]))) for row in sheet.rows[:500] if row[column] is not None), default=0)
    if sheet.kind(column) in {"eur", "amount"}:
        longest += longest // 3 + 1  # thousands separators
    cap = _WIDE if sheet.headers[column] == "payload" else _MAX_WIDTH
    return float(min(cap, max(_MIN_WIDTH, len(title) + 2, longest + 2)))


def to_xlsx(all_sheets: list[Sheet]) -> bytes:
    """One workbook, a sheet per table: a bold, frozen header row with an autofilter, columns
    wide enough to read; amounts numeric, dates as dates, texts as string cells (never a
    formula, an error value or anything else inferred), no text as an empty cell."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    bold = Font(bold=True)
    for sheet in all_sheets:
        ws = book.create_sheet(sheet.title or sheet.name)
        titles = sheet.titles or sheet.headers
        currency = sheet.headers.index("currency") if "currency" in sheet.headers else None
        for column, title in enumerate(titles, start=1):
            write_cell(ws, 1, column, title, "text", None).font = bold
            ws.column_dimensions[get_column_letter(column)].width = _width(sheet, column - 1, title)
        for index, values in enumerate(sheet.rows):
            money = None if currency is None else values[currency]
            for column, value in enumerate(values, start=1):
                written = write_cell(ws, index + 2, column, value, sheet.kind(column - 1), money)
                if index in sheet.totals:
                    written.font = bold
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(titles))}{len(sheet.rows) + 1}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
