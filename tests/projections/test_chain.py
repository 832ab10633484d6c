"""The hash chain: `verify` proves the stored history is the one the projector sealed, and names
the first position where someone with database access changed, removed, moved or slipped in a row.

Tampering is done the way an intruder would: plain SQL on the event store's own table (SQLite's
``stored_events``, PostgreSQL's ``grantledger_events``), never through the application. The tests
also pin down what the chain cannot see, so nobody relies on it for more than it gives.
"""

from __future__ import annotations

import gc
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import Engine, Executable, column, create_engine, delete, insert, select, table, update
from sqlalchemy.engine import URL

from api.cli import main
from api.demo_data import COORDINATOR
from bench.workload import Workload
from ledger.application import GrantLedger
from ledger.storage import open_ledger
from projections import tables as t
from projections.chain import GENESIS, HIGH_WATER, Verdict, seal, verify
from projections.db import ENV_READ_URL, ReadDatabase, read_url_for
from projections.projector import Projector
from projections.replay import rebuild, scratch_database

#: The position the tampering tests aim at (an exchange rate recorded while setting up).
TARGET = 57
HEX64 = re.compile(r"[0-9a-f]{64}")
COLUMNS = ("originator_id", "originator_version", "topic", "state")


class StoredEvents:
    """The event store's table reached with plain SQL, as anyone holding the database
    credentials could: nothing here goes through the application or its recorder."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme == "sqlite":
            self.engine: Engine = create_engine(URL.create("sqlite", database=unquote(parts.path[1:])))
            name, position, schema = "stored_events", "rowid", None
        else:
            self.engine = create_engine(
                URL.create(
                    "postgresql+psycopg",
                    username=parts.username or "postgres",
                    host=parts.hostname,
                    port=parts.port or 5432,
                    database=parts.path.lstrip("/"),
                )
            )
            name, position, schema = "grantledger_events", "notification_id", parse_qs(parts.query)["schema"][0]
        self.events = table(name, *(column(c) for c in (*COLUMNS, position)), schema=schema)
        self.position = self.events.c[position]

    def close(self) -> None:
        self.engine.dispose()

    def positions(self) -> list[int]:
        with self.engine.connect() as conn:
            return [int(p) for p in conn.execute(select(self.position).order_by(self.position)).scalars()]

    def row(self, position: int) -> dict[str, Any]:
        query = select(*(self.events.c[c] for c in COLUMNS)).where(self.position == position)
        with self.engine.connect() as conn:
            return dict(conn.execute(query).mappings().one())

    def flip_byte(self, position: int, index: int = 10) -> None:
        """Change exactly one byte of the stored state at ``position``."""
        state = bytearray(self.row(position)["state"])
        state[index] ^= 0x01
        self._run(update(self.events).where(self.position == position).values(state=bytes(state)))

    def update_state(self, position: int, state: bytes) -> None:
        """Overwrite the stored state at ``position``."""
        self._run(update(self.events).where(self.position == position).values(state=state))

    def delete(self, position: int) -> dict[str, Any]:
        """Remove the row at ``position``; what it held."""
        row = self.row(position)
        self._run(delete(self.events).where(self.position == position))
        return row

    def insert(self, row: dict[str, Any], position: int | None = None) -> None:
        """Write a row at ``position``, or where the store's own numbering puts it (the end)."""
        values = {c: row[c] for c in COLUMNS}
        if position is not None:
            values[self.position.name] = position
        self._run(insert(self.events).values(values))

    def swap(self, p: int, q: int) -> None:
        """Exchange everything two rows hold (ids, versions, topics, states) but their positions."""
        first, second = self.delete(p), self.delete(q)
        self.insert(second, p)
        self.insert(first, q)

    def _run(self, statement: Executable) -> None:
        with self.engine.begin() as conn:
            conn.execute(statement)


@dataclass
class Ledger:
    """One store with its read models, its projector and a way around the application."""

    url: str
    app: GrantLedger
    db: ReadDatabase
    projector: Projector
    stored: StoredEvents

    def verify(self) -> Verdict:
        return verify(self.app, self.db)

    def chain(self, db: ReadDatabase | None = None) -> list[tuple[int, str]]:
        """Every (position, seal) row of rm_chain, in order."""
        with (db or self.db).reading() as conn:
            rows = conn.execute(select(t.chain.c.position, t.chain.c.seal).order_by(t.chain.c.position))
            return [(int(position), str(value)) for position, value in rows]

    def record_rates(self, months: int) -> None:
        """Record ``months`` new GBP rates through the application: one new event each."""
        for month in range(1, months + 1):
            self.app.record_rate(actor=COORDINATOR, currency="GBP", month=f"2022-{month:02d}", rate=Decimal("0.8512"))


