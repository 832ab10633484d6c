"""Read-model rows in bulk: one multi-row INSERT per table, executemany UPDATEs and DELETEs by
primary key, and a quicker SQLite processing of dates and times (projections/batch.py uses them)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Delete,
    Dialect,
    MetaData,
    Select,
    Table,
    TypeDecorator,
    Update,
    bindparam,
    delete,
    insert,
    select,
    update,
)

from projections.columns import NUL_STANDIN, StoredText, UtcDateTime

Key = tuple[Any, ...]


class Row(dict[str, Any]):
    """A read-model row held by a batch: its columns as keys and as attributes."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


@functools.cache
def primary_key(table: Table) -> tuple[str, ...]:
    return tuple(column.name for column in table.primary_key.columns)


@functools.cache
def columns_of(table: Table) -> tuple[str, ...]:
    return tuple(column.name for column in table.columns)


Processor = Callable[[Any], Any]


def _sqlite_processor(column_type: Any, slow: Processor | None) -> Processor | None:
    """A quicker equivalent of SQLAlchemy's SQLite processing for dates and UTC times (same
    text: ``YYYY-MM-DD`` and ``YYYY-MM-DD HH:MM:SS.ffffff``), falling back to it otherwise."""
    if slow is None:
        return None
    if isinstance(column_type, UtcDateTime):

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


def _stored_text(value: Any) -> Any:
    """``StoredText``'s conversion (``columns.storable``) in one call, not three."""
    return value.replace("\x00", NUL_STANDIN) if isinstance(value, str) and "\x00" in value else value


def _direct_processor(column_type: Any, dialect: Dialect, slow: Processor | None) -> Processor | None:
    """A column type's own conversion, called directly rather than through SQLAlchemy's
    TypeDecorator wrapper, when the type it decorates converts nothing itself (text and
    integers on both stores): the same values, a call less for every value of a bulk insert."""
    if slow is None or not isinstance(column_type, TypeDecorator):
        return slow
    if column_type.impl_instance.dialect_impl(dialect).bind_processor(dialect) is not None:
        return slow
    if isinstance(column_type, StoredText):
        return _stored_text
    convert = column_type.process_bind_param
    return lambda value: convert(value, dialect)


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
        process = _direct_processor(column_type, dialect, process)
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
def update_by_key(table: Table, columns: tuple[str, ...]) -> Update:
    """UPDATE table SET col = :v_col ... WHERE key = :k_key ..., built once per shape."""
    c = table.c
    keys = primary_key(table)
    return (
        update(table)
        .where(*(c[k] == bindparam(f"k_{k}") for k in keys))
        .values({col: bindparam(f"v_{col}") for col in columns})
    )


@functools.cache
def delete_by_key(table: Table) -> Delete:
    return delete(table).where(*(table.c[k] == bindparam(f"k_{k}") for k in primary_key(table)))


@functools.cache
def select_by(table: Table, keys: tuple[str, ...]) -> Select[Any]:
    """SELECT * FROM table WHERE key = :k_key ..., built once per shape (a statement built anew
    costs more than running it: SQLAlchemy compares, builds and keys every clause again)."""
    return select(table).where(*(table.c[k] == bindparam(f"k_{k}") for k in keys))
