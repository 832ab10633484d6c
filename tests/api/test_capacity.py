"""`serve --workers N` starts only when the stores' PostgreSQL servers can take every connection
N workers may open (api/capacity.py); otherwise it says how many workers fit and starts nothing."""

from __future__ import annotations

import pytest

from api import capacity
from api.capacity import MAX_WORKERS, check_workers, pools
from api.cli import main
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


@pytest.mark.postgres
class TestOnPostgres:
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
        with pytest.raises(InvalidInput, match=rf"accepts {limit} connections, fewer than one worker may open"):
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
        monkeypatch.delenv("GRANTLEDGER_READ_DATABASE_URL", raising=False)
        too_many = server_connection_limit(pg_url) // _per_worker(pg_url) + 1
        assert main(["--database-url", pg_url, "serve", "--workers", str(too_many)]) == 2
        assert f"--workers {too_many} may open up to" in capsys.readouterr().err
