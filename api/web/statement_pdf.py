"""A partner's financial statement as the screen shows it and as a PDF: one body
(templates/_statement.html) for both, the PDF rendered from it by WeasyPrint with the print
stylesheet (static/print.css), so what is downloaded is what was read on screen: the columns of
the EU form, the totals, the adjustments, and the position, head seal and digest.

WeasyPrint needs the system's Pango (Debian: libpango-1.0-0, libpangoft2-1.0-0); without it a
PDF is refused with PdfUnavailable, saying what to install, and nothing else is affected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from api.reporting import StatementView, grant_name, statement_view
from api.web.missions import percent
from api.web.render import HERE, environment
from ledger.reporting import TITLES, Column
from projections import tables as t

PRINT_CSS = HERE / "static" / "print.css"
PANGO = "PDF needs Pango: apt-get install libpango-1.0-0 libpangoft2-1.0-0"


class PdfUnavailable(RuntimeError):
    """The PDF cannot be made on this machine (WeasyPrint or the system's Pango is missing)."""


@dataclass(frozen=True)
class Line:
    """One column of the EU form: its letter, title, eligible costs, rate and EU contribution."""

    column: str
    title: str
    costs: Decimal
    rate: Decimal
    contribution: Decimal


def lines_of(view: StatementView) -> list[Line]:
    """The statement's lines, one per column of the EU form, in its order."""
    figures = view.statement.figures
    return [
        Line(
            column.value,
            TITLES[column],
            figures.costs[column].amount,
            view.rates[column],
            figures.contribution_by_column[column].amount,
        )
        for column in Column
    ]


def body(conn: Connection, view: StatementView) -> dict[str, Any]:
    """What the statement's body shows besides ``view``: the form's lines in its order, the
    funding rate as one figure (or "by category"), the partner's name, the adjustments with
    their columns' titles, the grant's name and when it was made."""
    rates = set(view.rates.values())
    rate = percent(rates.pop()) if len(rates) == 1 else "by category, as above"
    partner = view.statement.partner
    name = conn.execute(select(t.partners.c.name).where(t.partners.c.code == partner)).scalar_one_or_none()
    return {
        "lines": lines_of(view),
        "funding_rate": rate,
        "partner_name": name or partner,
        "grant": grant_name(conn),
        "adjustments": [(a, TITLES[a.column]) for a in view.adjustments],
        "made": datetime.now(UTC),
    }


def statement_html(conn: Connection, view: StatementView) -> str:
    """The statement as a printable page (the PDF's source)."""
    return environment.get_template("statement_pdf.html").render(view=view, body=body(conn, view))


def html_to_pdf(html: str) -> bytes:
    """``html`` as a PDF with the print stylesheet; PdfUnavailable without WeasyPrint or Pango."""
    try:
        import weasyprint  # type: ignore[import-untyped]  # no type information shipped
    except (ImportError, OSError) as missing:  # OSError: the Pango library cannot be loaded
        raise PdfUnavailable(f"{PANGO} (and pip install weasyprint): {missing}") from None
    pdf: bytes = weasyprint.HTML(string=html, base_url=str(HERE)).write_pdf(
        stylesheets=[weasyprint.CSS(filename=str(PRINT_CSS))]
    )
    return pdf


def render_statement_pdf(conn: Connection, partner: str, number: int) -> bytes:
    """Partner ``partner``'s statement for period ``number`` as a PDF, from the same template as
    the screen: as signed once signed (its position, seal and digest), else as recorded now."""
    return html_to_pdf(statement_html(conn, statement_view(conn, partner, number)))


def pdf_name(partner: str, number: int) -> str:
    """The download's file name: statement-POINTEX-P2.pdf."""
    return f"statement-{partner}-P{number}.pdf"
