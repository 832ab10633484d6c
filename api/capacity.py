"""Whether the PostgreSQL servers behind the stores can take every connection ``serve --workers N``
may open, checked before the service starts.

Each worker keeps two pools: the event store's (``pool_size``, growing by up to
``POSTGRES_MAX_OVERFLOW`` under load: ledger.storage) and the read models' (``pool_size`` plus
projections.db.GROWTH, kept). Under load all of them can be open at once, so N workers may hold N
times both pools' most on a server that holds both stores. A server that allows fewer
(``max_connections`` less the reserved ones: ``superuser_reserved_connections`` and, from
PostgreSQL 16, ``reserved_connections``) refuses connections in the middle of
requests, which fail with it; ``serve`` refuses to start instead and says what to change. SQLite
and in-memory stores open no server connections and are not checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.exc import OperationalError

from api.serving import bind_address
from ledger.errors import InvalidInput
from ledger.storage import library_env, pool_size_of, url_port
from projections.db import GROWTH, server_connection_limit

#: More worker processes than this is a typo, not a deployment (each is a whole Python process).
MAX_WORKERS = 64


@dataclass(frozen=True)
class Pool:
    """One worker's pool on the server ``url`` names: ``size`` connections kept, growing by up to
    ``growth`` under load; ``option`` the command-line option that names its URL."""

    url: str
    size: int
    growth: int
    what: str
    option: str

    @property
    def most(self) -> int:
        return self.size + self.growth

    @property
    def server(self) -> str:
        """``host:port`` (``[::1]:5432`` for an IPv6 address)."""
        return bind_address(urlsplit(self.url).hostname or "", url_port(self.url) or 5432)


def _is_postgres(url: str) -> bool:
    return urlsplit(url).scheme.lower() in {"postgresql", "postgres"}


def pools(event_url: str, read_url: str) -> list[Pool]:
    """The PostgreSQL pools one worker keeps (none on SQLite or in memory)."""
    found = []
    if _is_postgres(event_url):
        env = library_env(event_url)
        size, growth = int(env["POSTGRES_POOL_SIZE"]), int(env["POSTGRES_MAX_OVERFLOW"])
        found.append(Pool(event_url, size, growth, "the event store", "--database-url"))
    if _is_postgres(read_url):
        found.append(Pool(read_url, pool_size_of(read_url), GROWTH, "the read models", "--read-database-url"))
    return found


def check_workers(workers: int, event_url: str, read_url: str) -> None:
    """Refuse (InvalidInput) a number of workers the stores' PostgreSQL servers cannot serve.

    Servers are told apart by host and port as the URLs write them (``localhost`` and
    ``127.0.0.1`` count as two). Not counted: connections others hold, command-line runs beside
    the service, and a reload that briefly runs old and new workers together."""
    if not 1 <= workers <= MAX_WORKERS:
        raise InvalidInput(f"--workers {workers}: write a whole number from 1 to {MAX_WORKERS}")
    by_server: dict[str, list[Pool]] = {}
    for pool in pools(event_url, read_url):
        by_server.setdefault(pool.server, []).append(pool)
    for server, kept in by_server.items():
        try:
            limit = server_connection_limit(kept[0].url)
        except OperationalError:  # not reachable now: the service's own start reports it
            continue
        if workers * sum(pool.most for pool in kept) > limit:
            raise InvalidInput(_too_many(workers, server, kept, limit))


def _too_many(workers: int, server: str, kept: list[Pool], limit: int) -> str:
    per_worker = sum(pool.most for pool in kept)
    each = " and ".join(f"{pool.what} {pool.most}" for pool in kept)
    smallest = sum(1 + pool.growth for pool in kept)
    where = f"the PostgreSQL server at {server}"
    accepts = f"it accepts {limit} (max_connections less the reserved ones)"
    options = " and ".join(dict.fromkeys(pool.option for pool in kept))
    fix = (
        f"raise max_connections in postgresql.conf, or lower pool_size in {options} "
        f"(pool_size=1: {smallest} per worker); nothing was started"
    )
    if limit < per_worker:
        return f"one worker may open {per_worker} connections to {where} ({each}), but {accepts}: {fix}"
    return (
        f"--workers {workers} may open up to {workers * per_worker} connections to {where} ({per_worker} per "
        f"worker: {each}), but {accepts}. Run --workers {limit // per_worker} or fewer, or {fix}"
    )
