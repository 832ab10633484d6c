"""The web app in a real browser: Debian's Chromium, driven by Playwright, against a real
``grantledger serve`` on a loopback port, loaded with the demo (its users as it prints them).

The story: an officer signs in, opens a claim awaiting their decision, approves it and sees it
approved; the coordinator sees the amount committed on the budget, and filters the claims
(htmx, under the strict CSP: no policy violation in the console).

The fixtures and helpers are tests/api/web/browsing.py's; they stay importable from here by
the names the other browser tests took from here (AXE, REQUIRE, browser, demo,
serious_violations, signed_in).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tests.api.web.browsing import (
    AXE,
    CHROMIUM,
    LIFETIME,
    REQUIRE,
    Demo,
    browser,
    budget_figure,
    demo,
    require_axe,
    require_browser,
    scan,
    scanner,
    serious_violations,
    sign_in,
    signed_in,
    without_issues,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

#: What the other browser tests took from here, before browsing.py: still importable from here.
__all__ = [
    "AXE",
    "CHROMIUM",
    "LIFETIME",
    "REQUIRE",
    "browser",
    "demo",
    "require_browser",
    "serious_violations",
    "signed_in",
]
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def committed(page: Page, partner: str, category: str) -> Decimal:
    """The committed figure of one budget line, as the page writes it (1,234.50)."""
    return budget_figure(page, partner, category, 2)


def test_an_officer_approves_a_claim_and_the_coordinator_sees_the_budget_move(demo: Demo, browser: Browser) -> None:
    violations: list[str] = []
    coordinator = sign_in(browser, demo, "claire.coordinator", violations)
    coordinator.goto("/budget")
    before = committed(coordinator, "NIDV", "FSTP")

    officer = sign_in(browser, demo, "officer.nidv", violations)
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


def test_the_main_pages_have_no_serious_accessibility_violations(demo: Demo, browser: Browser) -> None:
    """axe-core on every main page of each role: no serious or critical violation. (The scan's
    script is injected by the test, so its browser context bypasses the CSP; the pages' own
    policy is checked by the story above and the route tests.)"""
    require_axe()
    server, _passwords = demo
    anonymous = browser.new_context(base_url=server.base_url, bypass_csp=True).new_page()
    found = scan(anonymous, ["/sign-in"])
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
        page = scanner(browser, demo, name)
        found |= {f"{name} {path}": issues for path, issues in scan(page, paths).items()}
        if name == "officer.nidv":
            page.locator("#results tbody a").first.click()
            page.wait_for_load_state()
            found[f"{name} a claim"] = serious_violations(page)
    without_issues(found)
