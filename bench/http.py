"""Section 4: the HTTP service on loopback, under load from a separate process.

The real ``grantledger serve`` (one uvicorn worker, as shipped) runs on a SQLite store holding
the EU-ALLIANCE demo, on a free 127.0.0.1 port. ``bench.loadgen`` drives it from its own process
with raw keep-alive HTTP/1.1. The baseline is ``GET /health`` of the same server: the same
process, protocol, middleware and thread pool, but no token, no database and no schema.

Figures: throughput at a fixed concurrency (closed loop; the two endpoints alternate in rounds,
so a change in the machine's load hits both alike), and p50/p99 latency at a fixed request rate
counted from when each request was due (open loop), for ``GET /api/v1/budget`` as the
coordinator, ``POST /api/v1/claims`` and ``POST /api/v1/claims/{id}/approve`` as POINTEX's
officer. Every claim is new and valid: a fresh id and fresh receipts, an SME selected for the
Japan mission, amounts far under the caps; every approval is of a claim seeded for it
(bench.httpwrites). The writes' baselines are the Application's own commands on a copy of the
same store, and their latency is measured at half their throughput. An answer other than 2xx
is an error: it is not counted as throughput and the figure's note says how many there were.
The notes also give both processes' CPU (a share of one core), to show which side was the
limit, and the machine's load average when the section started.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Any

from api.context import open_context
from api.demo import load_demo
from api.demo_data import COORDINATOR, MISSIONS, OFFICERS, SMES, sme_id
from api.security import ServiceStore
from bench import httpwrites
from bench.httpwrites import approval, seed_claims
from bench.options import Options
from bench.report import Figure
from bench.server import REPO, STOP_TIMEOUT, Server
from ledger.mission import mission_id

SECTION = "4 http"
PREFIX = "/api/v1"
TRIVIAL = "GET /health"
#: Requests per second for the GET latency figures (the issue's bar is set at this rate).
RATE = 200.0
#: Issue 16, bar 1: a write's p99 at half its throughput at most this many times its p50.
P99_OVER_P50 = 3.0
#: Connections of the closed-loop (throughput) phases.
CONCURRENCY = 16
#: Connections an open-loop phase may use (a request due while all are busy waits, and counts it).
OPEN_CONNECTIONS = 32
#: A client this busy (share of one core) may be what limits a throughput figure.
CLIENT_BUSY = 0.7
P99_LIMIT_MS = 20.0
THROUGHPUT_BAR = 0.5
#: The claims are recorded on the Japan mission (POINTEX), in yen at the month's recorded rate.
CLAIM_MISSION = "JPN-2023"


@dataclass(frozen=True)
class Seeded:
    """The store the server runs on and what the load needs to act on it."""

    database_url: str
    coordinator_token: str
    officer_token: str
    claims: dict[str, Any]
    #: Claims submitted for the approval phases, in the order they are approved.
    approvals: list[str]


def seed(options: Options) -> Seeded:
    """A SQLite store with the demo loaded and projected, and tokens for the two users."""
    for stale in options.workdir.glob("http-events*"):
        stale.unlink()
    url = f"sqlite:///{options.workdir / 'http-events.db'}"
    plan = next(m for m in MISSIONS if m.code == CLAIM_MISSION)
    claims: dict[str, Any] = {
        "mission_id": str(mission_id(plan.code)),
        "sme_ids": [str(sme_id(s)) for s in SMES if plan.code in s.missions],
        "currency": plan.currency,
        "expense_date": plan.start.isoformat(),
        "on": plan.end.replace(day=28).isoformat(),
    }
    with open_context(url) as ctx:
        load_demo(ctx.app)
        approvals = seed_claims(ctx.app, OFFICERS[plan.partner], claims, httpwrites.SEEDED[options.quick])
        ctx.projector.catch_up()
        store = ServiceStore(ctx.read_db)
        coordinator = store.create_token(name="bench.coordinator", role="coordinator", partner=COORDINATOR.partner)
        officer = store.create_token(name="bench.officer", role="officer", partner=OFFICERS[plan.partner].partner)
        store.close()
    return Seeded(url, coordinator, officer, claims, approvals)


def plan(seeded: Seeded, quick: bool) -> list[dict[str, Any]]:
    """The phases, in order: reads first (the claims then add to the books), then the writes'
    throughput."""
    duration, warmup, rounds = (2.0, 0.5, 2) if quick else (10.0, 1.0, 3)
    coordinator = {"Authorization": f"Bearer {seeded.coordinator_token}"}
    health: dict[str, Any] = {"method": "GET", "path": "/health"}
    budget: dict[str, Any] = {"method": "GET", "path": f"{PREFIX}/budget", "headers": coordinator}
    closed: dict[str, Any] = {"mode": "closed", "connections": CONCURRENCY, "warmup": warmup}
    opened: dict[str, Any] = {"mode": "open", "connections": OPEN_CONNECTIONS, "warmup": warmup, "duration": duration}
    phases: list[dict[str, Any]] = []
    for n in range(rounds):  # alternate, and swap the order each round: drift hits both alike
        pair = [("health closed", health), ("budget closed", budget)]
        for name, request in pair if n % 2 == 0 else reversed(pair):
            phases.append({"name": name, **request, **closed, "duration": duration / rounds})
    claims, approvals = writes(seeded, seeded.approvals)
    phases += [
        {"name": "health open", **health, **opened, "rate": RATE},
        {"name": "budget open", **budget, **opened, "rate": RATE},
        {"name": "claims closed", **claims, **closed, "duration": duration, "claims": seeded.claims | {"tag": "C"}},
        {"name": "approvals closed", **approvals, **closed, "duration": duration},
    ]
    return phases


def writes(seeded: Seeded, approving: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The loadgen requests of the two writes: a new claim, and approving ``approving`` in order."""
    officer = {"Authorization": f"Bearer {seeded.officer_token}"}
    claims = {"method": "POST", "path": f"{PREFIX}/claims", "headers": officer, "bodies": "claims"}
    return claims, approval(PREFIX, approving, seeded.claims["on"]) | {"headers": officer}


