"""The unit of work of one projector transaction.

Handlers read and change read-model rows through a ``Batch``; it keeps every row it has read
or written in memory, by primary key, and writes them all when the batch is flushed: new rows
with one multi-row INSERT per table, changed rows with one executemany UPDATE per table and
set of changed columns. A claim submitted, approved and paid within one batch is inserted
once with its final state. Audit rows, budget movements, claim history and the budget-line
figures are collected the same way. Everything is written in the projector's transaction,
before its tracking position, so a batch is applied entirely or not at all.

Executing one statement per event cost more than everything else the projector does (the
profile of a 20k-event rebuild: 3.2 s of 6.7 s in SQLAlchemy's per-statement execution).
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from sqlalchemy import Connection, Date, Dialect, MetaData, Select, Table, Update, bindparam, insert, select, update

from ledger.money import Money
from projections import tables as t

#: Budget line figures, as stored in rm_budget_lines and rm_budget_movements.
MEASURES = ("allocated", "pending", "committed", "paid", "spent")
#: Fields every ledger event has; the audit trail keeps them in columns, the rest is payload.
_ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "actor", "effective_date"})

Key = tuple[Any, ...]
Handler = Callable[["Batch", Any], None]
#: Names of the columns a batch changed in a row.
Columns = set[str]


def plain(value: Any) -> Any:
    """An event field as JSON-ready data: money as decimal strings with currency, never a float."""
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


_JSON_FORMS: dict[type, Callable[[Any], Any]] = {
    Money: lambda m: {"amount": str(m.amount), "currency": m.currency},
    Decimal: str,
    UUID: str,
    date: date.isoformat,
    datetime: datetime.isoformat,
}


def _json_default(value: Any) -> Any:
    """``plain`` for the values JSON does not know, so the C encoder does the rest."""
    form = _JSON_FORMS.get(type(value))
    if form is not None:
        return form(value)
    converted = plain(value)
    if converted is value:
        raise TypeError(f"cannot put {type(value).__name__} into an audit payload")
    return converted


def _storable(value: Any) -> Any:
    """JSON-ready data with every string as the read models hold text (``t.storable``)."""
    if isinstance(value, str):
        return t.storable(value)
    if isinstance(value, dict):
        return {t.storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def payload_of(event: Any) -> str:
    """The event's own fields (not its envelope) as canonical JSON; a NUL in a text stands as
    in every other read-model column, so that no reader of the payload meets one."""
    fields = {k: v for k, v in vars(event).items() if k not in _ENVELOPE}
    payload = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=_json_default)
    if "\\u0000" in payload:  # rare: an event recorded before the ledger refused NUL
        payload = json.dumps(_storable(plain(fields)), sort_keys=True, separators=(",", ":"))
    return payload


class Row(dict[str, Any]):
    """A read-model row held by a batch: its columns as keys and as attributes."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


@functools.cache
def _primary_key(table: Table) -> tuple[str, ...]:
    return tuple(column.name for column in table.primary_key.columns)


@functools.cache
def _columns(table: Table) -> tuple[str, ...]:
    return tuple(column.name for column in table.columns)


Processor = Callable[[Any], Any]


def _sqlite_processor(column_type: Any, slow: Processor | None) -> Processor | None:
    """A quicker equivalent of SQLAlchemy's SQLite processing for dates and UTC times (same
    text: ``YYYY-MM-DD`` and ``YYYY-MM-DD HH:MM:SS.ffffff``), falling back to it otherwise."""
    if slow is None:
        return None
    if isinstance(column_type, t.UtcDateTime):

        def utc_time(value: Any) -> Any:
            if type(value) is datetime and value.tzinfo is UTC:
                return value.replace(tzinfo=None).isoformat(" ", "microseconds")
            return slow(value)

        return utc_time
    if isinstance(column_type, Date):

        def day(value: Any) -> Any:
            return value.isoformat() if type(value) is date else slow(value)

        return day
    return slow


