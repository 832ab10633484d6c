"""Section 6: the web app's pages, rendered by the real server, beside the JSON API's answer
for the same data.

The real ``grantledger serve`` (one uvicorn worker) runs on the EU-ALLIANCE demo in a SQLite
store. A coordinator, an officer (NIDV) and an auditor sign in through the sign-in form
(bench.webseed), and every main page gets an open-loop load of RATE requests/s from
``bench.loadgen`` in its own process, with the session cookie, timed from when each request
was due: p50, p99, max and errors. Right after each page, the JSON API's endpoint for the same
data gets the same load with the same person's token: GET / of the coordinator beside GET
/api/v1/budget, a claim's page beside GET /api/v1/claims/{id}, and so on. Then the home pages
(and the claims list) again on a generated history of about 100k events (bench.histories).

Every page is probed first: any other answer than 200 to a probe stops the section, so the
smoke run (``--quick``) fails on a broken page, without any timing assertion.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from bench.histories import history_copy
from bench.http import drive, note
from bench.options import Options
from bench.report import Figure
from bench.server import Server
from bench.webseed import PEOPLE, Seeded, fetch, seed, sign_in

SECTION = "6 web"
#: Requests per second of every page's load (the issue's bar is set at this rate).
RATE = 20.0
#: The issue's bars: every main page on the demo, and the home page at 100k events.
P99_LIMIT_MS = 50.0
LARGE_LIMIT_MS = 100.0
LARGE_EVENTS = 100_000
QUICK_LARGE_EVENTS = 2_000
#: Connections an open-loop phase may use (a request due while all are busy waits, and counts it).
CONNECTIONS = 8
#: A business date inside the demo's action period, for the books "as effective on".
EFFECTIVE = "2023-06-30"
#: What the search box is asked (an SME of the demo, found by its name).
SEARCH = "Nordmesh"


@dataclass(frozen=True)
class Page:
    """A page as ``role`` sees it, and the JSON API's request for the same data. ``{claim}``
    in a path is a claim of the officer's partner awaiting a decision, ``{today}`` today (UTC)."""

    name: str
    role: str
    path: str
    api: str
    #: The paths before they were filled in, as the table shows them (set by ``probe``).
    shown_path: str = ""
    shown_api: str = ""


PAGES = (
    Page("home, coordinator", "coordinator", "/", "/api/v1/budget"),
    Page("home, officer", "officer", "/", f"/api/v1/partners/{PEOPLE['officer'].partner}/budget"),
    Page("home, auditor", "auditor", "/", "/api/v1/audit/events?limit=15"),
    Page("budget", "coordinator", "/budget", "/api/v1/budget"),
    Page("budget as recorded", "coordinator", "/budget?as_of={today}", "/api/v1/budget?as_of={today}"),
    Page("budget effective", "coordinator", f"/budget?effective={EFFECTIVE}", f"/api/v1/budget?effective={EFFECTIVE}"),
    Page("claims", "coordinator", "/claims", "/api/v1/claims?limit=25"),
    Page("claims submitted", "officer", "/claims?state=submitted", "/api/v1/claims?state=submitted&limit=25"),
    Page("a claim", "officer", "/claims/{claim}", "/api/v1/claims/{claim}"),
    Page("payments", "coordinator", "/payments", "/api/v1/payments?limit=25"),
    Page("SMEs", "coordinator", "/smes", "/api/v1/smes?limit=25"),
    Page("search", "coordinator", f"/search?q={SEARCH}", f"/api/v1/search?q={SEARCH}&limit=25"),
    Page("verify", "auditor", "/verify", "/api/v1/audit/verify"),
    Page("charts", "coordinator", "/charts", "/api/v1/budget"),
    Page("missions", "coordinator", "/missions", "/api/v1/missions"),
    Page("rates", "coordinator", "/rates", "/api/v1/exchange-rates?limit=25"),
    Page("own costs", "officer", "/costs", "/api/v1/costs?limit=25"),
    Page("audit trail", "auditor", "/audit", "/api/v1/audit/events?limit=25"),
)
#: On the large history: the home pages (the issue's bar) and, for information, the claims list.
LARGE_PAGES = tuple(p for p in PAGES if p.path == "/" or p.name == "claims")


@dataclass(frozen=True)
class Signed:
    """A running server's people: each role's session cookie and token, and the paths' values."""

    cookies: dict[str, str]
    tokens: dict[str, str]
    values: dict[str, str]

    def web(self, page: Page) -> dict[str, str]:
        return {"Cookie": self.cookies[page.role]}

    def api(self, page: Page) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[page.role]}"}


def sign_everyone_in(server: Server, seeded: Seeded) -> Signed:
    cookies = {role: sign_in(server.port, *seeded.passwords[role]) for role in PEOPLE}
    values = {"today": datetime.now(UTC).date().isoformat(), "claim": a_claim(server, seeded)}
    return Signed(cookies, seeded.tokens, values)


def a_claim(server: Server, seeded: Seeded) -> str:
    """A claim of the officer's partner awaiting a decision (else any of theirs): its page has
    the decision forms, the most a claim's page shows."""
    partner = PEOPLE["officer"].partner
    headers = {"Authorization": f"Bearer {seeded.tokens['coordinator']}"}
    for query in (f"state=submitted&partner={partner}", f"partner={partner}"):
        status, body = fetch(server.port, f"/api/v1/claims?{query}&limit=1", headers)
        if status != 200:
            raise RuntimeError(f"GET /api/v1/claims?{query} answered {status}: {body[:300]}")
        if found := json.loads(body)["data"]:
            return str(found[0]["id"])
    raise RuntimeError(f"the store holds no claim of {partner}")


