"""A budget line whose snapshots an attacker may doctor, and the raw snapshot rows as someone
with write access to the database sees them (SQLite file or PostgreSQL schema).

The story: POINTEX's FSTP line opens with EUR 3,000; 99 budget transfers of EUR 10 move
money out of it into POINTEX PERSONNEL (the FSTP line reaches version 100, the PERSONNEL
line too: both are snapshotted at versions 50 and 100); then a claim of EUR 1,500 is
approved (FSTP version 101). The true line has EUR 2,010 allocated and EUR 1,500 committed,
so EUR 510 remain, and a second claim of EUR 700 (submitted, not yet approved) must be
refused with BudgetExceeded. Every attack below makes the loaded line show more room.
"""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from ledger.application import GrantLedger
from ledger.budget import line_id
from ledger.storage import open_ledger
from tests.builders import COORDINATOR, eur, eur_line, officer, open_mission, selected_sme, sign_alliance, submit

#: Transfers out of the FSTP line: it reaches version 100 (snapshots at 50 and 100).
TRANSFERS = 99
FSTP_ALLOCATED = "3000.00"
#: The true FSTP line at version 100 (3,000 - 99 x 10) and its encoded allocation.
ALLOCATED_AT_100 = "2010.00"
APPROVED_AT = date(2023, 4, 5)


@dataclass(frozen=True)
class Story:
    url: str
    cipher_key: str | None
    line: UUID
    """POINTEX FSTP: snapshots at 50 and 100, last event 101."""
    donor: UUID
    """POINTEX PERSONNEL: another budget line with a snapshot at 100."""
    pending_claim: UUID
    """Submitted, EUR 700 to approve: more than the EUR 510 that truly remain."""

    def open(self) -> GrantLedger:
        return open_ledger(self.url, cipher_key=self.cipher_key)

    def approve_pending(self, app: GrantLedger) -> None:
        app.approve_claim(actor=officer("POINTEX"), claim_id=self.pending_claim, on=APPROVED_AT)


def build(url: str, cipher_key: str | None, fstp: str = FSTP_ALLOCATED) -> Story:
    """The story on ``url`` (``fstp``: the FSTP line's opening allocation, another for a second store)."""
    app = open_ledger(url, cipher_key=cipher_key)
    try:
        sign_alliance(app, fstp=fstp)
        mission = open_mission(app)
        for i in range(TRANSFERS):
            app.transfer_budget(
                actor=COORDINATOR,
                transfer_id=uuid.uuid4(),
                from_partner="POINTEX",
                from_category="FSTP",
                to_partner="POINTEX",
                to_category="PERSONNEL",
                amount=eur("10.00"),
                decision_ref=f"SC-{i}",
                reason="consortium decision",
                on=date(2022, 3, 1),
            )
        first = submit(app, mission, selected_sme(app, mission), eur_line("2142.86"))
        assert app.approve_claim(actor=officer("POINTEX"), claim_id=first, on=APPROVED_AT) == eur("1500.00")
        pending = submit(app, mission, selected_sme(app, mission), eur_line("1000.00"))
        assert app.budget_line("POINTEX", "FSTP").version == TRANSFERS + 2
        return Story(url, cipher_key, line_id("POINTEX", "FSTP"), line_id("POINTEX", "PERSONNEL"), pending)
    finally:
        app.close()


