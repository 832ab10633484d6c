"""The load generator's requests with one path per request (the approvals of bench.httpwrites)."""

from __future__ import annotations

import asyncio
import json

import pytest

from bench.http11 import Connection
from bench.loadgen import OutOfPaths, Phase, Requests, nth
from bench.server import free_port


def approvals(paths: list[str]) -> Phase:
    return Phase(
        name="approvals",
        mode="closed",
        method="POST",
        path="/claims/{id}/approve",
        duration=1.0,
        headers={"Authorization": "Bearer t"},
        paths=paths,
        body={"on": "2023-03-28", "reason": "bench"},
    )


def test_the_nth_request_goes_to_the_nth_path_with_the_fixed_body() -> None:
    make = Requests(approvals(["/claims/a/approve", "/claims/b/approve"]), "127.0.0.1:1")
    for n, claim in enumerate("ab"):
        head, _, body = make(n).partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        assert lines[0] == f"POST /claims/{claim}/approve HTTP/1.1"
        assert "Authorization: Bearer t" in lines
        assert f"Content-Length: {len(body)}" in lines
        assert json.loads(body) == {"on": "2023-03-28", "reason": "bench"}


def test_a_request_past_the_last_path_is_not_sent_and_fails() -> None:
    make = Requests(approvals(["/claims/a/approve"]), "127.0.0.1:1")
    with pytest.raises(OutOfPaths):
        make(1)
    # Nothing listens on the port: a request that was sent would fail to connect instead.
    outcome = asyncio.run(nth(Connection("127.0.0.1", free_port()), make, 1, 1.0))
    assert isinstance(outcome, OutOfPaths)


def test_without_paths_every_request_goes_to_the_phase_path() -> None:
    phase = Phase(name="health", mode="closed", method="GET", path="/health", duration=1.0)
    make = Requests(phase, "127.0.0.1:1")
    assert make(0) == make(7) == b"GET /health HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n"