@pytest.fixture
def recorded(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ledger]:
    """A history of 40 claims (about 500 events) recorded through the application, not projected yet."""
    monkeypatch.delenv(ENV_READ_URL, raising=False)  # the CLI must find the same read models
    app = open_ledger(store_url)
    db = ReadDatabase(read_url_for(store_url, environ={}))
    stored = StoredEvents(store_url)
    try:
        Workload(app, seed=3).run(40)
        yield Ledger(store_url, app, db, Projector(app, db), stored)
    finally:
        stored.close()
        db.close()
        app.close()


@pytest.fixture
def sealed(recorded: Ledger) -> Ledger:
    """The same history, projected: every event sealed."""
    recorded.projector.catch_up()
    return recorded


class TestUntouchedStore:
    def test_every_event_matches_its_seal(self, sealed: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
        """An untouched store is intact: every stored event was checked, none is unsealed, and
        the head is the last position with a 64-hex-digit seal that two verifications agree on;
        `grantledger verify` exits 0 and prints that seal."""
        positions = sealed.stored.positions()
        first, second = sealed.verify(), sealed.verify()
        assert first.intact
        assert first.checked == len(positions)
        assert first.head_position == positions[-1]
        assert HEX64.fullmatch(first.head_seal)
        assert first.head_seal != GENESIS
        assert (first.unsealed, first.first_bad_position, first.problem) == (0, None, "")
        assert second == first
        assert main(["--database-url", sealed.url, "verify"]) == 0
        assert first.head_seal in capsys.readouterr().out

    def test_a_rebuild_seals_the_same_chain(self, sealed: Ledger) -> None:
        """Read models rebuilt from the events into an empty database carry exactly the live
        rm_chain rows, so the head seal an auditor wrote down survives a rebuild."""
        live = sealed.verify()
        with scratch_database(sealed.db) as fresh:
            assert rebuild(sealed.app, fresh) == live.checked
            assert sealed.chain(fresh) == sealed.chain()
            rebuilt = verify(sealed.app, fresh)
        assert rebuilt == live

    def test_an_empty_store_is_intact_at_genesis(self, tmp_path: Path) -> None:
        """Before any event there is nothing to check: intact, at position 0, with the genesis seal."""
        app = open_ledger(f"sqlite:///{tmp_path / 'empty.db'}")
        db = ReadDatabase("sqlite://")
        try:
            assert verify(app, db) == Verdict(True, 0, 0, GENESIS)
        finally:
            db.close()
            app.close()


class TestTampering:
    def test_one_changed_byte_is_named(self, sealed: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
        """One byte changed in one stored event's state breaks the chain exactly there: verify
        names that position and says the event is not the one sealed; everything before it
        still checks; `grantledger verify` exits 1 and prints the position."""
        before = sealed.verify()
        assert TARGET in sealed.stored.positions()
        sealed.stored.flip_byte(TARGET)
        verdict = sealed.verify()
        assert not verdict.intact
        assert verdict.first_bad_position == TARGET
        assert "changed or moved" in verdict.problem
        assert verdict.checked == TARGET - 1
        assert verdict.head_position == TARGET - 1
        assert (TARGET - 1, verdict.head_seal) in sealed.chain()
        assert verdict.head_seal != before.head_seal
        assert main(["--database-url", sealed.url, "verify"]) == 1
        assert f"TAMPERED at position {TARGET}" in capsys.readouterr().out

    @pytest.mark.parametrize("where", ["middle", "head"])
    def test_a_deleted_row_is_named(self, sealed: Ledger, where: str) -> None:
        """A sealed event removed from the store, in the middle of the history or at its head,
        is named at the position it was sealed at, as deleted."""
        position = TARGET if where == "middle" else sealed.stored.positions()[-1]
        sealed.stored.delete(position)
        verdict = sealed.verify()
        assert not verdict.intact
        assert verdict.first_bad_position == position
        assert "deleted" in verdict.problem

    def test_two_swapped_rows_are_named_at_the_first(self, sealed: Ledger) -> None:
        """Two events that trade places (originator, version, topic and state all moved, the
        positions kept) break the chain at the earlier of the two positions."""
        p, q = TARGET, TARGET + 200
        moved = sealed.stored.row(q)
        sealed.stored.swap(p, q)
        assert sealed.stored.row(p) == moved
        verdict = sealed.verify()
        assert not verdict.intact
        assert verdict.first_bad_position == p
        assert "changed or moved" in verdict.problem

    def test_a_row_slipped_into_a_gap_is_named(self, sealed: Ledger) -> None:
        """Positions may have gaps (a rolled-back write burns an id on PostgreSQL; here, an
        event removed before the projector saw it). A gap is sealed as a gap: removing the row
        before sealing leaves no trace, but writing a row into that gap afterwards (even the
        genuine event itself) is named as inserted at its position."""
        sealed.record_rates(3)
        gap = sealed.stored.positions()[-2]
        removed = sealed.stored.delete(gap)  # before any seal covers it
        sealed.projector.catch_up()
        quiet = sealed.verify()
        assert quiet.intact, "the chain only vouches for what the projector saw"
        assert quiet.checked == len(sealed.stored.positions())
        assert gap not in dict(sealed.chain())
        sealed.stored.insert(removed, gap)
        verdict = sealed.verify()
        assert not verdict.intact
        assert verdict.first_bad_position == gap
        assert "inserted" in verdict.problem

    def test_a_row_appended_behind_the_app_is_only_unsealed(self, sealed: Ledger) -> None:
        """What the chain cannot see: a row appended after the last sealed position looks like
        an event recorded but not yet projected. verify stays intact and counts it as unsealed
        (the projector would then seal it like any other), so the unsealed count is worth a look."""
        before = sealed.verify()
        forged = sealed.stored.row(TARGET)
        sealed.stored.insert({**forged, "originator_version": forged["originator_version"] + 1})
        verdict = sealed.verify()
        assert verdict.intact
        assert verdict.unsealed == 1
        assert (verdict.checked, verdict.head_position, verdict.head_seal) == (
            before.checked,
            before.head_position,
            before.head_seal,
        )

    def test_reseal_after_tampering_changes_the_head_seal(self, sealed: Ledger) -> None:
        """What the chain cannot see on its own: the seals live beside the read models, so
        someone who can write both may change an event and recompute every seal after it;
        verify then finds the chain intact. Only the head seal written down before (the
        auditor's copy) gives it away: it no longer matches."""
        written_down = sealed.verify()
        sealed.stored.flip_byte(TARGET)
        previous = dict(sealed.chain())[TARGET - 1]
        notifications = sealed.app.recorder.select_notifications(TARGET - 1, 10_000, inclusive_of_start=False)
        with sealed.db.writing() as conn:
            for notification in notifications:
                previous = seal(previous, notification)
                conn.execute(update(t.chain).where(t.chain.c.position == notification.id).values(seal=previous))
        resealed = sealed.verify()
        assert resealed.intact
        assert resealed.head_position == written_down.head_position
        assert resealed.head_seal != written_down.head_seal

    @pytest.mark.postgres
    @pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
    def test_an_early_verdict_closes_its_cursor(self, sealed: Ledger) -> None:
        """A verdict of tampering on PostgreSQL releases the cursor that streamed the seals:
        no "server-side cursor deleted while still open" warning once verify has returned."""
        sealed.stored.delete(TARGET)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            verdict = sealed.verify()
            gc.collect()
        assert verdict.first_bad_position == TARGET
        assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


class TestUnsealedEvents:
    def test_events_after_the_last_projection_are_unsealed_until_projected(self, sealed: Ledger) -> None:
        """Events recorded after the last projection are counted as unsealed and do not make
        verify fail; once projected they are sealed, the chain grows past the old head and
        never rewrites the seals already given."""
        before, old_chain = sealed.verify(), sealed.chain()
        sealed.record_rates(3)
        pending = sealed.verify()
        assert pending.intact
        assert pending.unsealed == 3
        assert (pending.checked, pending.head_position, pending.head_seal) == (
            before.checked,
            before.head_position,
            before.head_seal,
        )
        assert sealed.projector.catch_up() == 3
        after = sealed.verify()
        assert after.intact
        assert after.unsealed == 0
        assert after.checked == before.checked + 3
        assert after.head_position == sealed.stored.positions()[-1]
        assert after.head_seal != before.head_seal
        assert sealed.chain()[: len(old_chain)] == old_chain


class TestReadModelsOlderThanTheChain:
    def test_a_missing_chain_is_sealed_from_the_start_not_reported_as_tampering(self, sealed: Ledger) -> None:
        """Read models projected before seals existed (an empty rm_chain behind the tracking
        position, and no high-water mark ever written) get their backlog sealed by the
        projector, in order, and verify is intact."""
        before = sealed.verify()
        with sealed.db.writing() as conn:
            conn.execute(t.chain.delete())
            conn.execute(t.tracking.delete().where(t.tracking.c.name == HIGH_WATER))
        sealed.record_rates(1)
        Projector(sealed.app, sealed.db).catch_up()
        after = sealed.verify()
        assert after.intact
        assert after.unsealed == 0
        assert after.checked == before.checked + 1
