"""The web app in a real browser: Debian's Chromium, driven by Playwright, against a real
``grantledger serve`` on a loopback port, loaded with the demo (its users as it prints them).

The story: an officer signs in, opens a claim awaiting their decision, approves it and sees it
approved; the coordinator sees the amount committed on the budget, and filters the claims
(htmx, under the strict CSP: no policy violation in the console).

Skipped with a clear message without Chromium (GRANTLEDGER_CHROMIUM, else /usr/bin/chromium)
or the playwright package, unless GRANTLEDGER_REQUIRE_BROWSER=1 (set by .ci/run): then it fails.
Playwright's own browser downloads are never used (they cannot be fetched here).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Iterator
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

pytestmark = [pytest.mark.browser, pytest.mark.slow]


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
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
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
    """A new browser context (its own cookies) signed in through the form, as a person does."""
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


def committed(page: Page, partner: str, category: str) -> Decimal:
    """The committed figure of one budget line, as the page writes it (1,234.50)."""
    row = page.locator("table.budget tr", has=page.locator(f"td:text-is('{partner}')")).filter(
        has=page.locator(f"td:text-is('{category}')")
    )
    return Decimal(row.locator("td.num").nth(2).inner_text().replace(",", ""))


def test_an_officer_approves_a_claim_and_the_coordinator_sees_the_budget_move(
    demo: tuple[Server, dict[str, str]], browser: Browser
) -> None:
    server, passwords = demo
    violations: list[str] = []
    coordinator = signed_in(browser, server, "claire.coordinator", passwords["claire.coordinator"], violations)
    coordinator.goto("/budget")
    before = committed(coordinator, "NIDV", "FSTP")

    officer = signed_in(browser, server, "officer.nidv", passwords["officer.nidv"], violations)
    assert officer.get_by_role("heading", name="Claims awaiting your decision").is_visible()
    officer.locator("table", has_text="Submitted claims").locator("tbody a").first.click()
    officer.wait_for_url(re.compile(r"/claims/[0-9a-f-]{36}$"))
    assert officer.locator("h1").inner_text().endswith("submitted")
    officer.get_by_label("Note (optional)").fill("checked in the browser")
    officer.get_by_role("button", name="Approve").click()
    officer.wait_for_load_state()
    assert officer.locator("h1").inner_text().endswith("approved"), officer.content()
    approved = officer.locator("dt:text-is('Approved') + dd").inner_text()
    amount = Decimal(approved.removeprefix("EUR ").replace(",", ""))
    assert amount > 0
    assert officer.get_by_text("checked in the browser").first.is_visible()

    coordinator.reload()
    assert committed(coordinator, "NIDV", "FSTP") == before + amount

    # a partial payment: the claim is partly paid, the rest outstanding
    part = (amount / 2).quantize(Decimal("0.01"))
    officer.get_by_label("Amount in EUR").fill(str(part))
    officer.get_by_label("Bank reference").fill("SEPA-BROWSER-1")
    officer.get_by_role("button", name="Record the payment").click()
    officer.wait_for_load_state()
    assert officer.locator("h1").inner_text().endswith("partly paid"), officer.content()
    outstanding = officer.locator("dt:text-is('Outstanding') + dd").inner_text()
    assert outstanding == f"EUR {amount - part:,.2f}"
    assert officer.get_by_role("cell", name="SEPA-BROWSER-1", exact=True).is_visible()
    coordinator.reload()
    assert committed(coordinator, "NIDV", "FSTP") == before + amount - part, "what is paid is no longer committed"

    coordinator.goto("/claims")
    coordinator.get_by_label("State").select_option("approved")
    coordinator.wait_for_url(re.compile(r"/claims\?state=approved"))  # htmx pushes the filter into the URL
    coordinator.locator("#results").get_by_text("approved").first.wait_for()
    assert "submitted" not in coordinator.locator("#results tbody").inner_text()
    assert violations == [], violations


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now (rule: nodes)."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[node['target'] for node in v['nodes']][:3]}"
        for v in found
        if v["impact"] in {"serious", "critical"}
    ]


def test_the_main_pages_have_no_serious_accessibility_violations(
    demo: tuple[Server, dict[str, str]], browser: Browser
) -> None:
    """axe-core on every main page of each role: no serious or critical violation. (The scan's
    script is injected by the test, so its browser context bypasses the CSP; the pages' own
    policy is checked by the story above and the route tests.)"""
    if not AXE.is_file():
        message = f"axe-core is not installed ({AXE}): run scripts/setup-venv (npm ci)"
        if REQUIRE:
            pytest.fail(message)
        pytest.skip(message)
    server, passwords = demo
    found: dict[str, list[str]] = {}
    anonymous = browser.new_context(base_url=server.base_url, bypass_csp=True).new_page()
    anonymous.goto("/sign-in")
    found["/sign-in"] = serious_violations(anonymous)
    pages = {
        "claire.coordinator": [
            "/",
            "/budget",
            "/budget?as_of=2001-01-01",
            "/claims",
            "/claims?state=approved",
            "/payments",
            "/smes",
            "/search?q=a",
        ],
        "officer.nidv": ["/", "/claims?state=partly_paid", "/claims?state=submitted"],
        "arthur.auditor": ["/", "/verify"],
    }
    for name, paths in pages.items():
        page = signed_in(browser, server, name, passwords[name], [], bypass_csp=True)
        for path in paths:
            page.goto(path)
            found[f"{name} {path}"] = serious_violations(page)
        if name == "officer.nidv":
            page.locator("#results tbody a").first.click()
            page.wait_for_load_state()
            found[f"{name} a claim"] = serious_violations(page)
    assert {where: issues for where, issues in found.items() if issues} == {}
