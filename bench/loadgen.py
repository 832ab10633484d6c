"""A small HTTP/1.1 load generator, run as its own process: ``python -m bench.loadgen -``.

It reads a plan (JSON: the server's port and pid, and a list of phases) on standard input,
runs the phases one after the other and prints one JSON object per phase on one line: requests,
throughput, latency percentiles, status codes, and the CPU both processes used, so a reader
can see whether the server or the client was the limit. It speaks raw keep-alive HTTP/1.1 over
asyncio streams: no client library, so that the client costs far less than the server it
measures on the same machine.

Two modes per phase:
- ``closed``: ``connections`` clients each send a request as soon as the last one answered;
  the throughput is the most the server gives at that concurrency.
- ``open``: requests are due at a fixed ``rate`` whatever the server does, and latency is
  counted from when each was due, not from when it was sent, so a stalled server is charged
  for every request it delayed (no coordinated omission).

A closed phase may give ``clients``: one connection each, sending its own requests (its own
headers, say its user's token, and its own ``claims`` template) instead of ``connections`` alike.
With ``server_tree`` in the plan, the server's CPU is that of its pid and all its descendants
(gunicorn's workers).

Only requests sent (closed) or due (open) after ``warmup`` seconds count, for ``duration``.
An answer other than 2xx, a refused connection or no answer within ``timeout`` is an error.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench.http11 import Connection
from bench.proctree import tree_cpu_seconds

#: Seconds an open-loop phase waits, after the last request was due, for answers still out.
DRAIN_SECONDS = 10.0
#: Seconds a client waits after a failed request before the next (no busy loop on a dead server).
BACKOFF_SECONDS = 0.05


@dataclass
class Phase:
    """One load phase: what to send, how, and for how long."""

    name: str
    mode: str
    method: str
    path: str
    duration: float
    headers: dict[str, str] = field(default_factory=dict)
    warmup: float = 0.5
    connections: int = 8
    rate: float = 200.0
    timeout: float = 30.0
    #: "claims": a new, valid claim per request (from ``claims``); else no body.
    bodies: str = ""
    claims: dict[str, Any] = field(default_factory=dict)
    #: The n-th request's path is ``paths[n]`` (one per record acted on, e.g. a claim to approve);
    #: requests past the last are not sent and count as errors. Empty: always ``path``.
    paths: list[str] = field(default_factory=list)
    #: A JSON body sent with every request (when ``bodies`` is not "claims").
    body: dict[str, Any] | None = None
    #: Closed loop only: one connection per entry, with its own ``headers`` (added to the
    #: phase's) and ``claims`` template; ``connections`` is then ignored.
    clients: list[dict[str, Any]] = field(default_factory=list)


def claim_bodies(template: dict[str, Any]) -> Callable[[int], bytes]:
    """New claims for POST /claims: a fresh id and fresh receipt references every time,
    round-robin over SMEs selected for the mission, amounts far under the caps."""
    smes: list[str] = template["sme_ids"]
    tag = template["tag"]

    def line(cost_type: str, amount: int, receipt: str) -> dict[str, Any]:
        return {
            "cost_type": cost_type,
            "expense_date": template["expense_date"],
            "amount": {"amount": str(amount), "currency": template["currency"]},
            "receipt_ref": receipt,
            "description": cost_type.lower(),
        }

    def body(n: int) -> bytes:
        claim = {
            "id": str(uuid.uuid4()),
            "sme_id": smes[n % len(smes)],
            "mission_id": template["mission_id"],
            "on": template["on"],
            "lines": [
                line("TRAVEL", 20_000 + n % 5_000, f"BENCH-{tag}-{n:07d}-T"),
                line("ACCOMMODATION", 30_000 + n % 7_000, f"BENCH-{tag}-{n:07d}-H"),
            ],
        }
        return json.dumps(claim, separators=(",", ":")).encode()

    return body


class OutOfPaths(ValueError):
    """A phase with one path per request ran out of paths: the request was not sent."""


class Requests:
    """The bytes of the n-th request of a phase: the same for a GET, a new claim for a POST,
    or the n-th of the phase's ``paths`` with its fixed ``body``."""

    def __init__(self, phase: Phase, host: str) -> None:
        self.method = phase.method
        self.paths = phase.paths
        lines = [f"Host: {host}", *(f"{name}: {value}" for name, value in phase.headers.items())]
        self.rest = "\r\n".join(lines)
        self.head = self._head(phase.path)
        self.generate = claim_bodies(phase.claims) if phase.bodies == "claims" else None
        self.body = b"" if phase.body is None else json.dumps(phase.body, separators=(",", ":")).encode()
        self.fixed = self._with(self.head, self.body) if phase.method == "POST" else self._bare(self.head)

    def _head(self, path: str) -> str:
        return f"{self.method} {path} HTTP/1.1\r\n{self.rest}"

    @staticmethod
    def _bare(head: str) -> bytes:
        return (head + "\r\n\r\n").encode("latin-1")

    @staticmethod
    def _with(head: str, body: bytes) -> bytes:
        start = f"{head}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        return start.encode("latin-1") + body

    def __call__(self, n: int) -> bytes:
        if self.paths:
            if n >= len(self.paths):
                raise OutOfPaths(f"request {n + 1} has no path: the phase was given {len(self.paths)}")
            head = self._head(self.paths[n])
            return self._with(head, self.body) if self.method == "POST" else self._bare(head)
        return self.fixed if self.generate is None else self._with(self.head, self.generate(n))


