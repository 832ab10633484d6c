"""The audit trail and the burn charts in a real browser (Chromium, on the demo served by
``grantledger serve``; fixtures of browsing.py): the auditor filters the trail, opens a
claim's history from it and looks at an earlier version; the coordinator opens the charts and
chooses a partner; no CSP violation; axe-core finds no serious violation on these pages."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.api.web.browsing import Demo, browser, demo, scan, scanner, serious_violations, sign_in, without_issues

if TYPE_CHECKING:
    from playwright.sync_api import Browser

__all__ = ["browser", "demo"]  # the fixtures, used by name
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_auditor_opens_a_claims_history_from_the_trail(demo: Demo, browser: Browser) -> None:
    violations: list[str] = []
    auditor = sign_in(browser, demo, "arthur.auditor", violations)
    auditor.get_by_role("link", name="The audit trail").first.click()
    auditor.wait_for_url(re.compile(r"/audit$"))
    auditor.get_by_label("Record type").select_option("Claim")
    auditor.get_by_label("Event type").fill("Approved")
    auditor.get_by_role("button", name="Filter").click()
    auditor.wait_for_url(re.compile(r"/audit\?type=Claim&.*event=Approved"))
    body = auditor.locator("table.trail tbody")
    assert body.locator("tr").count() > 1
    assert set(re.findall(r"\) (\w+) ", body.inner_text().replace("\t", " ").replace("\n", " "))) == {"Approved"}

    body.locator("a", has_text=re.compile(r"^Claim ")).first.click()
    auditor.wait_for_url(re.compile(r"/audit/[0-9a-f-]{36}$"))
    assert auditor.get_by_role("heading", name="Version 1: Submitted").is_visible()
    approved = auditor.get_by_role("heading", name=re.compile(r"^Version \d+: Approved$")).first
    assert approved.is_visible()
    found = re.match(r"Version (\d+)", approved.inner_text())
    assert found is not None
    version = int(found[1])  # after the receipts attached with the claim, if it has any
    latest = auditor.locator("#state-heading").inner_text()
    assert re.fullmatch(r"State at version \d+", latest)

    auditor.get_by_label("Show the state at version").select_option("1")
    auditor.get_by_role("button", name="Show").click()
    auditor.wait_for_url(re.compile(r"\?version=1$"))
    assert auditor.locator("#state-heading").inner_text() == "State at version 1"
    state = auditor.locator("table.state tr", has=auditor.locator("th:text-is('state')"))
    assert state.locator("td").first.inner_text() == "submitted"

    auditor.get_by_role("link", name=f"The state at version {version}").click()
    auditor.wait_for_url(re.compile(rf"\?version={version}#state-heading$"))
    changed = auditor.locator("table.state tr.changed", has=auditor.locator("th:text-is('state')"))
    assert changed.locator("td").all_inner_texts() == ["approved", "submitted", "changed"]
    assert violations == [], violations


def test_the_coordinator_looks_at_the_burn_charts(demo: Demo, browser: Browser) -> None:
    violations: list[str] = []
    coordinator = sign_in(browser, demo, "claire.coordinator", violations)
    coordinator.get_by_role("link", name="Charts", exact=True).click()
    coordinator.wait_for_url(re.compile(r"/charts$"))
    main = coordinator.get_by_role("img", name="The whole grant: every line")
    assert main.is_visible()
    box = main.bounding_box()
    assert box is not None
    assert box["width"] > 300, "drawn at its size (the stylesheet applies under the CSP)"
    assert coordinator.locator("ul.small-charts svg").count() == 6

    coordinator.get_by_label("Partner").select_option("NIDV")
    coordinator.get_by_label("Budget line (category)").select_option("FSTP")
    coordinator.get_by_role("button", name="Show").click()
    coordinator.wait_for_url(re.compile(r"/charts\?partner=NIDV&line=FSTP"))
    assert coordinator.get_by_role("img", name="NIDV FSTP").is_visible()
    coordinator.get_by_text("The figures as a table").click()
    last = coordinator.locator("section.chart-main tbody tr").last
    assert last.is_visible()
    assert re.match(r"\d{4}-\d{2}-\d{2}", last.locator("th").inner_text())
    description = coordinator.locator("#main-desc").text_content() or ""
    assert "allocated EUR" in description
    assert "paid EUR" in description
    assert violations == [], violations


def test_the_audit_and_chart_pages_have_no_serious_accessibility_violations(demo: Demo, browser: Browser) -> None:
    page = scanner(browser, demo, "arthur.auditor")
    found = scan(
        page, ("/audit", "/audit?type=Claim&order=log", "/audit?from=2023-13-01", "/charts", "/charts?partner=NTT")
    )
    page.goto("/audit?type=Claim")
    page.locator("table.trail tbody a", has_text=re.compile(r"^Claim ")).first.click()
    page.wait_for_load_state()
    found["a claim's history"] = serious_violations(page)
    page.goto(page.url + "?version=1")
    found["a claim's first version"] = serious_violations(page)
    without_issues(found)
