"""`serve --workers N` starts only when the stores' PostgreSQL servers can take every connection
N workers may open (api/capacity.py); otherwise it says how many workers fit and starts nothing."""

from __future__ import annotations

import re

import pytest

from api import capacity
from api.capacity import MAX_WORKERS, check_workers, pools
from api.cli import main
from api.context import open_context
from ledger.errors import InvalidInput
from projections.db import GROWTH, server_connection_limit
from tests.conftest import PostgresSchema


@pytest.fixture
def pg_url(pg_schema: PostgresSchema) -> str:
    return pg_schema.url


def _per_worker(url: str) -> int:
    return sum(pool.most for pool in pools(url, url))


class TestWorkers:
    @pytest.mark.parametrize("workers", [0, -1, MAX_WORKERS + 1])
    def test_a_number_of_workers_out_of_range_is_refused(self, workers: int) -> None:
        with pytest.raises(InvalidInput, match=rf"--workers {workers}: write a whole number from 1 to {MAX_WORKERS}"):
            check_workers(workers, "sqlite:///x.db", "sqlite:///x-read.db")

    def test_sqlite_stores_open_no_server_connections(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def no_server(url: str) -> int:
            raise AssertionError(f"asked a server for {url}")

        monkeypatch.setattr(capacity, "server_connection_limit", no_server)
        assert pools("sqlite:///x.db", "sqlite:///x-read.db") == []
        check_workers(MAX_WORKERS, "sqlite:///x.db", "sqlite:///x-read.db")

    def test_each_pool_counts_its_most(self) -> None:
        """The event store's pool grows by the library's overflow (8), the read models' by GROWTH."""
        url = "postgresql://postgres@127.0.0.1:5432/test?schema=s&pool_size=3"
        assert [(p.what, p.most) for p in pools(url, url)] == [("the event store", 11), ("the read models", 3 + GROWTH)]
        assert [p.what for p in pools(url, "sqlite:///read.db")] == ["the event store"]

    def test_exactly_as_many_connections_as_the_server_accepts_start(self, monkeypatch: pytest.MonkeyPatch) -> None:
        url = "postgresql://postgres@db.example:5432/test"
        per_worker = _per_worker(url)
        monkeypatch.setattr(capacity, "server_connection_limit", lambda _url: 3 * per_worker)
        check_workers(3, url, url)
        with pytest.raises(InvalidInput, match=rf"--workers 4 may open up to {4 * per_worker} connections"):
            check_workers(4, url, url)

    def test_pools_on_different_servers_are_counted_apart(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Each server takes only the pools of the URLs that name it."""
        events, reads = "postgresql://postgres@a.example/test", "postgresql://postgres@b.example/test"
        asked: list[str] = []

        def limit(url: str) -> int:
            asked.append(url)
            return 25

        monkeypatch.setattr(capacity, "server_connection_limit", limit)
        check_workers(2, events, reads)  # 20 on each server
        assert asked == [events, reads]
        with pytest.raises(InvalidInput, match=r"a.example:5432 \(20 per worker: the event store 10 and the read"):
            check_workers(2, events, events.replace("/test", "/test?schema=read"))

    def test_the_message_names_the_option_and_the_smallest_pools(self, monkeypatch: pytest.MonkeyPatch) -> None:
        url = "postgresql://postgres@[::1]:5433/test"
        monkeypatch.setattr(capacity, "server_connection_limit", lambda _url: 7)
        with pytest.raises(InvalidInput) as refused:
            check_workers(1, url, "sqlite:///read.db")
        assert refused.value.detail == (
            "one worker may open 10 connections to the PostgreSQL server at [::1]:5433 (the event store 10), "
            "but it accepts 7 (max_connections less the reserved ones): raise max_connections in "
            "postgresql.conf, or lower pool_size in --database-url (pool_size=1: 9 per worker); nothing was started"
        )

    def test_a_read_url_with_a_bad_port_is_refused_in_words(self) -> None:
        with pytest.raises(InvalidInput, match="the port must be a number"):
            check_workers(1, "sqlite:///x.db", "postgresql://postgres@db:port/test")

    @pytest.mark.parametrize("size", ["abc", "0", "-2", "1.5"])
    def test_a_read_url_with_a_bad_pool_size_is_refused_in_words(self, size: str) -> None:
        read = f"postgresql://postgres@127.0.0.1/test?pool_size={size}"
        with pytest.raises(InvalidInput, match=rf"pool_size must be a positive whole number, got '{re.escape(size)}'"):
            check_workers(1, "sqlite:///x.db", read)


@pytest.mark.postgres
class TestOnPostgres:
    def test_the_counted_pools_are_the_pools_a_worker_opens(self, pg_url: str) -> None:
        """Pool.most is what the event store's and the read models' pools may really hold."""
        url = f"{pg_url}&pool_size=3"
        with open_context(url, url) as ctx:
            datastore_pool = ctx.app.recorder.datastore.pool  # type: ignore[attr-defined]
            read_pool = ctx.read_db.engine.pool
            live = [datastore_pool.max_size, read_pool.size() + max(read_pool._max_overflow, 0)]  # type: ignore[attr-defined]
        assert [pool.most for pool in pools(url, url)] == live == [11, 3 + GROWTH]

    def test_as_many_workers_as_fit_start_and_one_more_is_refused(self, pg_url: str) -> None:
        limit = server_connection_limit(pg_url)
        fit = limit // _per_worker(pg_url)
        check_workers(fit, pg_url, pg_url)
        with pytest.raises(InvalidInput) as refused:
            check_workers(fit + 1, pg_url, pg_url)
        message = refused.value.detail
        assert f"--workers {fit + 1} may open up to {(fit + 1) * _per_worker(pg_url)} connections" in message
        assert f"it accepts {limit}" in message
        assert f"Run --workers {fit} or fewer" in message

    def test_a_pool_larger_than_the_server_is_refused_for_one_worker(self, pg_url: str) -> None:
        limit = server_connection_limit(pg_url)
        huge = f"{pg_url}&pool_size={limit}"
        with pytest.raises(
            InvalidInput, match=rf"one worker may open {2 * (limit + 8)} connections .*but it accepts {limit} "
        ):
            check_workers(1, huge, huge)

    def test_read_models_elsewhere_count_only_the_event_store_here(self, pg_url: str) -> None:
        limit = server_connection_limit(pg_url)
        store_only = limit // next(p.most for p in pools(pg_url, "sqlite:///r.db"))
        check_workers(min(store_only, MAX_WORKERS), pg_url, "sqlite:///r.db")

    def test_an_unreachable_server_is_left_to_the_service_to_report(self) -> None:
        check_workers(4, "postgresql://postgres@127.0.0.1:1/test", "postgresql://postgres@127.0.0.1:1/test")

    def test_serve_refuses_before_it_starts_anything(
        self, pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        def started(*_args: object) -> None:
            raise AssertionError("the service was started")

        monkeypatch.setattr("api.cli.service.serve", started)
        monkeypatch.setenv("GRANTLEDGER_DATABASE_URL", pg_url)  # serve sets it; restored at teardown
        monkeypatch.delenv("GRANTLEDGER_READ_DATABASE_URL", raising=False)
        too_many = server_connection_limit(pg_url) // _per_worker(pg_url) + 1
        assert main(["--database-url", pg_url, "serve", "--workers", str(too_many)]) == 2
        assert f"--workers {too_many} may open up to" in capsys.readouterr().err