@dataclass
class Tally:
    """What the counted requests of a phase gave."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    error_sample: str = ""
    lags: list[float] = field(default_factory=list)
    #: Requests made in the phase, counted or not (warmup included): the paths it used up.
    sent: int = 0
    #: Closed loop: what the requests sent in the warmup got (a status, or the failure's kind),
    #: not counted, so that a caller can tell every request the server was sent.
    warmup: Counter[str] = field(default_factory=Counter)

    def answered(self, latency: float, status: int, body: bytes) -> None:
        self.latencies.append(latency)
        self.statuses[status] += 1
        if not 200 <= status < 300 and not self.error_sample:
            self.error_sample = f"{status}: {body[:300].decode(errors='replace')}"

    def failed(self, error: BaseException) -> None:
        kind = "timeout" if isinstance(error, TimeoutError) else type(error).__name__
        self.failures[kind] += 1
        if not self.error_sample:
            self.error_sample = f"{kind}: {error}"


#: What a request may fail with, other than an error status (which is an answer).
FAILURES = (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError)


async def attempt(connection: Connection, request: bytes, timeout: float) -> tuple[int, bytes] | BaseException:
    """One exchange: the answer, or what went wrong (the connection is then dropped)."""
    try:
        async with asyncio.timeout(timeout):
            return await connection.exchange(request)
    except FAILURES as error:
        connection.close()
        return TimeoutError(f"no answer within {timeout:g} s") if isinstance(error, TimeoutError) else error


async def nth(connection: Connection, make: Requests, n: int, timeout: float) -> tuple[int, bytes] | BaseException:
    """The n-th request of a phase, sent: its answer, or what went wrong (also: no path for it)."""
    try:
        request = make(n)
    except OutOfPaths as error:
        return error
    return await attempt(connection, request, timeout)


async def closed_loop(phase: Phase, make: Requests, connections: list[Connection], tally: Tally) -> int:
    """Each connection sends its next request when the last one was answered; returns how many
    requests were counted: answers to requests sent in the window, and failures that ended in
    or after it (a request that hung from the warmup into the window is an error)."""
    clock = time.perf_counter
    counting_from = clock() + phase.warmup
    until = counting_from + phase.duration
    sent = 0

    async def client(connection: Connection) -> None:
        nonlocal sent
        while (start := clock()) < until:
            n, sent = sent, sent + 1
            outcome = await nth(connection, make, n, phase.timeout)
            end = clock()
            if isinstance(outcome, BaseException):
                if end >= counting_from:  # sent in the window, or sent before and hung into it
                    tally.failed(outcome)
                else:
                    tally.warmup[type(outcome).__name__] += 1
                await asyncio.sleep(BACKOFF_SECONDS)
            elif start >= counting_from:
                tally.answered(end - start, *outcome)
            else:
                tally.warmup[str(outcome[0])] += 1

    await asyncio.gather(*(client(c) for c in connections))
    tally.sent = sent
    return len(tally.latencies) + sum(tally.failures.values())


async def open_loop(phase: Phase, make: Requests, connections: list[Connection], tally: Tally) -> int:
    """A request falls due every 1/rate seconds and goes out on the first free connection;
    its latency runs from when it was due. Returns how many were due in the counted window."""
    clock = time.perf_counter
    queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()
    started = clock() + 0.05
    counting_from = started + phase.warmup
    total = math.ceil((phase.warmup + phase.duration) * phase.rate)
    counted = 0

    async def worker(connection: Connection) -> None:
        while (job := await queue.get()) is not None:
            n, due = job
            outcome = await nth(connection, make, n, phase.timeout)
            if due < counting_from:
                continue
            if isinstance(outcome, BaseException):
                tally.failed(outcome)
            else:
                tally.answered(clock() - due, *outcome)

    tally.sent = total
    workers = [asyncio.create_task(worker(c)) for c in connections]
    for n in range(total):
        due = started + n / phase.rate
        if (wait := due - clock()) > 0:
            await asyncio.sleep(wait)
        if due >= counting_from:
            counted += 1
            tally.lags.append(clock() - due)
        queue.put_nowait((n, due))
    for _ in workers:
        queue.put_nowait(None)
    _, pending = await asyncio.wait(workers, timeout=DRAIN_SECONDS)
    for task in pending:
        task.cancel()
    missing = counted - len(tally.latencies) - sum(tally.failures.values())
    if missing > 0:
        tally.failed(TimeoutError(f"{missing} requests not answered {DRAIN_SECONDS:g} s after the last was due"))
        tally.failures["timeout"] += missing - 1
    return counted


async def per_client(phase: Phase, host: str, connections: list[Connection], tally: Tally) -> int:
    """A closed loop in which each connection sends its own requests (``Phase.clients``)."""
    if phase.mode != "closed":
        raise ValueError(f"phase {phase.name!r}: clients are for closed-loop phases only")
    subs = [
        replace(
            phase,
            connections=1,
            clients=[],
            headers=phase.headers | c.get("headers", {}),
            claims=c.get("claims", phase.claims),
        )
        for c in phase.clients
    ]
    await asyncio.gather(
        *(closed_loop(sub, Requests(sub, host), [c], tally) for sub, c in zip(subs, connections, strict=True))
    )
    return len(tally.latencies) + sum(tally.failures.values())


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (share in 0..1); None when there are no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds another process has used (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def share(before: float | None, after: float | None, wall: float) -> float | None:
    return None if before is None or after is None else (after - before) / wall


async def run_phase(
    phase: Phase, host: str, port: int, server_pid: int | None, server_tree: bool = False
) -> dict[str, Any]:
    """Run one phase and summarise it (times in milliseconds, CPU as a share of one core)."""
    tally = Tally()
    connections = [Connection(host, port) for _ in range(len(phase.clients) or phase.connections)]
    server_cpu = tree_cpu_seconds if server_tree else cpu_seconds
    server = None if server_pid is None else server_cpu(server_pid)
    client, wall = time.process_time(), time.perf_counter()
    loop = closed_loop if phase.mode == "closed" else open_loop
    try:
        if phase.clients:
            counted = await per_client(phase, f"{host}:{port}", connections, tally)
        else:
            counted = await loop(phase, Requests(phase, f"{host}:{port}"), connections, tally)
    finally:
        for connection in connections:
            connection.close()
    wall = time.perf_counter() - wall
    ok = sum(n for status, n in tally.statuses.items() if 200 <= status < 300)
    ms = [latency * 1000 for latency in tally.latencies]
    lag = percentile([lag * 1000 for lag in tally.lags], 0.99)
    return {
        "name": phase.name,
        "mode": phase.mode,
        "request": f"{phase.method} {phase.path}",
        "requests": counted,
        "sent": tally.sent,
        "ok": ok,
        "errors": counted - ok,
        "statuses": {str(status): n for status, n in sorted(tally.statuses.items())},
        "failures": dict(tally.failures),
        "error_sample": tally.error_sample,
        "warmup": dict(tally.warmup),
        "seconds": phase.duration,
        "throughput": ok / phase.duration,
        "rate": phase.rate if phase.mode == "open" else None,
        "p50_ms": percentile(ms, 0.50),
        "p99_ms": percentile(ms, 0.99),
        "max_ms": max(ms, default=None),
        "send_lag_p99_ms": lag,
        "client_cpu": share(client, time.process_time(), wall),
        "server_cpu": None if server_pid is None else share(server, server_cpu(server_pid), wall),
    }


async def run_plan(plan: dict[str, Any]) -> None:
    host, port, pid = plan.get("host", "127.0.0.1"), plan["port"], plan.get("server_pid")
    for spec in plan["phases"]:
        result = await run_phase(Phase(**spec), host, port, pid, plan.get("server_tree", False))
        print(json.dumps(result), flush=True)


def main() -> int:
    asyncio.run(run_plan(json.loads(sys.stdin.read())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
