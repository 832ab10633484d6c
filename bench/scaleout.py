"""Section 7: scale-out on PostgreSQL, ``grantledger serve --workers 4`` against ``--workers 1``.

A fresh PostgreSQL database per run (created with a unique name, dropped after) holds the
EU-ALLIANCE demo plus one mission each for the two partners the demo gives none (NTT and
SYSTEMATIC), so that every one of the six partners has a mission its officers record claims on.
Sixteen officers, each with a token of their own, spread over the six partners, post new valid
claims on their own partner's mission (``POST /api/v1/claims``, a closed loop, one keep-alive
connection each, bench.loadgen's ``clients``). The same load runs against the real service with
one worker (uvicorn) and with four (gunicorn), one after the other on the same store; with more
than one round the order alternates, so drift in the machine's load hits both alike.

A figure is reported only once the store is checked afterwards: every answer was a 201; the
claims recorded (counted in the event log, and in the read models) are the ones seeded plus one
per 201; every partner got claims; and ``grantledger replay`` and ``grantledger verify`` exit 0.

The notes give the CPU the server used (its process and every worker, as a share of one core),
PostgreSQL's (the postmaster's tree: every backend, other users' included) and the whole
machine's busy share, with its number of cores: on two cores, workers that are limited by CPU
cannot give much more than twice one worker's throughput, and PostgreSQL and the client share
those cores.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from api.context import LedgerContext, open_context
from api.demo import load_demo, open_planned_mission
from api.demo_data import MISSIONS, OFFICERS, SMES, MissionPlan, sme_id
from api.security import ServiceStore
from bench import rawsaves
from bench.http import PREFIX, drive
from bench.options import Options
from bench.proctree import tree_cpu_seconds
from bench.report import Figure
from bench.server import REPO, STOP_TIMEOUT, Server, clean_env
from ledger.mission import mission_id

SECTION = "7 scale-out"
CONCURRENCY = 16
WORKERS = 4
#: Issue 16, bar 4: four workers give at least twice one worker's throughput.
BAR = 2.0
#: A server stops by itself after this many seconds, should this process die.
LIFETIME = 900
START_TIMEOUT = 60.0


OPENED, SELECTED = date(2023, 1, 16), date(2023, 3, 1)
#: Missions for the two partners the demo gives none (dates in the grant's period, with rates).
EXTRA_MISSIONS = (
    MissionPlan("OSA-2023", "JP", "Osaka", "Kansai trade days", date(2023, 5, 9), date(2023, 5, 12), "NTT", "JPY",
                OPENED, SELECTED),
    MissionPlan("SUB-2023", "ID", "Surabaya", "East Java industry fair", date(2023, 4, 18), date(2023, 4, 20),
                "SYSTEMATIC", "IDR", OPENED, SELECTED),
)  # fmt: skip
#: SMEs selected for each extra mission (already registered by the demo).
EXTRA_SMES = 4


@dataclass(frozen=True)
class Seeded:
    database_url: str
    #: One per connection: the officer's headers and claims template (bench.loadgen's clients).
    clients: list[dict[str, Any]]
    claims_before: int
    by_partner_before: dict[str, int]


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server of ``server_url`` (its URL), dropped on leaving."""
    name = f"scaleout_{uuid.uuid4().hex[:12]}"
    parts = urlsplit(server_url)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}", query=""))
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _templates(database_url: str) -> dict[str, dict[str, Any]]:
    """Partner -> claims template for its mission (the demo's, or the one opened here)."""
    plans: list[Any] = [*MISSIONS, *EXTRA_MISSIONS]
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT mission_id, sme_id FROM rm_sme_missions ORDER BY sme_id").fetchall()
    selected: dict[str, list[str]] = {}
    for mission, sme in rows:
        selected.setdefault(mission, []).append(sme)
    return {
        plan.partner: {
            "mission_id": str(mission_id(plan.code)),
            "sme_ids": selected[str(mission_id(plan.code))],
            "currency": plan.currency,
            "expense_date": plan.start.isoformat(),
            "on": plan.end.replace(day=28).isoformat(),
        }
        for plan in plans
    }


