"""Reporting in a real browser (Chromium, against a real ``grantledger serve`` on the demo;
fixtures of browsing.py): the demo's period 1 is submitted and period 2 in draft; NIDV's officer
locks and signs period 2's statement on screen; the coordinator sends it back with a reason and
it is a draft again. Then an axe scan of the reporting pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.api.web.browsing import Demo, browser, demo, scan, scanner, sign_in, without_issues

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = ["browser", "demo"]  # the fixtures, used by name
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def state_of(page: Page) -> str:
    """The statement's state as its page shows it."""
    return page.locator("dt:text-is('State') + dd").inner_text().strip()


def test_an_officer_locks_and_signs_and_the_coordinator_sends_it_back(demo: Demo, browser: Browser) -> None:
    server, _passwords = demo
    violations: list[str] = []
    officer = sign_in(browser, demo, "officer.nidv", violations)
    officer.get_by_role("link", name="Reporting").first.click()
    officer.wait_for_url(server.base_url + "/reporting")
    first = officer.locator("tr", has=officer.locator("a[href='/reporting/1/NIDV']"))
    assert "submitted" in first.inner_text()
    second = officer.locator("tr", has=officer.locator("a[href='/reporting/2/NIDV']"))
    assert "draft" in second.inner_text()

    officer.locator("a[href='/reporting/2/NIDV']").click()
    officer.wait_for_url(server.base_url + "/reporting/2/NIDV")
    assert state_of(officer) == "draft"
    officer.get_by_role("button", name="Lock for review").click()
    officer.wait_for_url(server.base_url + "/reporting/2/NIDV")
    assert state_of(officer) == "locked"
    officer.get_by_label("Note (optional)").fill("figures checked against the ledger")
    officer.get_by_role("button", name="Sign", exact=True).click()
    officer.wait_for_url(server.base_url + "/reporting/2/NIDV")
    assert state_of(officer) == "signed"
    digest = officer.locator("dt:text-is('Digest of the content (SHA-256)') + dd").inner_text().strip()
    assert len(digest) == 64
    assert set(digest) <= set("0123456789abcdef")

    coordinator = sign_in(browser, demo, "claire.coordinator", violations)
    coordinator.goto("/reporting/2/NIDV")
    assert state_of(coordinator) == "signed"
    coordinator.get_by_label("Reason").fill("the June travel invoice is missing")
    coordinator.get_by_role("button", name="Send back").click()
    coordinator.wait_for_url(server.base_url + "/reporting/2/NIDV")
    assert state_of(coordinator) == "draft"
    assert "the June travel invoice is missing" in coordinator.content()
    coordinator.goto("/reporting")
    row = coordinator.locator("tr", has=coordinator.locator("a[href='/reporting/2/NIDV']"))
    assert "draft" in row.inner_text()
    assert "the June travel invoice is missing" in row.inner_text()
    assert violations == []


def test_the_reporting_pages_pass_the_accessibility_scan(demo: Demo, browser: Browser) -> None:
    page = scanner(browser, demo, "claire.coordinator")
    without_issues(scan(page, ["/reporting", "/reporting/1", "/reporting/2", "/reporting/1/NIDV", "/reporting/2/NIDV"]))
    officer = scanner(browser, demo, "officer.nidv")
    without_issues(scan(officer, ["/reporting/2/NIDV"]))
