"""Exports cannot carry code: no CSV or XLSX cell is a formula, whatever text the ledger holds,
and amounts stay numbers (OWASP "CSV injection")."""

from __future__ import annotations

import csv
import io
import itertools
import re
import unicodedata
import zipfile
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from projections import export
from projections.chain import stamp
from tests.projections.hostile import hostile_read_models

#: Columns that hold numbers: amounts (EUR and original currencies), rates, positions, versions.
NUMBERS = frozenset(
    {
        "position",
        "version",
        "line_no",
        "requested_eur",
        "approved_eur",
        "paid_eur",
        "outstanding_eur",
        "amount_eur",
        "allocated",
        "pending",
        "committed",
        "paid",
        "own_costs",
        "remaining",
        "remaining_after_pending",
        "cap_eur",
        "remaining_cap_eur",
        "amount",
        "accepted",
        "rate",
        "eur",
    }
)
#: Columns that hold dates (date cells in the workbook, YYYY-MM-DD in CSV) and recorded times.
DATES = frozenset({"submitted_on", "decided_on", "expense_date", "value_date", "cost_date", "effective_date"})
TIMES = frozenset({"recorded_at_utc"})
PLACEHOLDER = re.compile(r"ZQ\d+Z")


def starts_a_formula(text: str) -> bool:
    """What a spreadsheet may run: a tab, CR or LF first, or, past any blanks and invisible
    characters, '=', '+', '-' or '@' (or a full-width or small form of one)."""
    if text[:1] in ("\t", "\r", "\n"):
        return True
    shown = "".join(itertools.dropwhile(lambda ch: ch.isspace() or unicodedata.category(ch) in {"Cc", "Cf"}, text))
    return unicodedata.normalize("NFKC", shown[:1])[:1] in {"=", "+", "-", "@"}


def neutral(text: str) -> bool:
    return text.startswith("'") or not starts_a_formula(text)


@pytest.fixture(scope="module")
def tables() -> list[export.Sheet]:
    """The tables of a ledger whose every free text is hostile (tests/projections/hostile.py)."""
    db, _ = hostile_read_models()
    with db.reading() as conn:
        return export.sheets(conn)


class TestHostileText:
    def test_every_table_holds_text_that_starts_a_formula(self, tables: list[export.Sheet]) -> None:
        """The read models hold the hostile texts in every table (so the tests below prove something)."""
        for sheet in tables:
            hostile = [v for row in sheet.rows for v in row if isinstance(v, str) and starts_a_formula(v)]
            assert hostile, sheet.name

    def test_no_xlsx_cell_is_a_formula_and_amounts_are_numbers(self, tables: list[export.Sheet]) -> None:
        """openpyxl finds no formula and no error value: texts are string cells, those that would
        start a formula quote-prefixed; amounts, positions and versions numeric cells equal to
        the read models'."""
        book = load_workbook(io.BytesIO(export.to_xlsx(tables)))
        assert book.sheetnames == [sheet.title for sheet in tables]
        for sheet in tables:
            rows = list(book[sheet.title].iter_rows())
            assert [c.value for c in rows[0]] == list(sheet.titles)
            assert len(rows) == len(sheet.rows) + 1
            for cells, values in zip(rows[1:], sheet.rows, strict=True):
                for c, value, header in zip(cells, values, sheet.headers, strict=True):
                    assert c.data_type in {"s", "n", "d"}, (sheet.name, header, c.value)
                    if isinstance(value, datetime):
                        assert header in TIMES
                        utc = value.astimezone(UTC).replace(tzinfo=None)
                        assert (c.data_type, c.value) == ("d", utc.replace(microsecond=utc.microsecond // 1000 * 1000))
                    elif isinstance(value, date):
                        assert header in DATES
                        assert (c.data_type, c.value) == ("d", datetime.combine(value, time()))
                    elif isinstance(value, Decimal | int):
                        assert c.data_type == "n"
                        assert Decimal(str(c.value)) == value
                    elif value is None or value == "":
                        assert c.value is None
                    else:
                        assert header not in NUMBERS | DATES | TIMES, (sheet.name, header)
                        assert c.data_type == "s"
                        assert isinstance(c.value, str)
                        assert neutral(c.value), (sheet.name, header, c.value)
                        assert not PLACEHOLDER.search(c.value)

    def test_no_csv_cell_starts_a_formula_and_amounts_parse_as_decimals(
        self, tables: list[export.Sheet], tmp_path: Path
    ) -> None:
        """Read back with csv.reader, every cell that would start a formula is quote-prefixed, each
        table has its rows (no text added one) and its amounts parse as the read models' decimals."""
        paths = export.write_csv(tables, tmp_path)
        for sheet, path in zip(tables, paths, strict=True):
            rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
            assert rows[0] == list(sheet.headers)
            assert len(rows) == len(sheet.rows) + 1
            for cells, values in zip(rows[1:], sheet.rows, strict=True):
                for text, value, header in zip(cells, values, sheet.headers, strict=True):
                    assert neutral(text), (sheet.name, header, text)
                    assert not PLACEHOLDER.search(text)
                    if isinstance(value, Decimal | int):
                        assert Decimal(text) == value
                    elif isinstance(value, datetime):
                        assert datetime.fromisoformat(text) == value
                    elif isinstance(value, date):
                        assert date.fromisoformat(text) == value
                    elif header in NUMBERS | DATES:
                        assert (value, text) == (None, "")

    def test_the_zip_holds_the_same_escaped_files(self, tables: list[export.Sheet]) -> None:
        """ledger.zip's CSV files are byte for byte the escaped tables (nothing unescaped in the zip)."""
        db, _ = hostile_read_models()
        with db.reading() as conn:
            at = stamp(conn)
        archive = zipfile.ZipFile(io.BytesIO(export.to_zip(tables, at)))
        for sheet in tables:
            assert archive.read(f"{sheet.name}.csv").decode("utf-8") == export.to_csv(sheet)


class TestCells:
    SHEET = export.Sheet(
        "t",
        ("amount", "count", "text", "error", "formula", "wide", "blank", "control"),
        [(Decimal("-12.50"), -3, "-12.50", "#N/A", '=HYPERLINK("http://x","click")', "\uff1d1+1", " @x", "a\x0bb")],
    )

    def test_csv_writes_negative_amounts_as_numbers_and_prefixes_text(self) -> None:
        """-12.50 as an amount stays -12.50; as text it is '-12.50; controls become visible."""
        line = export.to_csv(self.SHEET).splitlines()[1]
        assert line == '-12.50,-3,\'-12.50,#N/A,"\'=HYPERLINK(""http://x"",""click"")",\'\uff1d1+1,\' @x,a\\u000bb'

    def test_xlsx_writes_numbers_as_numbers_and_text_as_strings(self) -> None:
        """Numbers are numeric cells; texts string cells, '#N/A' too (not an error value)."""
        row = next(load_workbook(io.BytesIO(export.to_xlsx([self.SHEET])))["t"].iter_rows(min_row=2))
        assert [c.data_type for c in row] == ["n", "n", "s", "s", "s", "s", "s", "s"]
        assert [c.value for c in row] == [
            -12.5,
            -3,
            "'-12.50",
            "#N/A",
            '\'=HYPERLINK("http://x","click")',
            "'\uff1d1+1",
            "' @x",
            "a\\u000bb",
        ]
