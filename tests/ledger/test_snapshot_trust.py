"""Doctored snapshots and moved ciphertexts never decide a command.

Someone with write access to the database edits a snapshot row, rolls it back (an older
state under a newer version), moves another aggregate's snapshot into it, or forges a row
for a version that had none; with encryption on, moves ciphertexts between rows. The
ledger must still refuse what the true events refuse, fall back to the events, say so,
and ``grantledger verify`` must name the bad snapshot.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.application import Application
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import EventStore, Mapper, MapperDeserialisationError

from api.cli import main
from ledger.application import GrantLedger
from ledger.budget import BudgetExceeded
from ledger.errors import InvalidInput
from ledger.records import BOUND, ENV_SNAPSHOT_KEY, SEALED, Seal, TrustedSnapshots, derive, seal_secret
from ledger.storage import ENV_CIPHER_KEY, cipher_env, ddl_lock, library_env, open_ledger
from tests.builders import eur
from tests.conftest import PostgresSchema, require_postgres
from tests.snapshot_story import ATTACKS, RawSnapshots, Story, build


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    require_postgres()
    schema = PostgresSchema()
    try:
        yield schema.url
    finally:
        schema.drop()


@pytest.fixture(params=["plain", "encrypted"])
def cipher_key(request: pytest.FixtureRequest) -> str | None:
    return AESCipher.create_key(32) if request.param == "encrypted" else None


@pytest.fixture
def story(store_url: str, cipher_key: str | None, monkeypatch: pytest.MonkeyPatch) -> Story:
    monkeypatch.delenv(ENV_CIPHER_KEY, raising=False)
    monkeypatch.delenv(ENV_SNAPSHOT_KEY, raising=False)
    return build(store_url, cipher_key)


def verify(story: Story, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``grantledger verify`` on the story's store, as an auditor runs it (a new process's view)."""
    if story.cipher_key is not None:
        monkeypatch.setenv(ENV_CIPHER_KEY, story.cipher_key)
    assert main(["--database-url", story.url, "project"]) == 0  # verify needs read models: it never makes them
    capsys.readouterr()
    code = main(["--database-url", story.url, "verify"])
    return code, capsys.readouterr().out


def assert_true_line(app: GrantLedger) -> None:
    line = app.budget_line("POINTEX", "FSTP")
    assert (line.version, line.allocated, line.committed) == (101, eur("2010.00"), eur("1500.00"))


@contextlib.contextmanager
def event_reads(app: GrantLedger) -> Iterator[list[dict[str, Any]]]:
    """The keyword arguments of every read of an aggregate's events while the block runs."""
    calls: list[dict[str, Any]] = []
    original = app.events.recorder.select_events

    def spy(originator_id: Any, **kwargs: Any) -> Any:
        calls.append({"originator_id": originator_id, **kwargs})
        return original(originator_id, **kwargs)

    app.events.recorder.select_events = spy  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        app.events.recorder.select_events = original  # type: ignore[method-assign]