def writes_at(seeded: Seeded, quick: bool, rates: dict[str, float], approved: int) -> list[dict[str, Any]]:
    """The open-loop write phases at half the write throughputs just measured (``rates``), each
    after the baseline at the same rate; the approvals go on with the claims not yet approved."""
    duration, warmup = (2.0, 0.5) if quick else (10.0, 1.0)
    opened: dict[str, Any] = {"mode": "open", "connections": OPEN_CONNECTIONS, "warmup": warmup, "duration": duration}
    claims, approvals = writes(seeded, seeded.approvals[approved:])
    health = {"method": "GET", "path": "/health", **opened}
    return [
        {"name": "health open slow", **health, "rate": rates["claims"]},
        {"name": "claims open", **claims, **opened, "rate": rates["claims"], "claims": seeded.claims | {"tag": "O"}},
        {"name": "health open approvals", **health, "rate": rates["approvals"]},
        {"name": "approvals open", **approvals, **opened, "rate": rates["approvals"]},
    ]


def drive(
    server: Server, phases: list[dict[str, Any]], options: Options, *, server_tree: bool = False
) -> list[dict[str, Any]]:
    """Run the phases in one ``bench.loadgen`` process; one summary per phase (with
    ``server_tree``, the server's CPU counts its workers too)."""
    plan = {"port": server.port, "server_pid": server.pid, "phases": phases, "server_tree": server_tree}
    request = json.dumps(plan)
    loadgen = subprocess.Popen(
        [sys.executable, "-m", "bench.loadgen"],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    results = []
    try:
        assert loadgen.stdin is not None  # noqa: S101 - piped
        assert loadgen.stdout is not None  # noqa: S101 - piped
        loadgen.stdin.write(request)
        loadgen.stdin.close()
        for line in loadgen.stdout:
            results.append(json.loads(line))
            options.say(summary(results[-1]))
        code = loadgen.wait(timeout=STOP_TIMEOUT)
    finally:
        if loadgen.poll() is None:
            loadgen.kill()
            loadgen.wait()
        if loadgen.stdout is not None:
            loadgen.stdout.close()
    if code != 0:
        raise RuntimeError(f"the load generator exited with {code}")
    if len(results) != len(phases):
        raise RuntimeError(f"the load generator reported {len(results)} of {len(phases)} phases")
    return results


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} ms"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def summary(result: dict[str, Any]) -> str:
    line = (
        f"{result['name']}: {result['request']} {result['throughput']:,.0f} req/s, "
        f"p50 {_ms(result['p50_ms'])}, p99 {_ms(result['p99_ms'])}; {cpu(result)}"
    )
    if result["errors"]:
        line += f"; {result['errors']} ERRORS, first: {result['error_sample']}"
    return line


def cpu(result: dict[str, Any]) -> str:
    text = f"CPU server {_share(result['server_cpu'])}, client {_share(result['client_cpu'])}"
    if (result["client_cpu"] or 0) >= CLIENT_BUSY:
        text += " (THE CLIENT MAY BE THE LIMIT)"
    return text


