"""The chain cannot be re-sealed from a doctored store, and an external anchor catches what it cannot.

An intruder with write access to both databases changes a stored event, then removes the seals
from there onwards so that the projector would seal the doctored history anew. A position sealed
once is never sealed again: the chain's high-water mark (moved in the same transaction as the
seals) and the read models' own position tell that seals were removed, the projector refuses to
run and verify names the positions. What an intruder who empties the whole read database gets
back is a chain over the doctored history, intact on its own: only the head seal written down
elsewhere (``verify --expect-head``) shows that the history differs from the one it was made at.

Every test runs on SQLite and PostgreSQL, with the events stored plainly and encrypted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from eventsourcing.cryptography import AESCipher
from sqlalchemy import delete, update

from api.cli import main
from bench.workload import Workload
from ledger.errors import InvalidInput
from ledger.records import BoundMapper
from ledger.storage import ENV_CIPHER_KEY, open_ledger
from projections import tables as t
from projections.chain import GENESIS, HIGH_WATER, Anchor, ChainBroken, verify
from projections.db import ENV_READ_URL, ReadDatabase, read_url_for
from projections.projector import Projector
from projections.replay import replay_and_compare
from tests.projections.test_chain import TARGET, Ledger, StoredEvents

HEAD = re.compile(r"^head (\d+:[0-9a-f]{64}) ", re.MULTILINE)


@pytest.fixture(params=["plain", "encrypted"])
def cipher(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str | None:
    """No key (events stored as JSON), or a key in the environment, where the CLI finds it too."""
    if request.param == "plain":
        monkeypatch.delenv(ENV_CIPHER_KEY, raising=False)
        return None
    key = AESCipher.create_key(32)
    monkeypatch.setenv(ENV_CIPHER_KEY, key)
    return key


@pytest.fixture
def ledger(store_url: str, cipher: str | None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ledger]:
    """A history of 8 claims (about 160 events), projected: every event sealed."""
    monkeypatch.delenv(ENV_READ_URL, raising=False)
    app = open_ledger(store_url)
    assert isinstance(app.mapper, BoundMapper)
    assert (app.mapper.cipher_key is None) is (cipher is None)
    db = ReadDatabase(read_url_for(store_url, environ={}))
    stored = StoredEvents(store_url)
    try:
        Workload(app, seed=3).run(8)
        projector = Projector(app, db)
        projector.catch_up()
        yield Ledger(store_url, app, db, projector, stored)
    finally:
        stored.close()
        db.close()
        app.close()


def remove_seals(ledger: Ledger, from_position: int) -> None:
    """Delete the chain's rows from ``from_position`` onwards, with plain SQL."""
    with ledger.db.writing() as conn:
        conn.execute(delete(t.chain).where(t.chain.c.position >= from_position))


def set_tracking(ledger: Ledger, name: str, position: int) -> None:
    """Overwrite one rm_tracking row (the read models' position or the chain's high-water mark)."""
    with ledger.db.writing() as conn:
        conn.execute(update(t.tracking).where(t.tracking.c.name == name).values(position=position))


def empty_read_database(ledger: Ledger) -> None:
    """Drop every read-model table and create them anew: a read database that never saw an event."""
    with ledger.db.engine.begin() as conn:
        t.metadata.drop_all(conn)
    ledger.db.create()


def doctor(ledger: Ledger, cipher: str | None) -> None:
    """Doctor the history as an intruder could, so that it still projects: without encryption,
    swap the values of two exchange rates (CAD and JPY); with it (no key: no ciphertext of one's
    own), remove the CAD rate's event."""
    if cipher is None:
        first, second = ledger.stored.row(TARGET), ledger.stored.row(TARGET + 1)
        assert first["topic"] == second["topic"] == "ledger.rates:ExchangeRate.Recorded"
        ledger.stored.update_state(TARGET, second["state"])
        ledger.stored.update_state(TARGET + 1, first["state"])
    else:
        ledger.stored.delete(TARGET)


