"""Which stores a command needs: a ledger that must exist, read models that must exist (read-only
commands never make them), and a projector that must be able to seal what it finds."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from api.cli import main
from ledger.storage import open_ledger
from tests.conftest import PG_URL, PostgresSchema


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


#: Every command that only reads, or that writes only into a ledger that must already exist.
NEEDING_A_LEDGER: dict[str, list[str]] = {
    "verify": ["verify"],
    "info": ["info"],
    "budget": ["budget"],
    "replay": ["replay"],
    "export": ["export", "--format", "csv", "--output", "{out}"],
    "claims": ["claims"],
    "audit": ["audit"],
    "token-list": ["token", "list"],
    "token-revoke": ["token", "revoke", "--name", "maria"],
    "project": ["project"],
    "import-rates": ["import-rates", "{rates}"],
}
NEEDS_A_LEDGER = [pytest.param(args, id=name) for name, args in NEEDING_A_LEDGER.items()]


def command(args: list[str], outside: Path) -> list[str]:
    rates = outside / "rates.csv"
    rates.write_text("currency,month,rate\nUSD,2023-07,1.0913\n")
    return [a.format(out=outside / "export", rates=rates) for a in args]


class TestMissingStore:
    """A command that needs a ledger refuses a URL that holds none and creates nothing there,
    so that an auditor cannot verify (or a user report on) an empty store made by a typo."""

    @pytest.mark.parametrize("args", NEEDS_A_LEDGER)
    def test_sqlite_path_with_no_file(
        self,
        tmp_path: Path,
        tmp_path_factory: pytest.TempPathFactory,
        capsys: pytest.CaptureFixture[str],
        args: list[str],
    ) -> None:
        """No file at the path: exit 2 with where it looked and what to check; the folder stays
        empty (no event file, no read-model file, no lock file)."""
        url = f"sqlite:///{tmp_path / 'x.db'}"
        assert run(url, *command(args, tmp_path_factory.mktemp("outside"))) == 2
        err = capsys.readouterr().err
        assert f"no ledger at {url}: the file does not exist; check --database-url or GRANTLEDGER_DATABASE_URL" in err
        assert list(tmp_path.iterdir()) == []

    def test_sqlite_file_that_holds_no_ledger(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """An empty file is not a ledger: verify says so and adds no table to it."""
        path = tmp_path / "empty.db"
        path.touch()
        assert run(f"sqlite:///{path}", "verify") == 2
        assert "the file holds no event tables" in capsys.readouterr().err
        assert path.stat().st_size == 0
        assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]

    @pytest.mark.postgres
    def test_postgres_schema_with_no_event_tables(
        self, pg_schema: PostgresSchema, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A schema that does not exist, then one that exists but is empty: every such command
        exits 2 naming the schema, and creates neither the schema nor a table in it."""
        for name, args in NEEDING_A_LEDGER.items():
            assert run(pg_schema.url, *command(args, tmp_path)) == 2, name
            assert f"the schema {pg_schema.name!r} holds no event tables" in capsys.readouterr().err, name
            assert schema_tables(pg_schema.name) is None, name
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{pg_schema.name}"')
        for name, args in NEEDING_A_LEDGER.items():
            assert run(pg_schema.url, *command(args, tmp_path)) == 2, name
            assert schema_tables(pg_schema.name) == [], name

    @pytest.mark.postgres
    def test_the_message_never_shows_the_password(
        self, pg_schema: PostgresSchema, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The URL in the refusal has its password masked (the test server trusts any)."""
        parts = urlsplit(pg_schema.url)
        user = parts.username or "postgres"
        url = urlunsplit(parts._replace(netloc=f"{user}:s3cret-pw@{parts.hostname}:{parts.port or 5432}"))
        assert run(url, "info") == 2
        err = capsys.readouterr().err
        assert f"no ledger at postgresql://{user}:***@{parts.hostname}" in err
        assert "s3cret-pw" not in err

    def test_commands_that_start_a_ledger_still_create_it(self, tmp_path: Path) -> None:
        """token create (the first step of a fresh install) creates the store; then verify runs."""
        url = f"sqlite:///{tmp_path / 'new.db'}"
        assert run(url, "token", "create", "--role", "auditor", "--name", "arthur") == 0
        assert (tmp_path / "new.db").is_file()
        assert run(url, "verify") == 0


def schema_tables(schema: str) -> list[str] | None:
    """The tables in a PostgreSQL schema, or None if the schema does not exist."""
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() is None:
            return None
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)).fetchall()
        return [row[0] for row in rows]


#: Every command that only reads: it must find read models, never make them.
READ_ONLY: dict[str, list[str]] = {
    name: args for name, args in NEEDING_A_LEDGER.items() if name not in {"project", "import-rates"}
}


class TestMissingReadModels:
    """A read-only command refuses read models that do not exist and creates none: new ones would
    hold no seal (verify would call an empty chain intact) or a chain sealed from scratch."""

    @pytest.mark.parametrize("args", [pytest.param(args, id=name) for name, args in READ_ONLY.items()])
    def test_a_read_url_that_names_nothing(
        self,
        demo_url: str,
        tmp_path_factory: pytest.TempPathFactory,
        capsys: pytest.CaptureFixture[str],
        args: list[str],
    ) -> None:
        """--read-database-url pointing at no file: exit 2 naming the URL and what to check; no
        file is created there."""
        where = tmp_path_factory.mktemp("typo")
        read_url = f"sqlite:///{where / 'typo-read.db'}"
        outside = tmp_path_factory.mktemp("outside")
        assert main(["--database-url", demo_url, "--read-database-url", read_url, *command(args, outside)]) == 2
        err = capsys.readouterr().err
        assert f"no read models at {read_url}: the file does not exist; check --read-database-url" in err
        assert list(where.iterdir()) == []

    def test_the_environment_variable_too(
        self, demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """GRANTLEDGER_READ_DATABASE_URL naming nothing is refused the same way."""
        monkeypatch.setenv("GRANTLEDGER_READ_DATABASE_URL", f"sqlite:///{tmp_path / 'nothing.db'}")
        assert run(demo_url, "verify") == 2
        assert "GRANTLEDGER_READ_DATABASE_URL" in capsys.readouterr().err
        assert not (tmp_path / "nothing.db").exists()

    def test_the_default_read_models_never_built(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        """An event store whose read models (``<name>-read.db``) were never made: verify says to
        run `grantledger project` first, exits 2 and makes nothing; after project it runs."""
        open_ledger(url).close()
        read_file = Path(urlsplit(url).path[1:]).with_name("ledger-read.db")
        assert not read_file.exists()
        assert run(url, "verify") == 2
        assert "run `grantledger project` first" in capsys.readouterr().err
        assert not read_file.exists()
        assert run(url, "project") == 0
        assert run(url, "verify") == 0

    @pytest.mark.postgres
    def test_a_postgres_read_schema_that_does_not_exist(
        self, demo_url: str, pg_schema: PostgresSchema, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A PostgreSQL read URL whose schema holds no read models: exit 2, no schema made."""
        assert main(["--database-url", demo_url, "--read-database-url", pg_schema.url, "budget"]) == 2
        assert f"the schema {pg_schema.name!r} holds no read-model tables" in capsys.readouterr().err
        assert schema_tables(pg_schema.name) is None


class TestStuckProjector:
    """Seals and tracking rewound behind read models that stay ahead: the projector cannot seal
    the events again, so verify must not call them merely "not sealed yet", nor replay crash."""

    def test_verify_and_replay_say_the_projector_is_stuck(
        self, demo_url: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """verify exits 1 saying the newer events are NOT SEALED and why; replay exits 1 with a
        message naming the event, never a traceback."""
        events = Path(urlsplit(demo_url).path[1:])
        with contextlib.closing(sqlite3.connect(events)) as conn:
            last = conn.execute("SELECT max(rowid) FROM stored_events").fetchone()[0]
        rewound = last - 3
        with contextlib.closing(sqlite3.connect(events.with_name("ledger-read.db"))) as conn, conn:
            conn.execute("DELETE FROM rm_chain WHERE position >= ?", (rewound,))
            conn.execute("DELETE FROM rm_audit WHERE position >= ?", (rewound,))
            conn.execute("UPDATE rm_tracking SET position = ? WHERE name != 'layout'", (rewound - 1,))
        assert run(demo_url, "verify") == 1
        out = capsys.readouterr().out
        assert "NOT SEALED" in out
        assert "the projector cannot seal them: the read models cannot apply event" in out
        assert run(demo_url, "replay") == 1
        out = capsys.readouterr().out
        assert "the live read models cannot be brought up to date" in out
        assert "IntegrityError" in out
