"""The claim forms in a real browser (Chromium via Playwright, against ``grantledger serve`` on
the demo): POINTEX's officer records a JPY claim with two lines, the EUR estimate appearing as
the lines are typed (htmx, under the strict CSP), previews a partial approval, confirms it and
records the payment; axe-core finds no serious violation on the new-claim form or the preview.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING

from tests.api.web.browsing import Demo, browser, demo, has_axe, serious_violations, sign_in, without_issues

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["browser", "demo"]  # the fixtures, used by name

OFFICER = "officer.pointex"
#: The demo's JPY rate of March 2023 is 142.71: JPY 28,542 is EUR 200.00, JPY 14,271 EUR 100.00.
RATE = "142.71"


def fill_line(page: Page, no: int, amount: str, receipt: str, day: str, cost_type: str) -> None:
    page.locator(f"#line-{no}-cost_type").select_option(cost_type)
    page.locator(f"#line-{no}-expense_date").fill(day)
    page.locator(f"#line-{no}-currency").select_option("JPY")
    page.locator(f"#line-{no}-receipt_ref").fill(receipt)
    page.locator(f"#line-{no}-description").fill(f"{cost_type.lower()} in Tokyo")
    page.locator(f"#line-{no}-amount").press_sequentially(amount)


def figure(text: str) -> Decimal:
    return Decimal(text.removeprefix("EUR ").replace(",", ""))


def preview(page: Page) -> None:
    """Half of line 2 accepted, with its reason; the preview drawn."""
    page.locator("#accepted-2").fill("14271")
    page.locator("#reason-2").fill("one night was private")
    page.get_by_label("Approval date").fill("2023-04-20")
    page.get_by_role("button", name="Preview the approval").click()
    page.wait_for_load_state()


def test_an_officer_records_a_jpy_claim_approves_it_partly_and_pays_it(demo: Demo, browser: Browser) -> None:
    violations: list[str] = []
    officer = sign_in(browser, demo, OFFICER, violations)
    officer.get_by_role("link", name="Record a claim").click()
    officer.wait_for_url(re.compile(r"/claims/new$"))
    sme = officer.locator("#sme option", has_text="Alpenfaser Technik GmbH").get_attribute("value")
    assert sme is not None
    officer.get_by_label("SME", exact=True).select_option(sme)
    officer.get_by_label("Submission date").fill("2023-04-03")
    fill_line(officer, 1, "28542", "BROWSER-JAL-1", "2023-03-13", "TRAVEL")
    estimate = officer.locator("#estimate")
    # htmx posts the form as it is typed (a pause mid-amount shows that amount's estimate first)
    estimate.locator("tbody").get_by_role("cell", name="200.00", exact=True).wait_for()
    assert f"1 EUR = {RATE} JPY" in estimate.inner_text()

    officer.get_by_role("button", name="Add a line").click()  # a plain submit: the form comes back
    officer.wait_for_load_state()
    assert officer.locator("#line-1-amount").input_value() == "28542", "what was typed is kept"
    assert officer.locator("#line-2-currency").input_value() == "JPY"
    fill_line(officer, 2, "28542", "BROWSER-HOTEL-2", "2023-03-14", "ACCOMMODATION")
    estimate.locator("tfoot").get_by_text("400.00").wait_for()
    assert "280.00" in estimate.locator("tfoot").inner_text(), "70% of EUR 400.00"

    officer.get_by_role("button", name="Record the claim").click()
    officer.wait_for_url(re.compile(r"/claims/[0-9a-f-]{36}$"))
    assert officer.locator("h1").inner_text().endswith("submitted"), officer.content()
    lines = officer.locator("table", has_text="Each expense as claimed")
    assert lines.get_by_role("cell", name="JPY 28,542", exact=True).count() == 2
    claim_url = officer.url

    preview(officer)
    approved = figure(officer.locator("#preview-approved").inner_text())
    assert approved <= Decimal("210.00"), "70% of EUR 200.00 + 100.00, or less under a cap"
    assert officer.locator("#preview-binding").is_visible()
    assert "submitted" in officer.locator("h1").inner_text(), "a preview records nothing"

    if has_axe():  # the preview, scanned in a context that lets the scan's script in
        scan = sign_in(browser, demo, OFFICER, bypass_csp=True)
        scan.goto(claim_url)
        preview(scan)
        found = {"preview": serious_violations(scan)}
        scan.goto("/claims/new")
        found["/claims/new"] = serious_violations(scan)
        scan.get_by_role("button", name="Add a line").click()
        scan.wait_for_load_state()
        found["/claims/new with two lines"] = serious_violations(scan)
        without_issues(found)

    officer.get_by_role("button", name="Confirm the approval").click()
    officer.wait_for_load_state()
    assert officer.locator("h1").inner_text().endswith("approved"), officer.content()
    assert figure(officer.locator("dt:text-is('Approved') + dd").inner_text()) == approved
    assert officer.get_by_text("one night was private").first.is_visible()

    officer.get_by_label("Amount in EUR").fill(str(approved))
    officer.get_by_label("Bank reference").fill("SEPA-BROWSER-JPY")
    officer.get_by_role("button", name="Record the payment").click()
    officer.wait_for_load_state()
    assert officer.locator("h1").inner_text().endswith("paid"), officer.content()
    timeline = officer.locator("table.timeline tbody").inner_text()
    assert timeline.index("submitted") < timeline.index("approved") < timeline.index("reimbursement paid")
    assert violations == [], violations
