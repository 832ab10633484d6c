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

from collections import defaultdict
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from sqlalchemy import (
    Connection,
    Table,
)

from ledger.money import Money
from projections import tables as t
from projections.payloads import payload_of, plain
from projections.rows import Key, Row, columns_of, delete_by_key, insert_rows, primary_key, select_by, update_by_key

#: Budget line figures, as stored in rm_budget_lines and rm_budget_movements.
MEASURES = ("allocated", "pending", "committed", "paid", "spent")

Handler = Callable[["Batch", Any], None]
#: Names of the columns a batch changed in a row.
Columns = set[str]


__all__ = ["MEASURES", "Batch", "Handler", "insert_rows", "payload_of", "plain"]


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
        #: Rows read from the database and deleted since (deleted at flush, before inserts).
        self._deleted: dict[Table, dict[Key, None]] = defaultdict(dict)
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

    def move(
        self, line: tuple[str, str], measure: str, delta: Money, *, on: date | None = None, ref: UUID | None = None
    ) -> None:
        """Change one figure of a budget line by ``delta`` (EUR), remembering when and why: on
        the event's business date, or ``on`` (a corrected payment moves its earlier movements),
        for the record ``ref`` (the cost an own cost's movement charges)."""
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
                "ref": None if ref is None else str(ref),
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
        keys = primary_key(table)
        if set(where) != set(keys):
            raise ValueError(f"{table.name} rows are found by {', '.join(keys)}, not by {', '.join(where)}")
        return tuple(where[k] for k in keys)

    def _row(self, table: Table, key: Key) -> Row | None:
        rows = self._rows[table]
        row = rows.get(key)
        if row is None and key in self._deleted[table]:
            return None
        if row is None:
            keys = primary_key(table)
            found = self.conn.execute(select_by(table, keys), {f"k_{k}": v for k, v in zip(keys, key, strict=True)})
            stored = found.one_or_none()
            if stored is None:
                return None
            row = rows[key] = Row(stored._mapping)
        return row

    def insert(self, table: Table, rows: dict[str, Any] | list[dict[str, Any]]) -> None:
        """New rows (columns not given are NULL)."""
        for values in [rows] if isinstance(rows, dict) else rows:
            row = Row(dict.fromkeys(columns_of(table)))
            row.update(values)
            key = tuple(row[k] for k in primary_key(table))
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

    def delete(self, table: Table, where: dict[str, Any]) -> None:
        """Delete the row with primary key ``where`` (a row no longer true, e.g. the approved
        amount of a claim whose approval was revoked)."""
        key = self._key(table, where)
        if self._row(table, key) is None:
            raise LookupError(f"{table.name} has no row {key} to delete for the event at position {self.position}")
        del self._rows[table][key]
        self._changed[table].pop(key, None)
        if key in self._new[table]:
            del self._new[table][key]  # never written: nothing to delete at flush
        else:
            self._deleted[table][key] = None

    def get(self, table: Table, **where: Any) -> Any:
        """The row matching ``where`` (by primary key, as this batch left it), or None."""
        if set(where) == set(primary_key(table)):
            return self._row(table, self._key(table, where))
        held = self._rows[table]
        for row in held.values():  # by another unique column: few rows, e.g. a rate by its id
            if all(row[k] == v for k, v in where.items()):
                return row
        found = self.conn.execute(select_by(table, tuple(where)), {f"k_{k}": v for k, v in where.items()})
        stored = found.one_or_none()
        if stored is None:
            return None
        row = Row(stored._mapping)
        return held.setdefault(tuple(row[k] for k in primary_key(table)), row)

    # --- writing --------------------------------------------------------------------------
    def flush(self) -> None:
        """Write everything the batch holds, in its transaction."""
        for (partner, category), deltas in self._line_deltas.items():
            moved = {measure: delta for measure, delta in deltas.items() if delta}
            if moved:
                self.add(t.budget_lines, {"partner": partner, "category": category}, **moved)
        for table, deleted in self._deleted.items():
            if deleted:
                self.conn.execute(delete_by_key(table), [self._key_params(table, key) for key in deleted])
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

    @staticmethod
    def _key_params(table: Table, key: Key) -> dict[str, Any]:
        return {f"k_{k}": v for k, v in zip(primary_key(table), key, strict=True)}

    def _write_changes(self, table: Table, changed: dict[Key, Columns]) -> None:
        """One executemany UPDATE per set of changed columns."""
        keys = primary_key(table)
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        rows = self._rows[table]
        for key, columns in changed.items():
            row = rows[key]
            shape = tuple(sorted(columns))
            params = {f"k_{k}": v for k, v in zip(keys, key, strict=True)}
            params.update({f"v_{c}": row[c] for c in shape})
            shapes[shape].append(params)
        for shape, params_list in shapes.items():
            self.conn.execute(update_by_key(table, shape), params_list)
