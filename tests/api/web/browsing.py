"""What the browser tests share: Debian's Chromium driven by Playwright, against a real
``grantledger serve`` on a loopback port loaded with the demo (its users as it prints them),
signing in through the form as a person does, and the axe-core accessibility scan.

The fixtures ``demo`` and ``browser`` are module-scoped: each test module that imports them by
name (``from tests.api.web.browsing import browser, demo``; test_browser.py re-exports them)
gets a demo of its own, so that what one module's stories record does not change another's.

Skipped with a clear message without Chromium (GRANTLEDGER_CHROMIUM, else /usr/bin/chromium)
or the playwright package, unless GRANTLEDGER_REQUIRE_BROWSER=1 (set by .ci/run): then it fails.
Playwright's own browser downloads are never used (they cannot be fetched here).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from api.cli import main
from bench.server import Server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path(os.environ.get("GRANTLEDGER_CHROMIUM", "/usr/bin/chromium"))
REQUIRE = os.environ.get("GRANTLEDGER_REQUIRE_BROWSER") == "1"
#: The server stops by itself after this many seconds, whatever happens to the tests.
LIFETIME = 600
#: axe-core (npm, a dev dependency in package-lock.json), injected into each page for the scan.
AXE = Path(__file__).resolve().parents[3] / "node_modules" / "axe-core" / "axe.min.js"
#: The demo served, and the passwords it printed (user name -> password).
Demo = tuple[Server, dict[str, str]]


def require_browser() -> None:
    problem = None
    if not CHROMIUM.is_file():
        problem = f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium; or set GRANTLEDGER_CHROMIUM)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is not installed (pip install -e '.[test]')"
    if problem is None:
        return
    if REQUIRE:
        pytest.fail(f"GRANTLEDGER_REQUIRE_BROWSER=1 but {problem}")
    pytest.skip(f"browser tests skipped: {problem}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo in a fresh store, served on 127.0.0.1; the passwords the demo printed."""
    require_browser()
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'ledger.db'}"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["--database-url", url, "demo"]) == 0
    passwords = dict(re.findall(r"^\s+(\S+)\s.*password: (\S+)$", printed.getvalue(), re.M))
    assert {"officer.nidv", "claire.coordinator"} <= passwords.keys(), printed.getvalue()
    with Server(url, folder / "server.log", lifetime=LIFETIME) as server:
        yield server, passwords


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            yield chromium
        finally:
            chromium.close()


def signed_in(
    browser: Browser, server: Server, name: str, password: str, violations: list[str], *, bypass_csp: bool = False
) -> Page:
    """A new browser context (its own cookies) signed in through the form, as a person does;
    each Content-Security-Policy violation its console reports is added to ``violations``."""
    page = browser.new_context(base_url=server.base_url, bypass_csp=bypass_csp).new_page()
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto("/")
    assert page.url.endswith("/sign-in?next=/")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server.base_url + "/")
    assert page.get_by_text(f"Signed in as {name}").is_visible()
    return page


def sign_in(
    browser: Browser, demo: Demo, name: str, violations: list[str] | None = None, *, bypass_csp: bool = False
) -> Page:
    """``signed_in`` as one of the demo's users, with the password the demo printed."""
    server, passwords = demo
    return signed_in(
        browser, server, name, passwords[name], [] if violations is None else violations, bypass_csp=bypass_csp
    )


def has_axe() -> bool:
    """Whether axe-core is installed for the scan (with GRANTLEDGER_REQUIRE_BROWSER=1 it must be)."""
    if AXE.is_file():
        return True
    if REQUIRE:
        pytest.fail(f"axe-core is not installed ({AXE}): run scripts/setup-venv (npm ci)")
    return False


def require_axe() -> None:
    """Skip the test without axe-core (fail it with GRANTLEDGER_REQUIRE_BROWSER=1)."""
    if not has_axe():
        pytest.skip(f"axe-core is not installed ({AXE}): run scripts/setup-venv (npm ci)")


def scanner(browser: Browser, demo: Demo, name: str) -> Page:
    """A page signed in as ``name`` for the accessibility scan: the scan's script is injected by
    the test, so its browser context bypasses the CSP (the pages' own policy is checked by the
    stories and the route tests). Skips the test without axe-core."""
    require_axe()
    return sign_in(browser, demo, name, bypass_csp=True)


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now (rule: nodes)."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[node['target'] for node in v['nodes']][:3]}"
        for v in found
        if v["impact"] in {"serious", "critical"}
    ]


def scan(page: Page, paths: Iterable[str]) -> dict[str, list[str]]:
    """Each path opened and scanned: its serious violations, by path."""
    found = {}
    for path in paths:
        page.goto(path)
        found[path] = serious_violations(page)
    return found


def without_issues(found: dict[str, list[str]]) -> None:
    """No page scanned has a serious or critical violation (those that have are named)."""
    assert {where: issues for where, issues in found.items() if issues} == {}


def budget_figure(page: Page, partner: str, category: str, column: int) -> Decimal:
    """One figure of a budget line, as the budget page writes it (1,234.50): its ``column``-th
    amount (0: allocated, 2: committed)."""
    row = page.locator("table.budget tr", has=page.locator(f"td:text-is('{partner}')")).filter(
        has=page.locator(f"td:text-is('{category}')")
    )
    return Decimal(row.locator("td.num").nth(column).inner_text().replace(",", ""))
