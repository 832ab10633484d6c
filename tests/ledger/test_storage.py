"""Storage is chosen by one URL; the same code runs on every store."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.errors import InvalidInput
from ledger.storage import DEFAULT_URL, database_url, library_env, open_ledger, shown_url
from tests.builders import sign_alliance


class TestDatabaseUrl:
    def test_default_is_a_sqlite_file_in_the_working_directory(self) -> None:
        assert database_url({}) == DEFAULT_URL == "sqlite:///grantledger.db"
        assert library_env(DEFAULT_URL)["SQLITE_DBNAME"] == "grantledger.db"
        assert database_url({"GRANTLEDGER_DATABASE_URL": "memory://"}) == "memory://"

    def test_sqlite_absolute_path(self) -> None:
        env = library_env("sqlite:////var/lib/ledger/books.db")
        assert env == {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": "/var/lib/ledger/books.db",
            "SQLITE_LOCK_TIMEOUT": "30",
        }

    def test_postgres_url_with_schema_and_password(self) -> None:
        env = library_env("postgresql://ledger:s%40cret@db.internal:6432/books?schema=alliance")
        assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
        assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]) == ("db.internal", "6432", "books")
        assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"], env["POSTGRES_SCHEMA"]) == (
            "ledger",
            "s@cret",
            "alliance",
        )
        assert library_env("postgresql://u@h/d")["POSTGRES_SCHEMA"] == "public"

    @pytest.mark.parametrize(
        "url", ["mysql://u@h/d", "sqlite://", "sqlite://host/x.db", "postgresql:///db", "nonsense"]
    )
    def test_bad_urls_say_what_is_expected(self, url: str) -> None:
        with pytest.raises(InvalidInput, match=r"write (sqlite:///|postgresql://user@host)|use sqlite:///"):
            library_env(url)

    @pytest.mark.parametrize(
        "url",
        [
            "mysql://ledger:Hunter2secret@h/d",
            "postgresql://ledger:Hunter2secret@/books",
            "postgresql://ledger:Hunter2secret@db/books?pool_size=many",
            "postgresql://ledger:Hunter2secret@db:port/books",
            "sqlite://ledger:Hunter2secret@host/x.db",
        ],
    )
    def test_a_refused_url_is_shown_without_its_password(self, url: str) -> None:
        """The message may reach a terminal, a CI log or an issue: never the password."""
        for parse in (library_env, _read_engine):
            with pytest.raises(InvalidInput) as refused:
                parse(url)
            assert "Hunter2secret" not in str(refused.value)
            assert "ledger:***@" in refused.value.detail or "***@" in refused.value.detail

    def test_a_malformed_url_is_shown_without_what_precedes_its_host(self) -> None:
        assert shown_url("postgresql://ledger:Hunter2secret@db:port/books") == "postgresql://***@db:port/books"
        assert shown_url("postgresql://ledger:Hunter2secret@db:5432/books") == "postgresql://ledger:***@db:5432/books"
        assert shown_url("sqlite:///plain.db") == "sqlite:///plain.db"


def _read_engine(url: str) -> object:
    from projections.db import ReadDatabase

    return ReadDatabase(url)


class TestSqliteFile:
    def test_events_survive_closing_and_reopening(self, tmp_path: Path) -> None:
        """A SQLite file keeps the books between runs; reopening creates no new tables or events."""
        url = f"sqlite:///{tmp_path / 'nested' / 'books.db'}"
        (tmp_path / "nested").mkdir()
        first = open_ledger(url)
        sign_alliance(first)
        count = first.recorder.max_notification_id()
        first.close()
        again = open_ledger(url)
        try:
            assert again.recorder.max_notification_id() == count
            assert again.grant().code == "EU-ALLIANCE"
        finally:
            again.close()


class TestPostgresPool:
    def test_pool_size_comes_from_the_url(self) -> None:
        """Each ledger keeps few connections open by default, so many processes fit the server."""
        assert library_env("postgresql://u@h/d")["POSTGRES_POOL_SIZE"] == "2"
        assert library_env("postgresql://u@h/d?pool_size=10")["POSTGRES_POOL_SIZE"] == "10"
        with pytest.raises(InvalidInput, match="pool_size must be a positive whole number"):
            library_env("postgresql://u@h/d?pool_size=0")
