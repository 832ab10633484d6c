"""A file of monthly exchange rates to import: CSV text with the header
``currency,month,rate`` or ``currency,month,rate,source`` (InforEuro when no source is given).

``read_rate_file`` reads every row with the ledger's own parsing (ledger.money, ledger.rates)
and says, for each row, what it would record or every problem it has, in the ledger's words;
nothing here knows what is recorded already (that check is the Application's, at the time of
recording: ``check_rates`` and ``record_rates`` in ledger.usecases.costs). Pure: no I/O.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from ledger.errors import LedgerError
from ledger.money import EUR, check_currency, parse_rate
from ledger.rates import DEFAULT_SOURCE, parse_month
from ledger.text import clean_text

COLUMNS = ("currency", "month", "rate")
OPTIONAL_COLUMNS = ("source",)
#: At most this many rows in one import (a year of every ISO currency is far fewer).
MAX_ROWS = 5000
HEADER_HINT = "write the header currency,month,rate or currency,month,rate,source"


@dataclass(frozen=True, slots=True)
class NewRate:
    """A monthly rate to record: units of ``currency`` one euro buys in ``month``."""

    currency: str
    month: str
    rate: Decimal
    source: str


@dataclass(frozen=True, slots=True)
class RateCheck:
    """What the ledger says of one rate to import: a problem (it would be refused), or that it
    is recorded already as given (nothing to record), or neither (it would be recorded)."""

    problem: str | None = None
    already: bool = False


@dataclass(frozen=True, slots=True)
class RateRow:
    """One row of the file: its line number, its cells as written, and the rate it gives or
    its problems (several, joined with "; ")."""

    line: int
    cells: tuple[str, ...]
    rate: NewRate | None
    problem: str | None = None
    already: bool = False


@dataclass(frozen=True, slots=True)
class RateFile:
    """The rows of a rates file; ``problem`` is one of the file as a whole (its encoding, its
    header, its size), which leaves no row to read."""

    rows: tuple[RateRow, ...] = ()
    problem: str | None = None

    @property
    def bad(self) -> tuple[RateRow, ...]:
        return tuple(row for row in self.rows if row.problem is not None)

    @property
    def ok(self) -> bool:
        return self.problem is None and bool(self.rows) and not self.bad

    @property
    def rates(self) -> tuple[NewRate, ...]:
        """The rates the good rows give (in file order)."""
        return tuple(row.rate for row in self.rows if row.rate is not None and row.problem is None)

    def checked(self, checks: Mapping[int, RateCheck]) -> RateFile:
        """The file with the ledger's checks of its rates (by line number) added to its rows."""
        rows = []
        for row in self.rows:
            check = checks.get(row.line)
            if check is None:
                rows.append(row)
            elif check.problem is not None:
                rows.append(replace(row, problem=_joined(row.problem, check.problem)))
            else:
                rows.append(replace(row, already=check.already))
        return replace(self, rows=tuple(rows))


def _joined(first: str | None, second: str) -> str:
    return second if first is None else f"{first}; {second}"


def decoded(data: bytes) -> str:
    """UTF-8 text (a byte-order mark, as spreadsheets write it, is dropped); a LedgerError
    naming the line of the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise RateFileError(
            f"line {line}: byte 0x{data[error.start]:02x} is not UTF-8; save the file as CSV UTF-8"
        ) from None


class RateFileError(LedgerError):
    title = "Not a rates file"


def _header_problem(header: list[str] | None) -> str | None:
    if header is None:
        return f"the file is empty; {HEADER_HINT}, then a row per rate"
    names = [name.strip().lower() for name in header]
    missing = [name for name in COLUMNS if name not in names]
    unknown = [name for name in names if name not in COLUMNS + OPTIONAL_COLUMNS]
    twice = sorted({name for name in names if names.count(name) > 1})
    problems = [
        *([f"no {', '.join(missing)} column"] if missing else []),
        *([f"the unknown column {', '.join(repr(name) for name in unknown)}"] if unknown else []),
        *([f"the column {', '.join(twice)} twice"] if twice else []),
    ]
    return f"line 1: the header has {'; '.join(problems)}; {HEADER_HINT}" if problems else None


def read_rate_row(line: int, columns: list[str], cells: list[str]) -> RateRow:
    """One row: the rate it gives, or every problem it has in the ledger's words (empty cells
    past the header's columns, as spreadsheets write them, are no problem). The rate is read
    as written, as the API and the CLI read one (" 155.12" is refused: spaces around it)."""
    problems: list[str] = []
    if len(cells) > len(columns) and any(cell.strip() for cell in cells[len(columns) :]):
        surplus = ", ".join(repr(cell) for cell in cells[len(columns) :])
        problems.append(f"{len(cells)} cells under a header of {len(columns)} columns; remove the surplus ({surplus})")
    raw = dict(zip(columns, cells, strict=False))
    row = {name: cell.strip() for name, cell in raw.items()}
    currency, month = row.get("currency", "").upper(), row.get("month", "")
    rate: Decimal | None = None
    source = ""
    try:
        if currency == EUR:
            raise RateFileError("EUR needs no exchange rate: it converts to itself at 1")
        check_currency(currency)
    except LedgerError as error:
        problems.append(error.detail)
    try:
        parse_month(month)
    except LedgerError as error:
        problems.append(error.detail)
    try:
        rate = parse_rate(raw.get("rate", ""), "the rate")  # as the API reads a rate: no padding
    except LedgerError as error:
        problems.append(error.detail)
    try:
        source = clean_text(row.get("source") or DEFAULT_SOURCE, "source")
    except LedgerError as error:
        problems.append(error.detail)
    shown = tuple(cells)
    if problems or rate is None:
        return RateRow(line, shown, None, "; ".join(problems))
    return RateRow(line, shown, NewRate(currency, month, rate, source))


def read_rate_file(text: str, *, max_rows: int = MAX_ROWS) -> RateFile:
    """Every row of a rates file, read (blank lines skipped); a file problem if its header is
    not a rates header or it has more than ``max_rows`` rows."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        problem = _header_problem(header)
        if problem is not None or header is None:
            return RateFile(problem=problem)
        columns = [name.strip().lower() for name in header]
        rows: list[RateRow] = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) == max_rows:
                too_many = f"the file has more than {max_rows:,} rates; import at most {max_rows:,} at once"
                return RateFile(problem=too_many)
            rows.append(read_rate_row(reader.line_num, columns, cells))
    except csv.Error as error:
        return RateFile(problem=f"line {reader.line_num}: the CSV cannot be read ({error})")
    if not rows:
        return RateFile(problem="the file has a header but no rates; add a row per rate under it")
    return RateFile(rows=tuple(rows))