def _open_extra_missions(ctx: LedgerContext) -> None:
    smes = list(SMES)
    for n, extra in enumerate(EXTRA_MISSIONS):
        open_planned_mission(ctx.app, extra)
        for sme in smes[n * EXTRA_SMES : (n + 1) * EXTRA_SMES]:
            ctx.app.select_sme(
                actor=OFFICERS[extra.partner],
                mission_id=mission_id(extra.code),
                sme_id=sme_id(sme),
                on=extra.selected_on,
            )


def claims_by_partner(database_url: str) -> dict[str, int]:
    """Claims per partner in the read models."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT partner, count(*) FROM rm_claims GROUP BY partner").fetchall()
    return dict(rows)


def claims_in_log(ctx: LedgerContext) -> int:
    """Claims the event log holds: their creation events, counted without the read models."""
    count, position = 0, 0
    while notifications := ctx.app.recorder.select_notifications(start=position, limit=5000, inclusive_of_start=False):
        count += sum(1 for n in notifications if n.topic.endswith(":Claim.Submitted"))
        position = notifications[-1].id
    return count


def seed(database_url: str) -> Seeded:
    """The demo, the extra missions, and a token per officer: 16 spread over the six partners."""
    with open_context(database_url) as ctx:
        load_demo(ctx.app)
        _open_extra_missions(ctx)
        ctx.projector.catch_up()
        templates = _templates(database_url)
        partners = list(OFFICERS)
        store = ServiceStore(ctx.read_db)
        clients = []
        for n in range(CONCURRENCY):
            partner = partners[n % len(partners)]
            token = store.create_token(name=f"bench.officer.{n:02d}", role="officer", partner=partner)
            clients.append({"headers": {"Authorization": f"Bearer {token}"}, "claims": templates[partner]})
        before = claims_in_log(ctx)
        return Seeded(database_url, clients, before, claims_by_partner(database_url))


def busy_cpu() -> tuple[float, float]:
    """The machine's busy and total jiffies since boot (/proc/stat; all cores)."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def postmaster_pid(database_url: str) -> int | None:
    """The local PostgreSQL server's main process (its backends' parent), or None if not local."""
    try:
        with psycopg.connect(database_url) as conn:
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert backend is not None  # noqa: S101 - one row
        with open(f"/proc/{backend[0]}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, psycopg.Error):
        return None


def wait_for_workers(server: Server, workers: int, seen_before: int) -> None:
    """Until every worker says its startup is complete (gunicorn answers /health from the first)."""
    deadline = time.monotonic() + START_TIMEOUT
    while len(re.findall("Application startup complete", server.log())) - seen_before < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"not all {workers} workers started within {START_TIMEOUT:g} s:\n{server.log()[-3000:]}")
        time.sleep(0.2)


def measure(options: Options, seeded: Seeded, workers: int, tag: str) -> dict[str, Any]:
    """One closed-loop phase of the 16 officers against a server of ``workers`` processes."""
    warmup, duration = (1.0, 3.0) if options.quick else (2.0, 15.0)
    clients = [c | {"claims": c["claims"] | {"tag": f"{tag}{n:02d}"}} for n, c in enumerate(seeded.clients)]
    phase = {
        "name": f"claims, {workers} worker{'s' if workers > 1 else ''}",
        "mode": "closed",
        "method": "POST",
        "path": f"{PREFIX}/claims",
        "bodies": "claims",
        "clients": clients,
        "warmup": warmup,
        "duration": duration,
    }
    log = options.workdir / "scaleout-server.log"
    seen = len(re.findall("Application startup complete", log.read_text())) if log.exists() else 0
    postmaster = postmaster_pid(seeded.database_url)
    with Server(seeded.database_url, log, workers, lifetime=LIFETIME) as server:
        wait_for_workers(server, workers, seen)
        busy, total = busy_cpu()
        pg = tree_cpu_seconds(postmaster) if postmaster else None
        started = time.perf_counter()
        [result] = drive(server, [phase], options, server_tree=True)
        wall = time.perf_counter() - started
        busy_after, total_after = busy_cpu()
        pg_after = tree_cpu_seconds(postmaster) if postmaster else None
    result["workers"] = workers
    result["machine_busy"] = (busy_after - busy) / max(1, total_after - total)
    result["postgres_cpu"] = None if pg is None or pg_after is None else (pg_after - pg) / wall
    return result


def grantledger(database_url: str, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command line
        [sys.executable, "-m", "api.cli", "--database-url", database_url, *command],
        cwd=REPO,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=STOP_TIMEOUT + 300,
    )


