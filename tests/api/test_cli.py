"""The grantledger command line, as a financial officer or an administrator uses it."""

from __future__ import annotations

from pathlib import Path

import pytest
from eventsourcing.cryptography import AESCipher

from api.cli import main
from api.context import open_context
from api.security import ServiceStore
from tests.snapshot_story import build, roll_back


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


def run(url: str, *args: str) -> int:
    return main(["--database-url", url, *args])


@pytest.fixture
def demo_url(url: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert run(url, "demo") == 0
    capsys.readouterr()
    return url


class TestDemo:
    def test_loads_once_and_prints_a_token_per_demo_user(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        """The demo says where its data is and prints working tokens; loading it again into
        the same store is refused (exit 2) and records nothing; --reuse keeps it."""
        assert run(url, "demo") == 0
        out = capsys.readouterr().out
        assert "81 claims" in out
        assert url in out
        tokens = [line.split()[-1] for line in out.splitlines() if line.strip().startswith(("coordinator", "auditor"))]
        assert len(tokens) == 2
        with open_context(url) as ctx:
            events = ctx.app.recorder.max_notification_id()
            actor = ServiceStore(ctx.read_db).actor_for(tokens[0])
            assert actor is not None
            assert actor.role == "coordinator"
        assert run(url, "demo") == 2
        assert "empty event store" in capsys.readouterr().err
        assert run(url, "demo", "--reuse") == 0
        assert "already loaded" in capsys.readouterr().out
        with open_context(url) as ctx:
            assert ctx.app.recorder.max_notification_id() == events
            assert ServiceStore(ctx.read_db).actor_for(tokens[0]) is None, "the old demo token was revoked"


class TestTokens:
    def test_create_list_revoke(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        """A new token is printed alone on the last line, listed by name (never itself), and
        stops working once revoked; a second active token for the same name is refused."""
        assert run(url, "token", "create", "--role", "officer", "--partner", "POINTEX", "--name", "maria") == 0
        token = capsys.readouterr().out.strip().splitlines()[-1]
        assert token.startswith("glt_")
        assert run(url, "token", "list") == 0
        listing = capsys.readouterr().out
        assert "maria" in listing
        assert token not in listing
        assert run(url, "token", "create", "--role", "officer", "--partner", "POINTEX", "--name", "maria") == 2
        assert "active token already" in capsys.readouterr().err
        assert run(url, "token", "revoke", "--name", "maria") == 0
        with open_context(url) as ctx:
            assert ServiceStore(ctx.read_db).actor_for(token) is None
        assert run(url, "token", "revoke", "--name", "maria") == 2

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--role", "officer", "--name", "x"], "needs --partner"),
            (["--role", "auditor", "--partner", "NTT", "--name", "x"], "has no partner"),
            (
                ["--role", "auditor", "--name", "a" * 130],
                "the token's name: is 130 characters long; shorten it to at most 120",
            ),
            (["--role", "auditor", "--name", "bad\x01name"], "the token's name: contains"),
            (
                ["--role", "officer", "--partner", "P" * 60, "--name", "x"],
                "is 60 characters long; shorten it to at most 40",
            ),
            (["--role", "officer", "--partner", "pointex", "--name", "x"], "'pointex' is not a partner code"),
        ],
    )
    def test_refuses_tokens_that_make_no_sense(
        self, url: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str
    ) -> None:
        """An officer without a partner or an auditor with one, a name or partner longer than its
        column (a traceback on PostgreSQL before) or holding a control character, a partner code
        that is no code: refused with the reason, exit 2, no token listed."""
        assert run(url, "token", "create", *args) == 2
        assert message in capsys.readouterr().err
        with open_context(url) as ctx:
            assert ServiceStore(ctx.read_db).list_tokens() == []

    @pytest.mark.parametrize(
        ("partner", "message"),
        [
            ("NOSUCHPARTNER", "'NOSUCHPARTNER' is not a partner of the grant; the grant's partners are NIDV, NTT, "),
            ("pointex", "'pointex' is not a partner of the grant; write it as the grant does: POINTEX"),
        ],
    )
    def test_an_officer_token_is_for_a_partner_of_the_grant(
        self, demo_url: str, capsys: pytest.CaptureFixture[str], partner: str, message: str
    ) -> None:
        """Once the grant is signed, a token's partner is one of its partners, written as the grant
        writes it: another code, or the right one in the wrong case, is refused naming them."""
        assert run(demo_url, "token", "create", "--role", "officer", "--partner", partner, "--name", "ghost") == 2
        assert message in capsys.readouterr().err
        assert run(demo_url, "token", "create", "--role", "officer", "--partner", "POINTEX", "--name", "ghost") == 0


class TestReports:
    def test_budget_now_and_as_of(self, demo_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        """The budget table shows every partner's lines and the total; as of position 1 no
        budget line exists yet, and before the grant there is nothing to show."""
        assert run(demo_url, "budget") == 0
        out = capsys.readouterr().out
        assert "POINTEX" in out
        assert "500,000.00" in out
        assert run(demo_url, "budget", "--partner", "NIDV", "--effective", "2023-06-30") == 0
        assert "as effective on 2023-06-30" in capsys.readouterr().out
        assert run(demo_url, "budget", "--as-of", "2000-01-01") == 1
        assert "no grant signed" in capsys.readouterr().out
        assert run(demo_url, "budget", "--position", "50") == 0
        assert "up to event 50" in capsys.readouterr().out

    def test_claims_and_audit(self, demo_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        """Claims filter by state; the audit trail pages on after a position."""
        assert run(demo_url, "claims", "--state", "rejected") == 0
        out = capsys.readouterr().out
        assert "claims (8 of 8)" in out
        assert run(demo_url, "audit", "--after", "10", "--limit", "3") == 0
        out = capsys.readouterr().out
        assert "│ 11 │" in out
        assert "│ 10 │" not in out

    def test_info_and_replay(self, demo_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        """info counts events recorded and projected; replay of the demo finds no difference."""
        assert run(demo_url, "info") == 0
        assert "events projected: 829" in capsys.readouterr().out
        assert run(demo_url, "project") == 0
        assert run(demo_url, "replay") == 0
        assert "identical" in capsys.readouterr().out


class TestSnapshotsOnTheCommandLine:
    def test_info_counts_the_seals_and_verify_names_a_bad_snapshot(
        self, url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """info says how many snapshots are stored and what their seals say; after a rollback
        it counts the one failing its seal, and verify names it and exits 1."""
        monkeypatch.setenv("GRANTLEDGER_SNAPSHOT_KEY", AESCipher.create_key(32))
        story = build(url, None)
        assert run(url, "project") == 0  # read-only commands need read models: they never make them
        capsys.readouterr()
        assert run(url, "info") == 0
        assert "snapshots stored: 4 (4 sealed with this key, 0 sealed with another key" in capsys.readouterr().out
        roll_back(story)
        assert run(url, "info") == 0
        out = capsys.readouterr().out
        assert "3 sealed with this key, 0 sealed with another key, 0 without a seal, 1 sealed with this key but" in out
        assert "1 fail their seal and are never used" in out
        assert run(url, "verify") == 1
        assert f"BAD SNAPSHOT of BudgetLine {story.line} at version 100" in capsys.readouterr().out

    def test_key_create_makes_a_snapshot_key(
        self, url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """`key create` names both uses; its key is accepted as GRANTLEDGER_SNAPSHOT_KEY."""
        assert run(url, "key", "create") == 0
        captured = capsys.readouterr()
        assert "GRANTLEDGER_SNAPSHOT_KEY" in captured.err
        monkeypatch.setenv("GRANTLEDGER_SNAPSHOT_KEY", captured.out.strip().splitlines()[-1])
        open_context(url).close()


class TestImportRates:
    def test_records_every_row_or_none(self, demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A good file records its rates; a file with one bad row names that line and records
        nothing, not even its good rows."""
        good = tmp_path / "rates.csv"
        good.write_text("currency,month,rate\nUSD,2023-07,1.0913\nJPY,2023-07,155.12\n")
        with open_context(demo_url) as ctx:
            before = ctx.app.recorder.max_notification_id()
        assert run(demo_url, "import-rates", str(good)) == 0
        assert "recorded 2 rates" in capsys.readouterr().out
        bad = tmp_path / "bad.csv"
        bad.write_text("currency,month,rate\nCAD,2023-07,1.4710\nUSD,2023-07,1.20\n")
        assert run(demo_url, "import-rates", str(bad)) == 2
        err = capsys.readouterr().err
        assert "line 3" in err
        assert "nothing was recorded" in err
        with open_context(demo_url) as ctx:
            assert ctx.app.recorder.max_notification_id() == (before or 0) + 2

    @pytest.mark.parametrize(
        ("content", "says"),
        [
            (
                b"currency,month,rate,source\nCHF,2021-01,1.0,ok\nCHF,2021-02,1.0,\xff\xfe\n",
                "line 3: byte 0xff is not UTF-8",
            ),
            (b"currency,month,rate\nJPY,9999-12,140\n", "line 2: the rate month 9999-12 is in the future"),
            (b"currency,month,rate,source\nCHF,2021-02,1.0,x,surplus\n", "line 2: 5 cells under a header of 4"),
            (b"currency,month,rate,note\nCHF,2021-02,1.0,x\n", "line 1: the header has the unknown column 'note'"),
            (b"currency,rate\nCHF,1.0\n", "line 1: the header has no month column"),
            (b"currency,month,rate,rate\nCHF,2021-02,1.0,1.1\n", "line 1: the header has the column rate twice"),
        ],
        ids=["not-utf8", "future-month", "surplus-cell", "unknown-column", "missing-column", "column-twice"],
    )
    def test_a_file_that_is_not_a_rates_file_is_refused_naming_the_line(
        self, demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, says: str
    ) -> None:
        """Bytes that are not UTF-8 (a traceback before), a month in the future, a surplus cell, a
        header with unknown, missing or doubled columns: exit 2 naming the file and the line,
        and nothing recorded (surplus cells and unknown columns were silently ignored)."""
        path = tmp_path / "rates.csv"
        path.write_bytes(content)
        with open_context(demo_url) as ctx:
            before = ctx.app.recorder.max_notification_id()
        assert run(demo_url, "import-rates", str(path)) == 2
        err = capsys.readouterr().err
        assert f"{path} {says}" in err
        assert "nothing was recorded" in err
        with open_context(demo_url) as ctx:
            assert ctx.app.recorder.max_notification_id() == before

    def test_a_utf8_file_with_a_byte_order_mark_is_read(
        self, demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A spreadsheet's "CSV UTF-8" starts with a byte-order mark: its header is still read."""
        path = tmp_path / "rates.csv"
        path.write_bytes("\ufeffcurrency,month,rate,source\nCHF,2023-07,0.97,BCE \u00e9dition\n".encode())
        assert run(demo_url, "import-rates", str(path)) == 0
        assert "recorded 1 rates" in capsys.readouterr().out
