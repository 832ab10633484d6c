"""Exchange rates and own costs in a real browser (Chromium, against a real ``grantledger
serve`` on the demo): the coordinator, who keeps the demo's rates, imports a CSV file with one
bad row, sees it in the preview with nothing recorded, fixes the file and imports it; an
officer records one of their partner's own costs; an axe scan of /rates, the preview and /costs.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.api.web.browsing import Demo, browser, demo, scan, scanner, serious_violations, sign_in, without_issues

if TYPE_CHECKING:
    from playwright.sync_api import Browser, FilePayload, Page

__all__ = ["browser", "demo"]  # the fixtures, used by name
pytestmark = [pytest.mark.browser, pytest.mark.slow]

BAD = b"currency,month,rate,source\nUSD,2024-01,1.0905,InforEuro\nCAD,2024-13,1.4565,InforEuro\n"
FIXED = b"currency,month,rate,source\nUSD,2024-01,1.0905,InforEuro\nCAD,2024-01,1.4565,InforEuro\n"


def choose(page: Page, content: bytes) -> None:
    file: FilePayload = {"name": "rates.csv", "mimeType": "text/csv", "buffer": content}
    page.get_by_label(re.compile("^CSV file")).set_input_files(files=[file])


def rates_listed(page: Page, month: str) -> str:
    page.goto(f"/rates?month={month}")
    return page.locator("#results tbody").inner_text()


def test_the_coordinator_imports_rates_after_fixing_the_bad_row(demo: Demo, browser: Browser) -> None:
    server, _passwords = demo
    violations: list[str] = []
    page = sign_in(browser, demo, "claire.coordinator", violations)
    assert "No rates." in rates_listed(page, "2024-01")
    page.get_by_role("link", name="Import rates from a CSV file").click()
    page.wait_for_url(server.base_url + "/rates/import")
    choose(page, BAD)
    page.get_by_role("button", name="Preview the file").click()
    page.wait_for_load_state()
    preview = page.locator("table.preview")
    assert "Records USD 2024-01 at 1.0905 (InforEuro)" in preview.inner_text()
    assert "Line 3: month '2024-13' must be written YYYY-MM" in preview.locator(".refusal").inner_text()
    assert page.get_by_role("button", name=re.compile("^Record these")).count() == 0
    assert "No rates." in rates_listed(page, "2024-01"), "the preview recorded nothing"

    page.goto("/rates/import")
    choose(page, FIXED)
    page.get_by_role("button", name="Preview the file").click()
    page.wait_for_load_state()
    assert "2 rows: 2 to record, 0 recorded already, 0 with a problem." in page.get_by_role("status").inner_text()
    page.get_by_role("button", name="Record these 2 rates").click()
    page.wait_for_url(re.compile(r"/rates\?imported=2$"))
    assert page.get_by_text("Imported: 2 rates recorded from the file.").is_visible()
    listed = rates_listed(page, "2024-01")
    assert "USD\t1.0905" in listed
    assert "CAD\t1.4565" in listed
    assert violations == [], violations


def test_an_officer_records_an_own_cost(demo: Demo, browser: Browser) -> None:
    server, _passwords = demo
    violations: list[str] = []
    page = sign_in(browser, demo, "officer.nidv", violations)
    page.get_by_role("link", name="Own costs").click()
    page.wait_for_url(server.base_url + "/costs")
    page.get_by_label("Category").last.select_option("TRAVEL")
    page.get_by_label("Amount").fill("1234.50")
    page.get_by_label("Currency").select_option("EUR")
    page.get_by_label(re.compile("^Document reference")).fill("NIDV-BROWSER-1")
    page.get_by_label("Description").fill("train tickets to the Ottawa show")
    page.get_by_label("Cost date").last.fill("2023-05-10")
    page.get_by_role("button", name="Record the cost").click()
    page.wait_for_url(re.compile(r"/costs/[0-9a-f-]{36}\?recorded=1$"))
    assert page.locator("h1").inner_text() == "Cost NIDV-BROWSER-1 of NIDV"
    assert page.locator("dt:text-is('EUR') + dd").inner_text() == "EUR 1,234.50"
    page.goto("/costs?partner=NIDV&category=TRAVEL")
    assert page.get_by_role("cell", name="NIDV-BROWSER-1", exact=True).is_visible()
    assert violations == [], violations


def test_the_rates_and_costs_pages_have_no_serious_accessibility_violations(demo: Demo, browser: Browser) -> None:
    page = scanner(browser, demo, "officer.nidv")
    found = scan(page, ("/rates", "/rates?currency=JPY&month=2025-03", "/rates/import", "/costs"))
    page.goto("/rates")
    page.locator("#results tbody a").first.click()
    page.wait_for_load_state()
    found["a rate"] = serious_violations(page)
    page.goto("/rates/import")
    choose(page, BAD)
    page.get_by_role("button", name="Preview the file").click()
    page.wait_for_load_state()
    assert page.locator("table.preview").is_visible()
    found["the preview"] = serious_violations(page)
    without_issues(found)
