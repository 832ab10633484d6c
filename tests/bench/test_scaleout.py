"""The scale-out benchmark (bench/scaleout.py): its quick mode runs on PostgreSQL and reports its
figures only after the store's checks, and those checks fail on a store that does not hold exactly
the claims answered 201. No timings are asserted."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench import loadgen, scaleout
from bench.options import Options
from tests.conftest import PG_URL, require_postgres


@pytest.fixture(scope="module")
def seeded() -> Iterator[scaleout.Seeded]:
    require_postgres()
    with scaleout.fresh_database(PG_URL) as url:
        yield scaleout.seed(url)


def answered(statuses: dict[str, int], warmup: dict[str, int] | None = None) -> dict[str, Any]:
    """A load generator's summary of one phase, as check() reads it."""
    errors = sum(n for status, n in statuses.items() if status != "201")
    return {"statuses": statuses, "failures": {}, "warmup": warmup or {}, "errors": errors, "error_sample": ""}


class TestSeed:
    def test_sixteen_officers_with_their_own_tokens_cover_every_partner_each_on_its_own_mission(
        self, seeded: scaleout.Seeded
    ) -> None:
        tokens = {client["headers"]["Authorization"] for client in seeded.clients}
        missions = {client["claims"]["mission_id"] for client in seeded.clients}
        assert len(seeded.clients) == len(tokens) == scaleout.CONCURRENCY
        assert len(missions) == 6, "one mission per partner"
        assert all(client["claims"]["sme_ids"] for client in seeded.clients)


class TestChecks:
    def test_a_partner_whose_officers_recorded_nothing_fails_the_check(self, seeded: scaleout.Seeded) -> None:
        """(The quick run below passes the checks with claims of every partner.)"""
        with pytest.raises(RuntimeError, match="no claim recorded for TECHTERA, NTT"):
            scaleout.check(seeded, [answered({})])

    def test_a_201_the_store_does_not_hold_fails_the_check(self, seeded: scaleout.Seeded) -> None:
        with pytest.raises(RuntimeError, match="1 claims answered 201, 0 in the event log"):
            scaleout.check(seeded, [answered({}, warmup={"201": 1})])

    def test_any_answer_but_201_fails_the_check(self, seeded: scaleout.Seeded) -> None:
        with pytest.raises(RuntimeError, match="1 errors"):
            scaleout.check(seeded, [answered({"503": 1})])


class TestPerClientLoad:
    def test_each_connection_sends_its_own_headers(self) -> None:
        """bench.loadgen's clients: every connection's requests carry that client's header."""
        seen: list[str] = []

        async def serve() -> dict[str, Any]:
            async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                try:
                    while head := await reader.readuntil(b"\r\n\r\n"):
                        seen.append(next(line for line in head.decode().split("\r\n") if line.startswith("X-Who")))
                        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                        await writer.drain()
                except (asyncio.IncompleteReadError, ConnectionError):
                    pass  # the client closed its connection
                finally:
                    writer.close()
                    await writer.wait_closed()

            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            clients = [{"headers": {"X-Who": f"client-{n}"}} for n in range(3)]
            phase = loadgen.Phase("who", "closed", "GET", "/", 0.3, warmup=0.0, clients=clients)
            async with server:
                result = await loadgen.run_phase(phase, "127.0.0.1", port, None)
                await asyncio.sleep(0.1)  # the handlers see their clients go and close
                return result

        result = asyncio.run(serve())
        assert result["ok"] > 0
        assert result["errors"] == 0
        assert {who.split(": ")[1] for who in seen} == {"client-0", "client-1", "client-2"}


def test_the_quick_run_reports_both_figures_after_its_checks(tmp_path: Path) -> None:
    require_postgres()
    figures = scaleout.run(Options(quick=True, workdir=tmp_path, postgres_url=PG_URL))
    assert [f.section for f in figures] == [scaleout.SECTION] * 2
    served, raw = figures
    assert served.ours > 0
    assert served.baseline is not None
    assert served.baseline > 0
    assert "replay and verify clean" in served.note
    assert raw.ours > 0
    assert raw.baseline is not None
    assert raw.baseline > 0
    json.dumps([f.as_json() for f in figures])
