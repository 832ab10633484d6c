"""Whether the PostgreSQL servers behind the stores can take every connection ``serve --workers N``
may open, checked before the service starts.

Each worker keeps two pools: the event store's (``pool_size``, growing by up to
``POSTGRES_MAX_OVERFLOW`` under load: ledger.storage) and the read models' (``pool_size`` plus
projections.db.GROWTH, kept). Under load all of them can be open at once, so N workers may hold N
times both pools' most on a server that holds both stores. A server that allows fewer
(``max_connections`` less ``superuser_reserved_connections``) refuses connections in the middle of
requests, which fail with it; ``serve`` refuses to start instead and says what to change. SQLite
and in-memory stores open no server connections and are not checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.exc import OperationalError

from ledger.errors import InvalidInput
from ledger.storage import library_env
from projections.db import GROWTH, server_connection_limit

#: More worker processes than this is a typo, not a deployment (each is a whole Python process).
MAX_WORKERS = 64


@dataclass(frozen=True)
class Pool:
    """The most connections one worker's pool may open, on the server ``url`` names."""

    url: str
    most: int
    what: str

    @property
    def server(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        return (parts.hostname or "", parts.port or 5432)


def _is_postgres(url: str) -> bool:
    return urlsplit(url).scheme.lower() in {"postgresql", "postgres"}


def pools(event_url: str, read_url: str) -> list[Pool]:
    """The PostgreSQL pools one worker keeps (none on SQLite or in memory)."""
    found = []
    if _is_postgres(event_url):
        env = library_env(event_url)
        most = int(env["POSTGRES_POOL_SIZE"]) + int(env["POSTGRES_MAX_OVERFLOW"])
        found.append(Pool(event_url, most, "the event store"))
    if _is_postgres(read_url):
        size = int(parse_qs(urlsplit(read_url).query).get("pool_size", ["2"])[0])
        found.append(Pool(read_url, size + GROWTH, "the read models"))
    return found


def check_workers(workers: int, event_url: str, read_url: str) -> None:
    """Refuse (InvalidInput) a number of workers the stores' PostgreSQL servers cannot serve."""
    if not 1 <= workers <= MAX_WORKERS:
        raise InvalidInput(f"--workers {workers}: write a whole number from 1 to {MAX_WORKERS}")
    by_server: dict[tuple[str, int], list[Pool]] = {}
    for pool in pools(event_url, read_url):
        by_server.setdefault(pool.server, []).append(pool)
    for server, kept in by_server.items():
        try:
            limit = server_connection_limit(kept[0].url)
        except OperationalError:  # not reachable now: the service's own start reports it
            continue
        if workers * sum(pool.most for pool in kept) > limit:
            raise InvalidInput(_too_many(workers, server, kept, limit))


def _too_many(workers: int, server: tuple[str, int], kept: list[Pool], limit: int) -> str:
    per_worker = sum(pool.most for pool in kept)
    each = " and ".join(f"{pool.what} {pool.most}" for pool in kept)
    where = f"the PostgreSQL server at {server[0]}:{server[1]}"
    fix = "lower pool_size in the database URL, or raise max_connections in postgresql.conf; nothing was started"
    if limit < per_worker:
        return f"{where} accepts {limit} connections, fewer than one worker may open ({per_worker}: {each}): {fix}"
    return (
        f"--workers {workers} may open up to {workers * per_worker} connections to {where} ({per_worker} per "
        f"worker: {each}), but it accepts {limit} (max_connections less the superuser-reserved ones). "
        f"Run --workers {limit // per_worker} or fewer, {fix}"
    )