def probe(server: Server, signed: Signed, pages: tuple[Page, ...], options: Options) -> list[Page]:
    """The pages to measure, their paths filled in; each answered 200 once, web and API alike
    ."""
    ready = []
    for page in pages:
        filled = replace(
            page,
            path=page.path.format(**signed.values),
            api=page.api.format(**signed.values),
            shown_path=page.path.replace("{claim}", "{id}"),
            shown_api=page.api.replace("{claim}", "{id}"),
        )
        status, body = fetch(server.port, filled.path, signed.web(page))
        if status != 200:
            raise RuntimeError(f"{page.name}: GET {filled.path} as {page.role} answered {status}: {body[:300]}")
        status, body = fetch(server.port, filled.api, signed.api(page))
        if status != 200:
            raise RuntimeError(f"{page.name}: GET {filled.api} as {page.role} answered {status}: {body[:300]}")
        ready.append(filled)
    return ready


def plan(pages: list[Page], signed: Signed, quick: bool) -> list[dict[str, Any]]:
    """For each page, its web phase then its API phase (back to back: the machine's drift hits
    both alike)."""
    duration, warmup = (0.5, 0.1) if quick else (10.0, 1.0)
    common = {"mode": "open", "method": "GET", "rate": RATE, "connections": CONNECTIONS}
    common |= {"duration": duration, "warmup": warmup}
    phases = []
    for page in pages:
        phases.append({"name": f"{page.name} web", "path": page.path, "headers": signed.web(page), **common})
        phases.append({"name": f"{page.name} api", "path": page.api, "headers": signed.api(page), **common})
    return phases


def measure(
    options: Options, database_url: str, pages: tuple[Page, ...], seeded: Seeded, label: str
) -> tuple[list[Page], dict[str, dict[str, Any]], list[Page]]:
    """Serve the store, sign everyone in, probe and load the pages: the pages measured, each
    phase's summary by name, and the pages skipped."""
    with Server(database_url, options.workdir / f"web-{label}-server.log") as server:
        signed = sign_everyone_in(server, seeded)
        ready = probe(server, signed, pages, options)
        results = drive(server, plan(ready, signed, options.quick), options)
    skipped = [p for p in pages if p.name not in {r.name for r in ready}]
    return ready, {r["name"]: r for r in results}, skipped


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def figure(page: Page, web: dict[str, Any], api: dict[str, Any], where: str, limit: float | None) -> Figure:
    """A page's p99 beside its API's, with both p50s and maxima in the note (and any errors)."""
    numbers = (
        f"as {page.role}; p50 {_ms(web['p50_ms'])}, max {_ms(web['max_ms'])} ms; "
        f"API p50 {_ms(api['p50_ms'])}, max {_ms(api['max_ms'])} ms"
    )
    api_errors = f"API: {note(api)}" if api["errors"] else ""
    return Figure(
        SECTION,
        f"{where}{page.name}: GET {page.shown_path} p99 at {RATE:g} req/s",
        "ms",
        web["p99_ms"] if web["p99_ms"] is not None else math.nan,
        api["p99_ms"],
        f"GET {page.shown_api}",
        higher_is_better=False,
        limit=limit,
        note=note(web, numbers, api_errors),
    )


def skipped_figure(page: Page, where: str) -> Figure:
    return Figure(
        SECTION,
        f"{where}{page.name}: GET {page.path}",
        "ms",
        math.nan,
        note="skipped: the page answers 404 on this branch (built elsewhere)",
    )


def run(options: Options) -> list[Figure]:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    options.say(f"machine load average before the section: {'-' if load is None else f'{load:.2f}'}")
    figures: list[Figure] = []

    for stale in options.workdir.glob("web-demo*"):
        stale.unlink()
    demo_url = f"sqlite:///{options.workdir / 'web-demo.db'}"
    seeded = seed(demo_url, demo=True)
    ready, results, skipped = measure(options, demo_url, PAGES, seeded, "demo")
    figures += [figure(p, results[f"{p.name} web"], results[f"{p.name} api"], "", P99_LIMIT_MS) for p in ready]
    figures += [skipped_figure(p, "") for p in skipped]

    events = QUICK_LARGE_EVENTS if options.quick else LARGE_EVENTS
    store = history_copy(options, events, "web-large")
    for stale in options.workdir.glob("web-large-read*"):
        stale.unlink()
    large_url = f"sqlite:///{store}"
    options.say(f"projecting the history of about {events:,} events for the web pages")
    large = seed(large_url, demo=False)
    where = f"{events // 1000}k events, "
    ready, results, skipped = measure(options, large_url, LARGE_PAGES, large, "large")
    for page in ready:
        limit = LARGE_LIMIT_MS if page.path == "/" else None
        figures.append(figure(page, results[f"{page.name} web"], results[f"{page.name} api"], where, limit))
    figures += [skipped_figure(p, where) for p in skipped]
    if load is not None and figures:
        first = figures[0]
        figures[0] = replace(first, note=f"{first.note}; load average {load:.2f} before the section")
    return figures
