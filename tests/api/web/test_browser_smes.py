"""Missions, SMEs and budget transfers in a real browser (Chromium, against a real
``grantledger serve`` on the demo; fixtures of browsing.py): the coordinator transfers
budget with the consortium's decision reference and sees the budget move, and registers an
SME; NIDV's officer (CAN-2023 is NIDV's mission) selects it for the mission and sees its
support against the cap. Then an axe scan of the new pages."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tests.api.web.browsing import (
    Demo,
    browser,
    budget_figure,
    demo,
    scan,
    scanner,
    serious_violations,
    sign_in,
    without_issues,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = ["browser", "demo"]  # the fixtures, used by name
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def allocated(page: Page, partner: str, category: str) -> Decimal:
    """The allocated figure of one budget line, as the budget page writes it (1,234.50)."""
    return budget_figure(page, partner, category, 0)


def test_the_coordinator_transfers_budget_and_an_officer_selects_a_new_sme(demo: Demo, browser: Browser) -> None:
    server, _passwords = demo
    violations: list[str] = []
    coordinator = sign_in(browser, demo, "claire.coordinator", violations)
    coordinator.goto("/budget")
    fstp, personnel = allocated(coordinator, "NIDV", "FSTP"), allocated(coordinator, "NIDV", "PERSONNEL")

    coordinator.goto("/budget/transfers")
    coordinator.get_by_label("From partner").select_option("NIDV")
    coordinator.get_by_label("From category").select_option("PERSONNEL")
    coordinator.get_by_label("To partner").select_option("NIDV")
    coordinator.get_by_label("To category").select_option("FSTP")
    coordinator.get_by_label("Amount in EUR").fill("1250.00")
    coordinator.get_by_label("Consortium decision reference").fill("SC-BROWSER-7")
    coordinator.get_by_label("Reason (optional)").fill("more SMEs for Canada")
    coordinator.get_by_label("Transfer date").fill("2023-05-15")
    coordinator.get_by_role("button", name="Transfer").click()
    coordinator.wait_for_url(server.base_url + "/budget/transfers")
    row = coordinator.locator("tr", has=coordinator.locator("td:text-is('SC-BROWSER-7')"))
    assert row.locator("td.num").inner_text() == "1,250.00", coordinator.content()
    coordinator.goto("/budget")
    assert allocated(coordinator, "NIDV", "FSTP") == fstp + Decimal("1250.00")
    assert allocated(coordinator, "NIDV", "PERSONNEL") == personnel - Decimal("1250.00")

    coordinator.goto("/smes")
    coordinator.get_by_role("link", name="Register an SME").click()
    coordinator.get_by_label("Legal name").fill("Navigatore Browser S.r.l.")
    coordinator.get_by_label("Identifier (VAT or national number)").fill("IT 5550-1234-999")
    coordinator.get_by_label("Country").fill("IT")
    coordinator.get_by_label("Registration date").fill("2023-04-01")
    coordinator.get_by_role("button", name="Register the SME").click()
    coordinator.wait_for_url(re.compile(r"/smes/[0-9a-f-]{36}$"))
    assert coordinator.locator("h1").inner_text() == "Navigatore Browser S.r.l."
    assert coordinator.get_by_role("button", name="Select for the mission").count() == 0, "officers select"
    sme_page = coordinator.url.removeprefix(server.base_url)

    officer = sign_in(browser, demo, "officer.nidv", violations)
    officer.goto(sme_page)
    officer.get_by_label("Mission", exact=True).select_option("CAN-2023")
    officer.get_by_label("Selection date").fill("2023-04-03")
    officer.get_by_role("button", name="Select for the mission").click()
    officer.wait_for_url(server.base_url + sme_page)
    support = officer.locator("tr", has=officer.get_by_role("link", name="CAN-2023", exact=True))
    cells = support.locator("td.num").all_inner_texts()
    assert cells == ["2,000.00", "0.00", "0.00", "0.00", "2,000.00"], officer.content()

    coordinator.goto("/missions/CAN-2023")
    assert coordinator.get_by_role("link", name="Navigatore Browser S.r.l.").is_visible()
    assert violations == [], violations


def test_the_mission_sme_and_transfer_pages_have_no_serious_accessibility_violations(
    demo: Demo, browser: Browser
) -> None:
    page = scanner(browser, demo, "claire.coordinator")
    found = scan(page, ("/", "/missions", "/missions/JPN-2023", "/missions/new", "/smes/new", "/budget/transfers"))
    page.goto("/smes")
    page.locator("#results tbody a").first.click()
    page.wait_for_url(re.compile(r"/smes/[0-9a-f-]{36}$"))
    found["an SME"] = serious_violations(page)
    # a refused transfer: the refusal beside its field
    page.goto("/budget/transfers")
    page.get_by_label("From partner").select_option("SIIT")
    page.get_by_label("From category").select_option("TRAVEL")
    page.get_by_label("To category").select_option("FSTP")
    page.get_by_label("Transfer date").fill("2023-05-15")
    page.get_by_label("Amount in EUR").fill("99999999.00")
    page.get_by_label("Consortium decision reference").fill("SC-TOO-MUCH")
    page.get_by_role("button", name="Transfer").click()
    page.wait_for_load_state()
    assert page.locator("#amount-error").inner_text().startswith("Not recorded: Cannot move EUR 99,999,999.00")
    assert page.get_by_label("Consortium decision reference").input_value() == "SC-TOO-MUCH"
    found["a refused transfer"] = serious_violations(page)
    officer = sign_in(browser, demo, "officer.nidv", bypass_csp=True)
    officer.goto("/smes")
    officer.locator("#results tbody a").first.click()
    officer.wait_for_url(re.compile(r"/smes/[0-9a-f-]{36}$"))
    found["an SME, officer"] = serious_violations(officer)
    without_issues(found)
