"""Encryption at rest: with a key, stored events are unreadable without it, and everything works."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from api.cli import main
from bench.workload import Workload
from ledger.errors import InvalidInput
from ledger.storage import cipher_env, open_ledger
from projections.chain import verify
from projections.db import ReadDatabase
from projections.projector import Projector
from projections.replay import replay_and_compare


@pytest.fixture
def key(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["key", "create"]) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


class TestEncryptionAtRest:
    def test_stored_events_are_unreadable_without_the_key(self, tmp_path: Path, key: str) -> None:
        """No stored row holds a readable name or amount; the store opened without the key
        cannot read the grant; with the key, it can."""
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
        app = open_ledger(url, cipher_key=key)
        Workload(app, seed=5).run(10)
        app.close()
        with sqlite3.connect(tmp_path / "ledger.db") as raw:
            states = [row[0] for row in raw.execute("SELECT state FROM stored_events")]
        assert len(states) > 50
        for needle in (b"EU-ALLIANCE", b"TECHTERA", b"RCPT-", b"amount"):
            assert not any(needle in state for state in states), needle
        without = open_ledger(url)
        with pytest.raises(Exception, match="deserialise"):
            without.grant()
        without.close()
        with_key = open_ledger(url, cipher_key=key)
        assert with_key.grant().code == "EU-ALLIANCE"
        with_key.close()

    def test_projection_replay_and_the_hash_chain_work_encrypted(self, tmp_path: Path, key: str) -> None:
        """The read side decodes through the same key; replay is identical and the chain, over
        the encrypted bytes, is intact."""
        app = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}", cipher_key=key)
        Workload(app, seed=6).run(15)
        db = ReadDatabase(f"sqlite:///{tmp_path / 'ledger-read.db'}")
        Projector(app, db).catch_up()
        assert replay_and_compare(app, db).identical
        assert verify(app, db).intact
        db.close()
        app.close()

    @pytest.mark.parametrize("bad", ["not base64!", "c2hvcnQ=", ""])
    def test_a_malformed_key_is_refused_with_the_reason(self, bad: str) -> None:
        """A key that is not base64 of 16, 24 or 32 bytes is refused before anything is stored."""
        with pytest.raises(InvalidInput, match="16, 24 or 32"):
            cipher_env(bad)