def sealed_positions(ledger: Ledger) -> list[int]:
    return [position for position, _ in ledger.chain()]


def cli_verify(ledger: Ledger, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["--database-url", ledger.url, "verify", *extra])
    return code, capsys.readouterr().out


class TestNoPositionIsSealedTwice:
    def test_a_changed_event_with_its_seals_removed_is_not_resealed(
        self, ledger: Ledger, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The attack: one stored event changed, the chain's rows deleted from there onwards.
        The projector refuses (ChainBroken naming the positions) instead of sealing the doctored
        history; nothing is sealed again; verify and `grantledger verify` name the position,
        `grantledger project` exits 1 and says the chain is broken."""
        last = ledger.stored.positions()[-1]
        ledger.stored.flip_byte(TARGET)
        remove_seals(ledger, TARGET)
        with pytest.raises(ChainBroken, match=f"positions {TARGET} to {last}") as refused:
            ledger.projector.run_batch()
        assert (refused.value.first, refused.value.last) == (TARGET, last)
        assert sealed_positions(ledger)[-1] == TARGET - 1
        verdict = ledger.verify()
        assert not verdict.intact
        assert verdict.first_bad_position == TARGET
        assert "missing" in verdict.problem
        assert verdict.head_position == TARGET - 1
        code, out = cli_verify(ledger, capsys)
        assert code == 1
        assert f"TAMPERED at position {TARGET}" in out
        assert main(["--database-url", ledger.url, "project"]) == 1
        assert "hash chain is broken" in capsys.readouterr().err
        assert sealed_positions(ledger)[-1] == TARGET - 1

    def test_removing_only_the_newest_seals_is_detected(self, ledger: Ledger) -> None:
        """No event changed, only the three newest seals deleted (below the high-water mark):
        the projector does not seal those positions again, verify names the first of them."""
        positions = ledger.stored.positions()
        remove_seals(ledger, positions[-3])
        with pytest.raises(ChainBroken, match=f"positions {positions[-3]} to {positions[-1]}"):
            ledger.projector.catch_up()
        assert sealed_positions(ledger)[-1] == positions[-4]
        verdict = ledger.verify()
        assert not verdict.intact
        assert verdict.first_bad_position == positions[-3]
        assert f"up to position {positions[-1]} are missing" in verdict.problem

    def test_a_history_cut_short_with_its_seals_is_detected(self, ledger: Ledger) -> None:
        """The three newest events removed from the store together with their seals: nothing is
        left to compare, but the chain had reached further; verify says so, the projector refuses."""
        positions = ledger.stored.positions()
        for position in positions[-3:]:
            ledger.stored.delete(position)
        remove_seals(ledger, positions[-3])
        verdict = ledger.verify()
        assert not verdict.intact
        assert verdict.first_bad_position == positions[-4] + 1
        assert f"up to position {positions[-1]} are missing" in verdict.problem
        assert "so are the events" in verdict.problem
        with pytest.raises(ChainBroken):
            ledger.projector.run_batch()

    @pytest.mark.parametrize("rewound", ["high-water mark", "high-water mark and read-model position"])
    def test_read_models_ahead_of_the_chain_are_detected(self, ledger: Ledger, rewound: str) -> None:
        """The newest seals deleted and the chain's high-water mark (even the read models' own
        tracking position) moved back to match: the read models still hold those events, so
        they are ahead of the chain; the projector refuses and verify names the position."""
        positions = ledger.stored.positions()
        remove_seals(ledger, positions[-3])
        set_tracking(ledger, HIGH_WATER, positions[-4])
        if rewound != "high-water mark":
            set_tracking(ledger, "read_models", positions[-4])
        with pytest.raises(ChainBroken, match="read models reached"):
            ledger.projector.run_batch()
        verdict = ledger.verify()
        assert not verdict.intact
        assert verdict.first_bad_position == positions[-3]
        assert "the read models reached" in verdict.problem

    def test_read_models_moved_behind_the_chain_are_detected(self, ledger: Ledger) -> None:
        """The read models' position moved back while the chain is whole: the projector would
        apply and seal those events a second time; it refuses, and verify names the positions."""
        positions = ledger.stored.positions()
        set_tracking(ledger, "read_models", TARGET)
        with pytest.raises(ChainBroken, match=f"positions {TARGET + 1} to {positions[-1]}"):
            ledger.projector.run_batch()
        verdict = ledger.verify()
        assert not verdict.intact
        assert verdict.first_bad_position == TARGET + 1
        assert "moved back behind the chain" in verdict.problem


class TestReadModelsOlderThanTheChain:
    def test_the_backlog_is_sealed_once_in_one_transaction(self, ledger: Ledger) -> None:
        """Read models made before the chain existed (no seal, no high-water mark) are sealed in
        one run, however small the batches: intact, with the same head as before; from then on
        the high-water mark stands, so seals removed later are tampering, not a migration."""
        before, positions = ledger.verify(), ledger.stored.positions()
        with ledger.db.writing() as conn:
            conn.execute(delete(t.chain))
            conn.execute(delete(t.tracking).where(t.tracking.c.name == HIGH_WATER))
        assert Projector(ledger.app, ledger.db, batch_size=50).run_batch() == len(positions)
        assert ledger.verify() == before
        remove_seals(ledger, positions[-1])
        with pytest.raises(ChainBroken):
            ledger.projector.run_batch()


class TestExpectHead:
    def test_the_printed_head_is_the_anchor(self, ledger: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
        """verify prints the head as POSITION:SEAL; --expect-head takes it (or the seal alone) and
        passes on the untouched store, and still after the history has grown past it."""
        code, out = cli_verify(ledger, capsys)
        assert code == 0
        match = HEAD.search(out)
        assert match is not None, out
        head = match.group(1)
        assert head == ledger.verify().head == f"{ledger.stored.positions()[-1]}:{ledger.verify().head_seal}"
        for anchor in (head, head.split(":")[1], head.upper()):
            code, out = cli_verify(ledger, capsys, "--expect-head", anchor)
            assert code == 0, out
            assert "is in the history" in out
        ledger.record_rates(2)
        ledger.projector.catch_up()
        code, out = cli_verify(ledger, capsys, "--expect-head", head)
        assert code == 0, out
        grown = HEAD.search(out)
        assert grown is not None
        assert grown.group(1) != head

    @pytest.mark.parametrize("doctoring", ["two rates swapped", "a rate removed"])
    def test_a_history_resealed_from_an_empty_read_database_differs_from_the_anchor(
        self, ledger: Ledger, cipher: str | None, doctoring: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """What no seal beside the read models can catch: the history doctored, the read database
        emptied, and every event projected and sealed anew. verify finds that chain intact; only
        the head written down before shows that the history differs from it (exit 1, naming
        the anchor's position); replay, built from the same events, sees nothing either."""
        if doctoring == "two rates swapped" and cipher is not None:
            pytest.skip("without the key an intruder writes no ciphertext that decrypts as another event")
        written_down = ledger.verify()
        doctor(ledger, None if doctoring == "two rates swapped" else "encrypted")
        empty_read_database(ledger)
        ledger.projector.catch_up()
        resealed = ledger.verify()
        assert resealed.intact
        assert resealed.head != written_down.head
        code, out = cli_verify(ledger, capsys, "--expect-head", written_down.head)
        assert code == 1
        assert f"DIFFERS FROM THE ANCHOR {written_down.head}" in out
        assert f"position {written_down.head_position}" in out
        code, out = cli_verify(ledger, capsys, "--expect-head", written_down.head_seal)
        assert code == 1
        assert "DIFFERS FROM THE ANCHOR" in out
        assert replay_and_compare(ledger.app, ledger.db).identical

    def test_a_wrong_or_misplaced_seal_fails(self, ledger: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
        """A seal the history never had fails; so does the true head seal at another position;
        an earlier head (the chain at position TARGET) passes; a malformed head is refused (2)."""
        verdict = ledger.verify()
        early = ledger.chain()[TARGET - 1]
        assert early[0] == TARGET
        wrong = "ab" * 32
        for anchor in (wrong, f"{verdict.head_position}:{wrong}", f"{TARGET}:{verdict.head_seal}"):
            code, out = cli_verify(ledger, capsys, "--expect-head", anchor)
            assert code == 1, anchor
            assert "DIFFERS FROM THE ANCHOR" in out
        code, out = cli_verify(ledger, capsys, "--expect-head", f"{verdict.head_position + 1}:{verdict.head_seal}")
        assert code == 1
        assert f"no event at position {verdict.head_position + 1}" in out
        assert cli_verify(ledger, capsys, "--expect-head", f"{early[0]}:{early[1]}")[0] == 0
        assert cli_verify(ledger, capsys, "--expect-head", f"0:{GENESIS}")[0] == 0
        for malformed in ("abc", f"x:{verdict.head_seal}", f":{verdict.head_seal}", f"-1:{verdict.head_seal}"):
            assert main(["--database-url", ledger.url, "verify", f"--expect-head={malformed}"]) == 2
            assert "POSITION:SEAL" in capsys.readouterr().err

    def test_a_tampered_store_is_checked_against_the_anchor_too(self, ledger: Ledger) -> None:
        """With the chain broken, verify still says whether the anchor is in the history."""
        written_down = ledger.verify()
        ledger.stored.flip_byte(TARGET)
        verdict = verify(ledger.app, ledger.db, expect_head=Anchor.parse(written_down.head))
        assert not verdict.intact
        assert verdict.anchored is False
        assert not verdict.ok
        early = ledger.chain()[TARGET - 2]
        assert verify(ledger.app, ledger.db, expect_head=Anchor(early[1])).anchored is True


class TestReplay:
    def test_a_doctored_history_is_a_difference(self, ledger: Ledger, cipher: str | None) -> None:
        """A stored event changed behind the application: the rebuilt chain differs from the live
        one from that position on, and replay reports it (as well as the read models it changes)."""
        doctor(ledger, cipher)
        report = replay_and_compare(ledger.app, ledger.db, max_differences=100_000)
        chain = [d for d in report.differences if d.table == "rm_chain"]
        assert chain, report.differences[:3]
        assert chain[0].key == (TARGET,)
        assert chain[-1].key == (ledger.stored.positions()[-1],)

    def test_a_doctored_history_with_its_seals_removed_is_a_difference(
        self, ledger: Ledger, cipher: str | None
    ) -> None:
        """The same with the seals removed from there on: the live projector refuses to seal them
        again, and replay still rebuilds and names every seal missing from the live chain."""
        doctor(ledger, cipher)
        remove_seals(ledger, TARGET)
        positions = ledger.stored.positions()
        report = replay_and_compare(ledger.app, ledger.db, max_differences=100_000)
        assert not report.identical
        missing = [d.key for d in report.differences if d.table == "rm_chain" and d.live is None]
        assert missing == [(p,) for p in positions if p >= TARGET]


def test_a_malformed_anchor_is_invalid_input() -> None:
    """A head is POSITION:SEAL or the seal alone: 64 hex digits, a position of ASCII digits."""
    for malformed in ("12:" + "g" * 64, "a" * 63, "1:2:" + "a" * 64, "\u0663:" + "a" * 64, "1 2:" + "a" * 64):
        with pytest.raises(InvalidInput, match="POSITION:SEAL"):
            Anchor.parse(malformed)
    assert Anchor.parse(" 12:" + "A" * 64) == Anchor("a" * 64, 12)
