"""The grantledger command line, as a financial officer or an administrator uses it."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from eventsourcing.cryptography import AESCipher

from api.cli import BROKEN_PIPE, main
from api.context import open_context
from api.demo_data import SMES, sme_id
from api.security import ServiceStore
from ledger.mission import mission_id
from projections.queries import ClaimFilter, LineFigures, budget_overview, list_claims
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
        the same store is refused (exit 2) and records nothing; --reuse keeps it, and keeps the
        tokens a running service may be using (saying so, and how to get a new one)."""
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
        out = capsys.readouterr().out
        assert "already loaded" in out
        assert "claire.coordinator   (kept: the token printed when it was made still works)" in out
        assert "token revoke --name claire.coordinator, then " in out
        assert "glt_" not in out, "no new token is printed for a user who has one"
        with open_context(url) as ctx:
            assert ctx.app.recorder.max_notification_id() == events
            store = ServiceStore(ctx.read_db)
            assert store.actor_for(tokens[0]) is not None, "the running service's token still works"
            assert len(store.list_tokens()) == 8, "no token was issued twice"

    def test_reuse_gives_a_token_only_to_demo_users_without_one(
        self, url: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A demo user whose token was revoked gets a new one on --reuse (printed, working);
        the others keep theirs."""
        assert run(url, "demo") == 0
        capsys.readouterr()
        assert run(url, "token", "revoke", "--name", "arthur.auditor") == 0
        assert run(url, "demo", "--reuse") == 0
        lines = capsys.readouterr().out.splitlines()
        (auditor,) = [line for line in lines if "arthur.auditor" in line and line.strip().startswith("auditor")]
        assert "(kept" in next(line for line in lines if "claire.coordinator" in line)
        with open_context(url) as ctx:
            actor = ServiceStore(ctx.read_db).actor_for(auditor.split()[-1])
            assert actor is not None
            assert actor.id == "arthur.auditor"

    def test_the_command_line_is_told_where_the_demo_is(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """After scripts/demo (its store named by the environment, demo/grantledger.db), the demo
        says how the command line finds it, and a read-only command on the default store, which
        does not exist, names the demo's store and how to use it; doing so works."""
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("GRANTLEDGER_DATABASE_URL", "sqlite:///demo/grantledger.db")
        assert main(["demo", "--reuse"]) == 0
        assert "finds this store with --database-url sqlite:///demo/grantledger.db" in capsys.readouterr().out
        monkeypatch.delenv("GRANTLEDGER_DATABASE_URL")
        assert main(["budget"]) == 2
        err = capsys.readouterr().err
        assert (
            "no ledger at sqlite:///grantledger.db (the default store); the demo's store is demo/grantledger.db: "
            "add --database-url sqlite:///demo/grantledger.db or set GRANTLEDGER_DATABASE_URL" in err
        )
        assert not (tmp_path / "grantledger.db").exists()
        assert main(["--database-url", "sqlite:///demo/grantledger.db", "budget"]) == 0
        assert main(["--database-url", f"sqlite:///{tmp_path / 'other.db'}", "budget"]) == 2
        assert "the demo's store" not in capsys.readouterr().err, "a store named on purpose gets the plain refusal"


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

    def test_expiry_and_last_use_are_listed(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        """--expires takes a date or a number of days; the creation says until when the token
        works; token list shows each token's last day (or never) and last use (never yet)."""
        assert run(url, "token", "create", "--role", "auditor", "--name", "eve", "--expires", "2999-06-30") == 0
        assert "it works through 2999-06-30 (UTC)" in capsys.readouterr().err
        assert run(url, "token", "create", "--role", "auditor", "--name", "ann", "--expires", "90d") == 0
        in_90_days = datetime.now(UTC).date() + timedelta(days=90)
        assert f"it works through {in_90_days} (UTC)" in capsys.readouterr().err
        assert run(url, "token", "create", "--role", "auditor", "--name", "bob") == 0
        assert "it never expires" in capsys.readouterr().err
        assert run(url, "token", "list") == 0
        lines = capsys.readouterr().out.replace("┃", "│").splitlines()
        rows = {line.split("│")[1].strip(): line for line in lines if "│" in line}
        assert "expires" in rows["name"]
        assert "last used" in rows["name"]
        assert "2999-06-30" in rows["eve"]
        assert str(in_90_days) in rows["ann"]
        assert rows["bob"].count("never") == 2, "bob's token never expires and was never used"

    @pytest.mark.parametrize(
        ("expires", "message"),
        [
            ("2020-01-01", "the expiry date 2020-01-01 is in the past (today is "),
            ("soon", "--expires 'soon' is neither a date nor a number of days; write YYYY-MM-DD"),
            ("2027-02-30", "neither a date nor a number of days"),
            ("0d", "give at least 1d"),
            ("99999999d", "too far ahead"),
        ],
    )
    def test_an_expiry_that_makes_no_sense_is_refused(
        self, url: str, capsys: pytest.CaptureFixture[str], expires: str, message: str
    ) -> None:
        """A past date, a word, a day not in the calendar, no days, too many: exit 2 saying why."""
        assert run(url, "token", "create", "--role", "auditor", "--name", "x", "--expires", expires) == 2
        assert message in capsys.readouterr().err

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

    def test_budget_subtotals_and_remaining_after_pending(
        self, demo_url: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The budget table shows remaining after pending, a subtotal after each partner's lines,
        a subtotal per category and the grand total, with the query functions' figures."""
        assert run(demo_url, "budget") == 0
        rows = capsys.readouterr().out.splitlines()
        with open_context(demo_url) as ctx, ctx.read_db.reading() as conn:
            overview = budget_overview(conn)
        assert overview is not None
        assert any("after pending" in row for row in rows)

        def row_of(first: str, second: str) -> list[str]:
            cells = [[c.strip() for c in row.split("│")[1:-1]] for row in rows if "│" in row]
            found = [c for c in cells if c[:2] == [first, second]]
            assert len(found) == 1, (first, second)
            return found[0][2:]

        def shown(line: LineFigures) -> list[str]:
            figures = (line.allocated, line.pending, line.committed, line.paid, line.spent, line.remaining)
            return [f"{v:,.2f}" for v in (*figures, line.remaining_after_pending)]

        for subtotal in overview.by_partner():
            assert row_of(subtotal.partner, "subtotal") == shown(subtotal)
        for subtotal in overview.by_category():
            assert row_of("all partners", subtotal.category) == shown(subtotal)
        assert row_of("TOTAL", "") == shown(overview.totals())
        waiting = next(line for line in overview.lines if line.pending > 0)
        assert row_of(waiting.partner, waiting.category) == shown(waiting)
        assert waiting.remaining_after_pending < waiting.remaining

    def test_codes_in_any_case_and_unknown_codes(self, demo_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        """--partner, --state, --mission and --sme take codes in any case (a mission by its
        code, an SME by its identifier); an unknown one exits 2 naming the valid ones."""
        assert run(demo_url, "budget", "--partner", "pointex") == 0
        out = capsys.readouterr().out
        assert "POINTEX" in out
        assert "subtotal" in out
        assert "NIDV" not in out
        assert "all partners" not in out
        assert run(demo_url, "claims", "--state", "REJECTED") == 0
        assert "claims (8 of 8)" in capsys.readouterr().out
        with open_context(demo_url) as ctx, ctx.read_db.reading() as conn:
            japan = list_claims(conn, ClaimFilter(mission_id=str(mission_id("JPN-2023"))), limit=0)[1]
            one_sme = list_claims(conn, ClaimFilter(sme_id=str(sme_id(SMES[0]))), limit=0)[1]
        assert run(demo_url, "claims", "--mission", "jpn-2023", "--partner", "Pointex") == 0
        assert f"of {japan})" in capsys.readouterr().out
        assert run(demo_url, "claims", "--sme", SMES[0].identifier.lower()) == 0
        assert f"of {one_sme})" in capsys.readouterr().out
        for args, says in (
            (["budget", "--partner", "POINTX"], "the partners are NIDV, NTT, POINTEX, SIIT, SYSTEMATIC, TECHTERA"),
            (["claims", "--partner", "POINTX"], "the partners are NIDV, NTT, POINTEX, SIIT, SYSTEMATIC, TECHTERA"),
            (
                ["claims", "--state", "aproved"],
                "the states are submitted, approved, partly_paid, paid, rejected, withdrawn",
            ),
            (["claims", "--mission", "JPN-2024"], "the missions are CAN-2023, IDN-2023, JPN-2023, USA-2022"),
            (["claims", "--sme", "XX000"], "no SME is registered under 'XX000'"),
        ):
            assert run(demo_url, *args) == 2, args
            assert says in capsys.readouterr().err, args

    def test_info_and_replay(self, demo_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        """info counts events recorded and projected; replay of the demo finds no difference."""
        assert run(demo_url, "info") == 0
        assert "events projected: 1200" in capsys.readouterr().out
        assert run(demo_url, "project") == 0
        assert run(demo_url, "replay") == 0
        assert "identical" in capsys.readouterr().out


class TestPipes:
    """`grantledger ... | head`: once the reader has what it wanted, the command ends quietly."""

    @pytest.mark.parametrize("args", [["audit"], ["verify"]], ids=["rich table", "plain print"])
    def test_a_reader_that_has_gone_gets_no_traceback(self, demo_url: str, args: list[str]) -> None:
        """A pipe whose reader has gone before the command writes (as `| head` is once it has
        its lines): the command exits 141 (128 + SIGPIPE, as a shell reports for `yes | head`)
        and writes nothing to stderr (no BrokenPipeError traceback)."""
        command = [sys.executable, "-m", "api.cli", "--database-url", demo_url, *args]
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
            assert process.stdout is not None
            assert process.stderr is not None
            process.stdout.close()
            err = process.stderr.read().decode()
            assert process.wait(timeout=60) == BROKEN_PIPE
        assert err == ""

    @pytest.mark.parametrize(
        "args",
        [["budget"], ["claims"], ["audit"], ["token", "list"], ["verify"], ["info"]],
        ids=lambda args: " ".join(args),
    )
    def test_every_printing_command_ends_quietly(
        self, demo_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str]
    ) -> None:
        """Whatever command prints, a closed stdout ends it with 141 and says nothing."""
        monkeypatch.setattr(sys, "stdout", ClosedPipe())
        assert run(demo_url, *args) == BROKEN_PIPE
        assert capsys.readouterr().err == ""


class ClosedPipe(io.StringIO):
    """A stdout whose reader has gone: every write fails as a closed pipe does."""

    def write(self, _text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def isatty(self) -> bool:
        return False


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
        """A good file records its rates (a currency in any case, kept in capitals); a file with
        one bad row names that line and records nothing, not even its good rows; an unknown
        currency is named with the ones the ledger accepts."""
        good = tmp_path / "rates.csv"
        good.write_text("currency,month,rate\nUSD,2023-07,1.0913\njpy,2023-07,155.12\n")
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
            assert ctx.app.quote("JPY", "2023-07").rate == Decimal("155.12"), "jpy is recorded as JPY"
        unknown = tmp_path / "unknown.csv"
        unknown.write_text("currency,month,rate\nXYZ,2023-07,1.5\n")
        assert run(demo_url, "import-rates", str(unknown)) == 2
        assert "line 2: currency 'XYZ' is not one the ledger accepts; use one of CAD" in capsys.readouterr().err

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