@dataclass(frozen=True)
class _BulkInsert:
    """An INSERT compiled once for a dialect, with each column's bind processing."""

    sql: str
    names: tuple[str, ...]
    #: (index, processor) of the columns whose values need converting.
    processors: tuple[tuple[int, Processor], ...]
    positional: bool

    def params(self, row: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        values = [row[name] for name in self.names]
        for index, process in self.processors:
            values[index] = process(values[index])
        return tuple(values) if self.positional else dict(zip(self.names, values, strict=True))


@functools.cache
def _bulk_insert(table: Table, dialect: Dialect, schema: str | None) -> _BulkInsert:
    target = table.to_metadata(MetaData(), schema=schema) if schema else table
    compiled = insert(target).compile(dialect=dialect)
    names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(c.name for c in table.columns)
    processors = []
    for index, name in enumerate(names):
        column_type = table.c[name].type
        process: Processor | None = column_type.dialect_impl(dialect).bind_processor(dialect)
        if dialect.name == "sqlite":
            process = _sqlite_processor(column_type, process)
        if process is not None:
            processors.append((index, process))
    return _BulkInsert(compiled.string, names, tuple(processors), compiled.positional)


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows with one executemany, converting values as SQLAlchemy would but
    without its per-row statement machinery (the projector's hottest path)."""
    translate = conn.get_execution_options().get("schema_translate_map") or {}
    bulk = _bulk_insert(table, conn.dialect, translate.get(table.schema))
    conn.exec_driver_sql(bulk.sql, [bulk.params(row) for row in rows])


@functools.cache
def _update(table: Table, columns: tuple[str, ...]) -> Update:
    """UPDATE table SET col = :v_col ... WHERE key = :k_key ..., built once per shape."""
    c = table.c
    keys = _primary_key(table)
    return (
        update(table)
        .where(*(c[k] == bindparam(f"k_{k}") for k in keys))
        .values({col: bindparam(f"v_{col}") for col in columns})
    )


@functools.cache
def _select(table: Table, keys: tuple[str, ...]) -> Select[Any]:
    return select(table).where(*(table.c[k] == bindparam(f"k_{k}") for k in keys))


class Batch:
    """One projector transaction: the connection, the event being applied, and the rows."""

    def __init__(self, conn: Connection, line_keys: dict[UUID, tuple[str, str]], handlers: dict[type, Handler]) -> None:
        self.conn = conn
        self.line_keys = line_keys
        self.handlers = handlers
        self.position = 0
        self.event: Any = None
        self._seq = 0
        self._reset()

    def _reset(self) -> None:
        #: Every row read or written, by table and primary key.
        self._rows: dict[Table, dict[Key, Row]] = defaultdict(dict)
        #: Rows new in this batch (inserted at flush with their final values).
        self._new: dict[Table, dict[Key, None]] = defaultdict(dict)
        #: Rows read from the database and changed since, with the columns changed.
        self._changed: dict[Table, dict[Key, Columns]] = defaultdict(dict)
        #: Append-only rows: audit trail, budget movements, claim history.
        self._appended: dict[Table, list[dict[str, Any]]] = defaultdict(list)
        self._line_deltas: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(dict)

    def apply(self, position: int, event: DomainEventProtocol[UUID]) -> None:
        self.position, self.event, self._seq = position, event, 0
        self._appended[t.audit].append(self._audit_row(event))
        handler = self.handlers.get(type(event))
        if handler is not None:
            handler(self, event)

    def _audit_row(self, event: Any) -> dict[str, Any]:
        aggregate_type, _, event_type = type(event).__qualname__.partition(".")
        actor = event.actor
        return {
            "position": self.position,
            "recorded_at": event.timestamp,
            "effective_date": event.effective_date,
            "actor_id": actor.id,
            "role": actor.role,
            "partner": actor.partner,
            "aggregate_type": aggregate_type,
            "aggregate_id": str(event.originator_id),
            "version": event.originator_version,
            "event_type": event_type or aggregate_type,
            "reason": getattr(event, "reason", ""),
            "payload": payload_of(event),
        }

    def move(self, line: tuple[str, str], measure: str, delta: Money, *, on: date | None = None) -> None:
        """Change one figure of a budget line by ``delta`` (EUR), remembering when and why: on
        the event's business date, or ``on`` (a corrected payment moves its earlier movements)."""
        self._seq += 1
        self._appended[t.movements].append(
            {
                "position": self.position,
                "seq": self._seq,
                "recorded_at": self.event.timestamp,
                "effective_date": self.event.effective_date if on is None else on,
                "partner": line[0],
                "category": line[1],
                "measure": measure,
                "delta": delta.amount,
            }
        )
        deltas = self._line_deltas[line]
        deltas[measure] = deltas.get(measure, Decimal(0)) + delta.amount

    def history(self, claim_id: UUID, amount: Money | None = None) -> None:
        """A row in the claim's history for the current event."""
        event = self.event
        self._appended[t.claim_history].append(
            {
                "claim_id": str(claim_id),
                "version": event.originator_version,
                "position": self.position,
                "event_type": type(event).__name__,
                "recorded_at": event.timestamp,
                "effective_date": event.effective_date,
                "actor_id": event.actor.id,
                "role": event.actor.role,
                "amount": None if amount is None else amount.amount,
                "reason": getattr(event, "reason", ""),
            }
        )

    # --- rows by primary key --------------------------------------------------------------
    def _key(self, table: Table, where: dict[str, Any]) -> Key:
        keys = _primary_key(table)
        if set(where) != set(keys):
            raise ValueError(f"{table.name} rows are found by {', '.join(keys)}, not by {', '.join(where)}")
        return tuple(where[k] for k in keys)

    def _row(self, table: Table, key: Key) -> Row | None:
        rows = self._rows[table]
        row = rows.get(key)
        if row is None:
            keys = _primary_key(table)
            found = self.conn.execute(_select(table, keys), {f"k_{k}": v for k, v in zip(keys, key, strict=True)})
            stored = found.one_or_none()
            if stored is None:
                return None
            row = rows[key] = Row(stored._mapping)
        return row

    def insert(self, table: Table, rows: dict[str, Any] | list[dict[str, Any]]) -> None:
        """New rows (columns not given are NULL)."""
        for values in [rows] if isinstance(rows, dict) else rows:
            row = Row(dict.fromkeys(_columns(table)))
            row.update(values)
            key = tuple(row[k] for k in _primary_key(table))
            if key in self._rows[table]:
                raise ValueError(f"{table.name} already has a row {key} (event at position {self.position})")
            self._rows[table][key] = row
            self._new[table][key] = None

    def _change(self, table: Table, where: dict[str, Any], values: dict[str, Any], increment: bool) -> None:
        key = self._key(table, where)
        row = self._row(table, key)
        if row is None:
            raise LookupError(f"{table.name} has no row {key} for the event at position {self.position}")
        for column, value in values.items():
            row[column] = row[column] + value if increment else value
        if key not in self._new[table]:
            self._changed[table].setdefault(key, set()).update(values)

    def set(self, table: Table, where: dict[str, Any], **values: Any) -> None:
        """Set columns of the row with primary key ``where``."""
        self._change(table, where, values, increment=False)

    def add(self, table: Table, where: dict[str, Any], **deltas: Any) -> None:
        """Add to columns of the row with primary key ``where``."""
        self._change(table, where, deltas, increment=True)

    def get(self, table: Table, **where: Any) -> Any:
        """The row matching ``where`` (by primary key, as this batch left it), or None."""
        if set(where) == set(_primary_key(table)):
            return self._row(table, self._key(table, where))
        held = self._rows[table]
        for row in held.values():  # by another unique column: few rows, e.g. a rate by its id
            if all(row[k] == v for k, v in where.items()):
                return row
        found = self.conn.execute(_select(table, tuple(where)), {f"k_{k}": v for k, v in where.items()})
        stored = found.one_or_none()
        if stored is None:
            return None
        row = Row(stored._mapping)
        return held.setdefault(tuple(row[k] for k in _primary_key(table)), row)

    # --- writing --------------------------------------------------------------------------
    def flush(self) -> None:
        """Write everything the batch holds, in its transaction."""
        for (partner, category), deltas in self._line_deltas.items():
            moved = {measure: delta for measure, delta in deltas.items() if delta}
            if moved:
                self.add(t.budget_lines, {"partner": partner, "category": category}, **moved)
        for table, new in self._new.items():
            if new:
                rows = self._rows[table]
                insert_rows(self.conn, table, [rows[key] for key in new])
        for table, changed in self._changed.items():
            self._write_changes(table, changed)
        for table, appended in self._appended.items():
            if appended:
                insert_rows(self.conn, table, appended)
        self._reset()

    def _write_changes(self, table: Table, changed: dict[Key, Columns]) -> None:
        """One executemany UPDATE per set of changed columns."""
        keys = _primary_key(table)
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        rows = self._rows[table]
        for key, columns in changed.items():
            row = rows[key]
            shape = tuple(sorted(columns))
            params = {f"k_{k}": v for k, v in zip(keys, key, strict=True)}
            params.update({f"v_{c}": row[c] for c in shape})
            shapes[shape].append(params)
        for shape, params_list in shapes.items():
            self.conn.execute(_update(table, shape), params_list)
