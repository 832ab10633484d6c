"""What an exported table is: its columns (a CSV header, a workbook title, a kind) and rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

#: How a column's values are written in the workbook: text; a EUR amount (``#,##0.00``); an
#: amount in the row's own currency (its ISO 4217 decimals); a rate (its exact digits); a
#: whole number; a date; a recorded time (UTC).
Kind = Literal["text", "eur", "amount", "rate", "int", "date", "time"]


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: Kind = "text"


@dataclass(frozen=True)
class Sheet:
    """One table: ``name`` names its CSV file, ``headers`` are the CSV header (snake_case keys);
    the workbook shows ``title`` as the sheet's name and ``titles`` as its header row."""

    name: str
    headers: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    title: str = ""
    titles: tuple[str, ...] = ()
    kinds: tuple[Kind, ...] = ()
    #: Rows (0-based, among ``rows``) that are totals: bold in the workbook.
    totals: frozenset[int] = field(default_factory=frozenset)

    def kind(self, column: int) -> Kind:
        return self.kinds[column] if column < len(self.kinds) else "text"


def table(name: str, title: str, columns: Sequence[Column], rows: list[tuple[Any, ...]], **extra: Any) -> Sheet:
    if any(len(row) != len(columns) for row in rows):
        raise ValueError(f"a row of {name} does not have its {len(columns)} columns")
    return Sheet(
        name=name,
        headers=tuple(c.key for c in columns),
        rows=rows,
        title=title,
        titles=tuple(c.title for c in columns),
        kinds=tuple(c.kind for c in columns),
        **extra,
    )


@dataclass(frozen=True)
class Exporter:
    """Who made an export, as the cover names them; ``partner`` set: only that partner's rows."""

    name: str
    role: str
    partner: str | None = None

    @property
    def scope(self) -> str:
        if self.partner is None:
            return "all partners"
        return f"{self.partner} only: the rows of {self.partner}'s budget lines, claims, payments and costs"
