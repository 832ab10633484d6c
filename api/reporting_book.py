"""Financial statements as an XLSX workbook laid out like the EU financial statement form: one
sheet per partner (the columns A to E with their titles, total eligible costs, funding rate, EU
contribution requested, the adjustments of earlier periods), then the consortium summary and
the FSTP report of the period.

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

from sqlalchemy import Connection

from api import reporting
from api.reporting import FstpView, StatementView, SummaryView
from ledger.money import Money, money_sum
from ledger.reporting import TITLES, Column
from projections.export.writers import EUR_FORMAT, write_cell

RATE_FORMAT = "0.00%"
#: The figures' header row on a partner's sheet.
HEADINGS = ("Column", "Cost category", "Eligible costs (EUR)", "Funding rate", "EU contribution (EUR)")
_WIDTHS = (12, 42, 22, 14, 24)
SUMMARY_TOTALS = ("Total eligible costs (EUR)", "EU contribution (EUR)", "EU contribution requested (EUR)")
FSTP_HEADINGS = (
    "Partner",
    "Legal name",
    "Identifier",
    "Country",
    "Call (mission)",
    "Paid in the period (EUR)",
    "Cumulative support (EUR)",
    "Cap per SME (EUR)",
)


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
    _widths(ws, _WIDTHS)


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


def _heading(out: _Writer, title: str, grant: str, position: int, seal: str) -> None:
    out.line(title, bold=True)
    out.line("Grant", grant)
    out.line("Event position", position)
    out.line("Head seal", seal)


def summary_sheet(book: Any, view: SummaryView, grant: str) -> None:
    """Every partner's statement side by side (a row each, the columns across), the totals, the
    EU cap and what remains of it; each partner's digest once signed."""
    summary = view.summary
    ws = book.create_sheet("Consortium summary")
    out = _Writer(ws)
    period = summary.period
    _heading(out, f"Consortium summary, reporting period {period.number}", grant, view.position, view.seal)
    out.line("Period", f"{period.start.isoformat()} to {period.end.isoformat()}")
    out.line("Digest", "each partner's, in its row (none until signed)")
    out.skip()
    columns = list(Column)
    out.line("Partner", "State", *(f"{c.value} {TITLES[c]}" for c in columns), *SUMMARY_TOTALS, "Digest", bold=True)
    records = {r.partner: r for r in view.records}
    for s in summary.statements:
        record = records[s.partner]
        figures = s.figures
        costs = [figures.costs[c] for c in columns]
        digest = record.digest if record.signed and record.digest else ""
        out.line(s.partner, record.state.value, *costs, figures.total, figures.contribution, figures.requested, digest)
    totals = [summary.totals[c] for c in columns]
    out.line("Consortium", "", *totals, summary.total_eligible, summary.contribution, summary.requested, bold=True)
    out.skip()
    out.line("EU cap", summary.eu_cap)
    out.line("Requested in earlier periods", summary.requested_before)
    out.line("Requested in this period", summary.requested, bold=True)
    out.line("Remaining of the EU cap", summary.cap_remaining)
    _widths(ws, (16, 12, *(18 for _ in columns), 20, 20, 20, 66))


def fstp_sheet(book: Any, view: FstpView, grant: str) -> None:
    """The third parties supported in the period: who, under which call, paid in the period
    and their cumulative support against the cap per SME."""
    ws = book.create_sheet("FSTP report")
    out = _Writer(ws)
    period = view.period
    _heading(
        out, f"Financial support to third parties, reporting period {period.number}", grant, view.position, view.seal
    )
    out.line("Period", f"{period.start.isoformat()} to {period.end.isoformat()}")
    out.line("Digest", "none: the report is drawn up from the books, not signed")
    out.skip()
    out.line(*FSTP_HEADINGS, bold=True)
    for r in view.rows:
        out.line(r.partner, r.legal_name, r.identifier, r.country, r.mission_code, r.paid, r.cumulative, r.cap)
    out.line("Total", "", "", "", "", money_sum([r.paid for r in view.rows]), bold=True)
    _widths(ws, (14, 40, 20, 9, 14, 18, 22, 16))


def _widths(ws: Any, widths: Sequence[int]) -> None:
    from openpyxl.utils import get_column_letter

    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width


def statement_workbook(
    views: Sequence[StatementView], grant: str, summary: SummaryView | None = None, fstp: FstpView | None = None
) -> bytes:
    """The workbook of these statements: a sheet per partner, in the order given, then the
    consortium summary and the FSTP report when given."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for view in views:
        partner_sheet(book, view, grant)
    if summary is not None:
        summary_sheet(book, summary, grant)
    if fstp is not None:
        fstp_sheet(book, fstp, grant)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class PeriodBook:
    """The workbook of a period (every partner's statement, the summary, the FSTP report), with
    the statements and the summary it was made of (their positions and seals)."""

    body: bytes
    views: list[StatementView]
    summary: SummaryView


def period_book(conn: Connection, number: int) -> PeriodBook:
    """Period ``number``'s workbook, read in ``conn``'s transaction."""
    reporting.period_of(conn, number)
    views = [reporting.statement_view(conn, p, number) for p in reporting.partners(conn)]
    summary = reporting.summary_view(conn, number)
    body = statement_workbook(views, reporting.grant_name(conn), summary, reporting.fstp_view(conn, number))
    return PeriodBook(body, views, summary)