class RawSnapshots:
    """The snapshot table of a store, read and written behind the ledger's back."""

    def __init__(self, url: str) -> None:
        self.url = url

    @contextlib.contextmanager
    def _sqlite(self) -> Iterator[sqlite3.Connection]:
        with contextlib.closing(sqlite3.connect(self.url.removeprefix("sqlite:///"))) as conn, conn:
            yield conn

    @contextlib.contextmanager
    def _postgres(self) -> Iterator[tuple[object, str]]:
        import psycopg

        base, _, query = self.url.partition("?")
        schema = query.removeprefix("schema=")
        with psycopg.connect(base, autocommit=True) as conn:
            yield conn, f'"{schema}".grantledger_snapshots'

    def read(self, aggregate_id: UUID, version: int) -> bytes:
        if self.url.startswith("sqlite"):
            with self._sqlite() as conn:
                row = conn.execute(
                    "SELECT state FROM stored_snapshots WHERE originator_id = ? AND originator_version = ?",
                    (aggregate_id.hex, version),
                ).fetchone()
        else:
            with self._postgres() as (conn, table):
                row = conn.execute(  # type: ignore[attr-defined]
                    f"SELECT state FROM {table} WHERE originator_id = %s AND originator_version = %s",  # noqa: S608
                    (aggregate_id, version),
                ).fetchone()
        assert row is not None, f"no snapshot of {aggregate_id} at version {version}"
        return bytes(row[0])

    def write(self, aggregate_id: UUID, version: int, state: bytes) -> None:
        """Put ``state`` in the row of ``aggregate_id`` at ``version``, inserting it if there is none."""
        topic = "eventsourcing.domain:Snapshot"
        if self.url.startswith("sqlite"):
            with self._sqlite() as conn:
                key = (aggregate_id.hex, version)
                conn.execute("DELETE FROM stored_snapshots WHERE originator_id = ? AND originator_version = ?", key)
                conn.execute("INSERT INTO stored_snapshots VALUES (?, ?, ?, ?)", (*key, topic, state))
        else:
            with self._postgres() as (conn, table):
                pk = (aggregate_id, version)
                conn.execute(  # type: ignore[attr-defined]
                    f"DELETE FROM {table} WHERE originator_id = %s AND originator_version = %s",  # noqa: S608
                    pk,
                )
                conn.execute(  # type: ignore[attr-defined]
                    f"INSERT INTO {table} VALUES (%s, %s, %s, %s)",  # noqa: S608
                    (*pk, topic, state),
                )

    def versions(self, aggregate_id: UUID) -> list[int]:
        if self.url.startswith("sqlite"):
            with self._sqlite() as conn:
                rows = conn.execute(
                    "SELECT originator_version FROM stored_snapshots WHERE originator_id = ? ORDER BY 1",
                    (aggregate_id.hex,),
                ).fetchall()
        else:
            with self._postgres() as (conn, table):
                rows = conn.execute(  # type: ignore[attr-defined]
                    f"SELECT originator_version FROM {table} WHERE originator_id = %s ORDER BY 1",  # noqa: S608
                    (aggregate_id,),
                ).fetchall()
        return [int(row[0]) for row in rows]


def edit(story: Story) -> int:
    """Raise the allocation in the latest snapshot (readable JSON), or change one byte of it
    (ciphertext): the row at version 100."""
    raw = RawSnapshots(story.url)
    state = raw.read(story.line, 100)
    if story.cipher_key is None:
        needle = f'"{ALLOCATED_AT_100}"'.encode()
        assert state.count(needle) == 1, state
        changed = state.replace(needle, b'"90010.00"')
    else:
        flipped = bytearray(state)
        flipped[-5] ^= 0x01
        changed = bytes(flipped)
    raw.write(story.line, 100, changed)
    return 100


def roll_back(story: Story) -> int:
    """Copy the older snapshot (version 50: 490 moved out, not 990) into the row of version 100."""
    raw = RawSnapshots(story.url)
    raw.write(story.line, 100, raw.read(story.line, 50))
    return 100


def move(story: Story) -> int:
    """Copy another budget line's snapshot (POINTEX PERSONNEL, version 100) into the FSTP line's row."""
    raw = RawSnapshots(story.url)
    raw.write(story.line, 100, raw.read(story.donor, 100))
    return 100


def forge(story: Story) -> int:
    """Insert a snapshot row for version 101, which had none, holding version 50's bytes."""
    raw = RawSnapshots(story.url)
    assert 101 not in raw.versions(story.line)
    raw.write(story.line, 101, raw.read(story.line, 50))
    return 101


ATTACKS = {"edit": edit, "roll_back": roll_back, "move": move, "forge": forge}
