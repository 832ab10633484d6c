"""Upgrading read models of an older layout in place, when the newer layout only adds what can
be built from the rows already there (an index, say).

A layout change that alters rows (a new column to fill, a table whose rows come from events)
has no entry here: such read models are dropped and rebuilt from the events (projections.db).
An upgrade keeps every row, the tracking position and the hash chain's seals: an index changes
how rows are found, not what they hold. ``UPGRADES[n]`` takes layout ``n`` to ``n + 1``; read
models of layout ``b`` are upgraded in place when every step from ``b`` to ``tables.LAYOUT``
has one, else rebuilt.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Index

from projections import tables


def _index(table: str, name: str) -> Index:
    return next(index for index in tables.metadata.tables[table].indexes if index.name == name)


def _costs_index(conn: Connection) -> None:
    """Layout 7: a partner's costs of a period found by partner, measure and date."""
    _index("rm_budget_movements", "ix_rm_budget_movements_costs").create(conn, checkfirst=True)


UPGRADES: dict[int, Callable[[Connection], None]] = {6: _costs_index}


def upgradable(built: int) -> bool:
    """Whether read models of layout ``built`` (older than this release's) can be upgraded in place."""
    return built < tables.LAYOUT and all(step in UPGRADES for step in range(built, tables.LAYOUT))


def upgrade(conn: Connection, built: int) -> None:
    """Take read models of layout ``built`` to this release's, in ``conn``'s transaction (the
    caller records the new layout in the same one)."""
    for step in range(built, tables.LAYOUT):
        UPGRADES[step](conn)
