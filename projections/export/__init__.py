"""Exports auditors open with their own tools: one XLSX workbook, or the same tables as CSV.

The workbook opens with a cover sheet (the grant, when and by whom it was exported, the
event position and head seal of the hash chain it was made at, whose rows it holds), then
one sheet per table: budget lines, claims, claim lines, payments, own costs, budget
transfers, exchange rates, SME support and the audit trail. Every table is read from the
read models in the export's one transaction (``sheets``), with readable columns: names and
codes, not only ids; dates as dates; EUR amounts exact (``Decimal``).

An officer's export holds only their partner's rows (``Exporter.partner``); the cover says so.

The writers (``projections.export.writers``) turn the same tables into an XLSX workbook
(numbers as numbers, dates as dates, frozen headers, autofilter) or CSV files (one per
table, in a directory or a zip), every text cell passing through ``projections.escaping.cell``
so that nothing a spreadsheet would run as a formula gets through.
"""

from __future__ import annotations

from sqlalchemy import Connection

from projections import queries as q
from projections.export.books import budget, claim_lines, claims, costs, payments
from projections.export.registry import audit_trail, rates, sme_support, transfers
from projections.export.sheet import Column, Exporter, Sheet
from projections.export.writers import (
    cover,
    manifest,
    rows,
    to_csv,
    to_xlsx,
    to_zip,
    write_csv,
    write_manifest,
)

__all__ = [
    "Column",
    "Exporter",
    "Sheet",
    "cover",
    "manifest",
    "rows",
    "sheets",
    "to_csv",
    "to_xlsx",
    "to_zip",
    "write_csv",
    "write_manifest",
]


def sheets(conn: Connection, partner: str | None = None, as_of: q.AsOf | None = None) -> list[Sheet]:
    """Every table, consistently from ``conn``'s one read transaction; only ``partner``'s rows
    when one is given (an officer's export), and the budget as of ``as_of`` when given."""
    return [
        budget(conn, partner, as_of or q.AsOf()),
        claims(conn, partner),
        claim_lines(conn, partner),
        payments(conn, partner),
        costs(conn, partner),
        transfers(conn, partner),
        rates(conn),
        sme_support(conn, partner),
        audit_trail(conn, partner),
    ]