def check(seeded: Seeded, results: list[dict[str, Any]]) -> str:
    """Raise unless the store afterwards holds exactly the claims answered 201 and replays and
    verifies clean; what was checked, in words."""
    statuses = sum((Counter(r["statuses"]) + Counter(r["failures"]) + Counter(r["warmup"]) for r in results), Counter())
    errors = sum(r["errors"] for r in results)
    if errors or set(statuses) - {"201"}:
        samples = "; ".join(r["error_sample"] for r in results if r["error_sample"])
        raise RuntimeError(f"scale-out: {errors} errors, answers (warmups included) {dict(statuses)}: {samples}")
    created = statuses["201"]
    with open_context(seeded.database_url, must_exist=True) as ctx:
        ctx.projector.catch_up()
        in_log = claims_in_log(ctx) - seeded.claims_before
    by_partner = claims_by_partner(seeded.database_url)
    in_models = sum(by_partner.values()) - sum(seeded.by_partner_before.values())
    if not in_log == in_models == created:
        raise RuntimeError(
            f"scale-out: {created} claims answered 201, {in_log} in the event log, {in_models} in the read models"
        )
    idle = [p for p in OFFICERS if by_partner.get(p, 0) <= seeded.by_partner_before.get(p, 0)]
    if idle:
        raise RuntimeError(f"scale-out: no claim recorded for {', '.join(idle)}")
    for command in (("replay",), ("verify",)):
        done = grantledger(seeded.database_url, *command)
        if done.returncode:
            output = done.stdout[-2000:] + done.stderr[-2000:]
            raise RuntimeError(f"scale-out: grantledger {command[0]} exited {done.returncode}:\n{output}")
    return (
        f"{created:,} claims answered 201 = {in_log:,} recorded in the log and the read models; replay and verify clean"
    )


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def note(result: dict[str, Any]) -> str:
    return (
        f"{result['workers']} worker(s): server CPU {_share(result['server_cpu'])}, "
        f"PostgreSQL {_share(result['postgres_cpu'])}, client {_share(result['client_cpu'])}, "
        f"machine busy {_share(result['machine_busy'])}"
    )


def run(options: Options) -> list[Figure]:
    if not options.postgres_url:
        options.say("scale-out: no PostgreSQL server (--postgres none): skipped")
        return []
    rounds = 1 if options.quick else 2
    order = [w for n in range(rounds) for w in ([1, WORKERS] if n % 2 == 0 else [WORKERS, 1])]
    with fresh_database(options.postgres_url) as url:
        seeded = seed(url)
        results = [measure(options, seeded, workers, f"S{n}W{workers}-") for n, workers in enumerate(order)]
        checked = check(seeded, results)
        options.say(checked)
        raw = rawsaves.rates(url, order, CONCURRENCY, 3.0 if options.quick else 10.0)
    options.say(
        f"raw library saves/s, {CONCURRENCY} threads: " + ", ".join(f"{p} process(es) {r:,.0f}" for p, r in raw.items())
    )
    return [figure(results, checked), raw_figure(raw)]


def figure(results: list[dict[str, Any]], checked: str) -> Figure:
    def throughput(workers: int) -> float:
        mine = [r for r in results if r["workers"] == workers]
        ok: int = sum(r["ok"] for r in mine)
        seconds: float = sum(r["seconds"] for r in mine)
        return ok / seconds

    cores = os.cpu_count() or 0
    return Figure(
        SECTION,
        f"POST /api/v1/claims throughput, {CONCURRENCY} officers of {len(OFFICERS)} partners, {WORKERS} workers",
        "req/s",
        throughput(WORKERS),
        throughput(1),
        "1 worker, same load, same store",
        bar=BAR,
        note="; ".join([*(note(r) for r in results), f"{cores} cores", checked]),
    )


def raw_figure(raw: dict[int, float]) -> Figure:
    """The event store's own scale-out: the bare library's saves, several processes against one."""
    return Figure(
        SECTION,
        f"raw library saves (3 new aggregates each), {CONCURRENCY} threads in {WORKERS} processes",
        "saves/s",
        raw[WORKERS],
        raw[1],
        f"{CONCURRENCY} threads in 1 process",
        note=f"the library locks its events table (EXCLUSIVE MODE) for each insert; {os.cpu_count()} cores",
    )