def merged(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The rounds of one closed-loop phase as one: throughput over all counted seconds."""
    seconds = sum(r["seconds"] for r in rounds)
    return {
        "throughput": sum(r["ok"] for r in rounds) / seconds,
        "requests": sum(r["requests"] for r in rounds),
        "errors": sum(r["errors"] for r in rounds),
        "statuses": dict(sum((Counter(r["statuses"]) for r in rounds), Counter())),
        "failures": dict(sum((Counter(r["failures"]) for r in rounds), Counter())),
        "server_cpu": _mean([r["server_cpu"] for r in rounds]),
        "client_cpu": _mean([r["client_cpu"] for r in rounds]),
    }


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def note(result: dict[str, Any], *extra: str) -> str:
    """Errors first (a figure with errors is not a measurement of the endpoint), then CPU."""
    words = []
    if result["errors"]:
        words.append(
            f"{result['errors']} ERRORS of {result['requests']} requests: "
            f"statuses {result['statuses']}, failures {result['failures']}"
        )
    words += [cpu(result), *extra]
    return "; ".join(word for word in words if word)


#: The writes measured: their request, and the Application command that is their baseline.
WRITES = {
    "claims": ("POST /api/v1/claims", "submit_claim"),
    "approvals": ("POST /api/v1/claims/{id}/approve", "approve_claim"),
}


def run(options: Options) -> list[Figure]:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    options.say(f"machine load average before the section: {'-' if load is None else f'{load:.2f}'}")
    seeded = seed(options)
    officer = OFFICERS[next(m for m in MISSIONS if m.code == CLAIM_MISSION).partner]
    work = {
        "claims": {"claims": seeded.claims | {"tag": "A"}},
        "approvals": {"approve": {"ids": seeded.approvals, "on": seeded.claims["on"]}},
    }
    app_rates = {}
    for write, (_, command) in WRITES.items():
        done = httpwrites.application_rate(options, officer, work[write], command)
        app_rates[write] = done["commands"] / done["seconds"]
    phases = plan(seeded, options.quick)
    with Server(seeded.database_url, options.workdir / "http-server.log") as server:
        results = drive(server, phases, options)
        rates = {
            w: max(1.0, round(merged([r for r in results if r["name"] == f"{w} closed"])["throughput"] / 2, 1))
            for w in WRITES
        }
        approved = sum(r["sent"] for r in results if r["name"] == "approvals closed")
        results += drive(server, writes_at(seeded, options.quick, rates, approved), options)
    by_name: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        by_name.setdefault(result["name"], []).append(result)
    return figures(by_name, load, app_rates, rates)


def figures(
    results: dict[str, list[dict[str, Any]]], load: float | None, app_rates: dict[str, float], rates: dict[str, float]
) -> list[Figure]:
    """The section's figures from the phases' summaries."""
    health = merged(results["health closed"])
    budget = merged(results["budget closed"])
    health_open, budget_open = results["health open"][0], results["budget open"][0]
    conditions = f"load average {load:.2f} before" if load is not None else ""
    at = f"at {RATE:g} req/s"
    read = [
        Figure(
            SECTION,
            f"GET /api/v1/budget throughput, {CONCURRENCY} connections",
            "req/s",
            budget["throughput"],
            health["throughput"],
            TRIVIAL,
            bar=THROUGHPUT_BAR,
            note=note(budget, f"baseline {cpu(health)}", conditions),
        ),
        latency(f"GET /api/v1/budget p50 {at}", budget_open, health_open, "p50"),
        latency(f"GET /api/v1/budget p99 {at}", budget_open, health_open, "p99", limit=P99_LIMIT_MS),
    ]
    slow = {"claims": "health open slow", "approvals": "health open approvals"}
    for write, (request, command) in WRITES.items():
        closed, opened = merged(results[f"{write} closed"]), results[f"{write} open"][0]
        at_slow = f"at {rates[write]:g} req/s (half the throughput)"
        read += [
            Figure(
                SECTION,
                f"{request} throughput, {CONCURRENCY} connections",
                "req/s",
                closed["throughput"],
                app_rates[write],
                f"Application {command}, one thread, same store",
                bar=THROUGHPUT_BAR,
                note=note(closed, f"GET /health {health['throughput']:,.0f} req/s"),
            ),
            latency(f"{request} p50 {at_slow}", opened, results[slow[write]][0], "p50"),
            Figure(
                SECTION,
                f"{request} p99 / p50 {at_slow}",
                "x",
                (opened["p99_ms"] or float("nan")) / (opened["p50_ms"] or float("nan")),
                None,
                "",
                higher_is_better=False,
                limit=P99_OVER_P50,
                note=note(opened, f"p99 {_ms(opened['p99_ms'])}"),
            ),
        ]
    return read


def latency(label: str, ours: dict[str, Any], base: dict[str, Any], share: str, **bar: Any) -> Figure:
    return Figure(
        SECTION,
        label,
        "ms",
        ours[f"{share}_ms"] or float("nan"),
        base[f"{share}_ms"],
        TRIVIAL,
        higher_is_better=False,
        note=note(ours) if share == "p99" else "",
        **bar,
    )