class TestDoctoredSnapshots:
    @pytest.mark.parametrize("attack", list(ATTACKS))
    def test_the_over_budget_approval_is_refused_and_verify_names_the_snapshot(
        self,
        story: Story,
        attack: str,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """After the attack the approval of EUR 700 is refused exactly as on the true line
        (EUR 510 remain), the line loads as its events say, the service logs a warning naming
        the line and version and counts it, and verify names that snapshot and exits 1."""
        version = ATTACKS[attack](story)
        app = story.open()
        try:
            with caplog.at_level(logging.WARNING), pytest.raises(BudgetExceeded, match=r"is EUR 510\.00"):
                story.approve_pending(app)
            assert_true_line(app)
            assert app.snapshot_tally.tampered >= 1
        finally:
            app.close()
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any(str(story.line) in w and f"version {version}" in w for w in warnings), warnings
        code, out = verify(story, monkeypatch, capsys)
        assert code == 1, out
        assert f"BudgetLine {story.line} at version {version}" in out, out

    def test_a_clean_store_uses_its_snapshots_refuses_the_same_and_verifies_clean(
        self, story: Story, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Untouched, the line loads from its snapshot at 100, the event at 100 (the one the
        snapshot was sealed with, checked and dropped) and the one after it; the approval is
        refused on the true figures; verify checks every snapshot and exits 0."""
        app = story.open()
        try:
            with event_reads(app) as reads:
                assert_true_line(app)
            assert [call.get("gt") for call in reads if call["originator_id"] == story.line] == [99]
            with pytest.raises(BudgetExceeded, match=r"is EUR 510\.00"):
                story.approve_pending(app)
            assert app.snapshot_tally.tampered == 0
        finally:
            app.close()
        code, out = verify(story, monkeypatch, capsys)
        assert code == 0, out
        assert "snapshots match the events they summarise" in out, out


class TestCopiedFromAnotherStore:
    """Budget-line ids derive from names: they are the same in every ledger. A sealed snapshot
    taken from another store that shares the key (a staging copy with the same snapshot or
    cipher key) must not summarise this store's line."""

    @pytest.fixture
    def copied(self, store_url: str, cipher_key: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Story:
        """The story, its line's snapshot at 100 replaced by the one of a staging copy that shares
        the key and opened the line with EUR 9,000 (8,010 left at version 100, not 2,010)."""
        monkeypatch.delenv(ENV_CIPHER_KEY, raising=False)
        if cipher_key is None:
            monkeypatch.setenv(ENV_SNAPSHOT_KEY, AESCipher.create_key(32))
        else:
            monkeypatch.delenv(ENV_SNAPSHOT_KEY, raising=False)
        victim = build(store_url, cipher_key)
        staging = build(f"sqlite:///{tmp_path / 'staging.db'}", cipher_key, fstp="9000.00")
        assert staging.line == victim.line
        RawSnapshots(victim.url).write(victim.line, 100, RawSnapshots(staging.url).read(staging.line, 100))
        return victim

    def test_the_copy_is_never_used_to_decide_and_verify_names_it(
        self,
        copied: Story,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """The copy's seal checks under the shared key, yet the approval of EUR 700 is refused as
        on the true line (EUR 510 remain), the line loads as its events say, the service logs a
        warning naming the line and version 100 and counts it, and verify names that snapshot."""
        app = copied.open()
        try:
            snapshots = app.snapshots
            assert isinstance(snapshots, TrustedSnapshots)
            [row] = snapshots.recorder.select_events(copied.line, gt=99, lte=100)
            assert snapshots.mapper.inspect(row)[0] is Seal.OURS  # the shared key: the seal alone cannot tell
            with caplog.at_level(logging.WARNING), pytest.raises(BudgetExceeded, match=r"is EUR 510\.00"):
                copied.approve_pending(app)
            assert_true_line(app)
            assert app.snapshot_tally.tampered >= 1
        finally:
            app.close()
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any(str(copied.line) in w and "version 100" in w for w in warnings), warnings
        code, out = verify(copied, monkeypatch, capsys)
        assert code == 1, out
        assert f"BudgetLine {copied.line} at version 100" in out, out
        assert "does not summarise this store's event at version 100" in out, out


def reseal_without_event_digest(story: Story, version: int) -> None:
    """Rewrite the line's snapshot at ``version`` as snapshots were sealed before they named their
    event: ``\\x00GLseal1``, key id, HMAC-SHA256 over the place and the stored bytes, the bytes."""
    app = story.open()
    try:
        snapshots = app.snapshots
        assert isinstance(snapshots, TrustedSnapshots)
        [row] = snapshots.recorder.select_events(story.line, gt=version - 1, lte=version)
        state = snapshots.mapper.inspect(row)[1].state
        cipher_key = app.mapper.cipher_key  # type: ignore[attr-defined]
    finally:
        app.close()
    secret = seal_secret(cipher_key, None)
    parts = (b"snapshot", str(story.line).encode(), str(version).encode(), row.topic.encode())
    where = b"".join(len(part).to_bytes(4, "big") + part for part in parts)
    seal = hmac.new(secret, where + state, hashlib.sha256).digest()
    legacy = b"\x00GLseal1" + derive(secret, "key-id")[:8] + seal + state
    RawSnapshots(story.url).write(story.line, version, legacy)


class TestLegacySeals:
    def test_a_snapshot_sealed_before_event_digests_is_not_used(
        self, story: Story, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A snapshot sealed the old way (its seal checks, but it names no event) is treated as
        unsealed: the line loads from its events, the books are right, and verify is clean."""
        reseal_without_event_digest(story, 100)
        app = story.open()
        try:
            with event_reads(app) as reads:
                assert_true_line(app)
            assert [call.get("gt") for call in reads if call["originator_id"] == story.line] == [None]
            assert (app.snapshot_tally.unsealed, app.snapshot_tally.tampered) == (1, 0)
            with pytest.raises(BudgetExceeded, match=r"is EUR 510\.00"):
                story.approve_pending(app)
        finally:
            app.close()
        code, out = verify(story, monkeypatch, capsys)
        assert code == 0, out


class TestKeys:
    def test_snapshots_sealed_with_another_key_are_quietly_left_aside(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Snapshots sealed under one GRANTLEDGER_SNAPSHOT_KEY are used by a process with that
        key (read with their own event, from version 99 on); a process with another key loads
        from the events, without a warning."""
        monkeypatch.delenv(ENV_CIPHER_KEY, raising=False)
        monkeypatch.setenv(ENV_SNAPSHOT_KEY, AESCipher.create_key(32))
        story = build(f"sqlite:///{tmp_path / 'ledger.db'}", None)
        same = story.open()
        with event_reads(same) as reads:
            assert_true_line(same)
        same.close()
        assert [call.get("gt") for call in reads if call["originator_id"] == story.line] == [99]

        monkeypatch.setenv(ENV_SNAPSHOT_KEY, AESCipher.create_key(32))
        other = story.open()
        with caplog.at_level(logging.WARNING), event_reads(other) as reads:
            assert_true_line(other)
        assert [call.get("gt") for call in reads if call["originator_id"] == story.line] == [None]
        assert (other.snapshot_tally.foreign, other.snapshot_tally.tampered) == (1, 0)
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
        other.close()

    def test_a_malformed_snapshot_key_is_refused(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A GRANTLEDGER_SNAPSHOT_KEY that is not base64 of at least 16 bytes is refused, saying what to set."""
        monkeypatch.setenv(ENV_SNAPSHOT_KEY, "c2hvcnQ=")
        with pytest.raises(InvalidInput, match="GRANTLEDGER_SNAPSHOT_KEY"):
            open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")


class LibraryLedger(GrantLedger):
    """The ledger as it stored records before this change: the library's own mapper (AES-GCM
    without associated data) and snapshot store (snapshots without a seal)."""

    name = "GrantLedger"

    def construct_mapper(self) -> Mapper[Any]:
        return Application.construct_mapper(self)

    def construct_snapshot_store(self) -> EventStore[Any]:
        return Application.construct_snapshot_store(self)


def swap_event_states(url: str, story: Story, first: int, second: int) -> None:
    path = url.removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        query = "SELECT state FROM stored_events WHERE originator_id = ? AND originator_version = ?"
        (a,) = conn.execute(query, (story.line.hex, first)).fetchone()
        (b,) = conn.execute(query, (story.line.hex, second)).fetchone()
        update = "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = ?"
        conn.execute(update, (b, story.line.hex, first))
        conn.execute(update, (a, story.line.hex, second))


class TestBoundCiphertexts:
    def test_an_event_ciphertext_moved_to_another_version_fails_to_decrypt(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Two events of the line swap their ciphertexts: loading those versions is an error,
        never the other event's content accepted in the wrong place."""
        monkeypatch.delenv(ENV_SNAPSHOT_KEY, raising=False)
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
        story = build(url, AESCipher.create_key(32))
        swap_event_states(url, story, 2, 3)
        app = story.open()
        try:
            with pytest.raises(MapperDeserialisationError, match="originator_version 2"):
                app.repository.get(story.line, version=3)
        finally:
            app.close()

    def test_records_written_before_binding_still_load(
        self,
        store_url: str,
        cipher_key: str | None,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """A store written by the library's own mapper (unbound ciphertexts, unsealed
        snapshots) opens with the ledger's: every record loads, the unsealed snapshots are
        not trusted (the line loads from its events), the books are right and verify is clean."""
        monkeypatch.delenv(ENV_SNAPSHOT_KEY, raising=False)
        env = library_env(store_url) | ({} if cipher_key is None else cipher_env(cipher_key))
        story = build_with(store_url, cipher_key, LibraryLedger, env)
        assert not RawSnapshots(store_url).read(story.line, 100).startswith(SEALED)
        app = story.open()
        try:
            with event_reads(app) as reads:
                assert_true_line(app)
            assert [call.get("gt") for call in reads if call["originator_id"] == story.line] == [None]
            assert app.snapshot_tally.unsealed == 1
            with pytest.raises(BudgetExceeded, match=r"is EUR 510\.00"):
                story.approve_pending(app)
            assert app.grant().code == "EU-ALLIANCE"
            [first] = app.events.recorder.select_events(story.line, limit=1)
            assert not first.state.startswith(BOUND)
        finally:
            app.close()
        code, out = verify(story, monkeypatch, capsys)
        assert code == 0, out


def build_with(url: str, cipher_key: str | None, cls: type[GrantLedger], env: dict[str, str]) -> Story:
    """The story written by ``cls`` instead of the ledger's own application."""
    import tests.snapshot_story as story_module

    def open_legacy(_url: str, cipher_key: str | None = None) -> GrantLedger:
        with ddl_lock(env):
            return cls(env=env)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(story_module, "open_ledger", open_legacy)
        return build(url, cipher_key)
