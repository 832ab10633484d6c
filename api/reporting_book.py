"""Financial statements as an XLSX workbook laid out like the EU financial statement form: one
sheet per partner (the columns A to E with their titles, total eligible costs, funding rate, EU
contribution requested), then the consortium summary and the FSTP report when there are.

Every sheet carries the event position, the chain's seal there and the digest (of a signed
statement; a draft has none yet). Amounts are numeric cells written from the exact Decimal
(``#,##0.00``), rates percentages, texts safe cells (projections.escaping: never a formula).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from api.reporting import StatementView
from ledger.money import Money
from ledger.reporting import TITLES, Column
from projections.export.writers import EUR_FORMAT, write_cell

RATE_FORMAT = "0.00%"
#: The figures' header row on a partner's sheet.
HEADINGS = ("Column", "Cost category", "Eligible costs (EUR)", "Funding rate", "EU contribution (EUR)")
_WIDTHS = (12, 42, 22, 14, 24)


@dataclass(frozen=True)
class Rate:
    """A funding rate, written as a percentage cell."""

    value: Decimal


class _Writer:
    """Rows written one after another on one sheet."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.row = 0

    def line(self, *values: Any, bold: bool = False) -> int:
        from openpyxl.styles import Font

        self.row += 1
        for column, value in enumerate(values, start=1):
            if isinstance(value, Money):
                written = write_cell(self.ws, self.row, column, value.amount, "eur", "EUR")
                written.number_format = EUR_FORMAT
            elif isinstance(value, Rate):
                written = write_cell(self.ws, self.row, column, value.value, "rate", None)
                written.number_format = RATE_FORMAT
            else:
                written = write_cell(self.ws, self.row, column, value, "text", None)
            if bold:
                written.font = Font(bold=True)
        return self.row

    def skip(self) -> None:
        self.row += 1


def sheet_name(view: StatementView) -> str:
    """A partner's sheet: its code (sheet names are at most 31 characters, without []:*?/\\)."""
    name = "".join("_" if ch in "[]:*?/\\" else ch for ch in view.record.partner)
    return name[:31]


def _stamp(out: _Writer, view: StatementView) -> None:
    record = view.record
    out.line("Event position", view.position)
    out.line("Head seal", view.seal)
    out.line("Digest", record.digest if record.digest else f"none: the statement is {record.state.value}, not signed")


def partner_sheet(book: Any, view: StatementView, grant: str) -> None:
    """One partner's financial statement for one period, as the EU form lays it out."""
    statement, record = view.statement, view.record
    ws = book.create_sheet(sheet_name(view))
    out = _Writer(ws)
    period = statement.period
    out.line(f"Financial statement of {record.partner}, reporting period {period.number}", bold=True)
    out.line("Grant", grant)
    out.line("Period", f"{period.start.isoformat()} to {period.end.isoformat()}")
    out.line("State", record.state.value)
    if record.signer:
        out.line("Signed by", record.signer)
    _stamp(out, view)
    out.skip()
    out.line(*HEADINGS, bold=True)
    figures = statement.figures
    for column in Column:
        out.line(
            column.value,
            TITLES[column],
            figures.costs[column],
            Rate(view.rates[column]),
            figures.contribution_by_column[column],
        )
    out.line("", "Total eligible costs", figures.total, None, figures.contribution, bold=True)
    out.line("", "EU contribution requested", None, None, figures.requested, bold=True)
    out.line("", "Requested in this and earlier periods", None, None, statement.cumulative_requested)
    out.line("", "Certificate on the financial statements due", "yes" if statement.certificate_due else "no")
    _adjustments(out, view)
    for index, width in enumerate(_WIDTHS):
        ws.column_dimensions[chr(ord("A") + index)].width = width


def _adjustments(out: _Writer, view: StatementView) -> None:
    """The block of adjustments of earlier periods declared in this statement (counted in
    the figures above), when there are."""
    if not view.adjustments:
        return
    out.skip()
    out.line("Adjustments of earlier periods, declared in this statement and counted above", bold=True)
    out.line("Period adjusted", "Cost category", "Eligible costs (EUR)", bold=True)
    for adjustment in view.adjustments:
        out.line(adjustment.period, f"{adjustment.column.value} {TITLES[adjustment.column]}", adjustment.amount)


def statement_workbook(views: Sequence[StatementView], grant: str) -> bytes:
    """The workbook of these statements: a sheet per partner, in the order given."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for view in views:
        partner_sheet(book, view, grant)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
