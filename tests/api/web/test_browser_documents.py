"""Supporting documents in a real browser (Chromium, against a real ``grantledger serve`` on the
demo; fixtures of browsing.py): NIDV's officer attaches a receipt to a pending claim on its page
and sees it listed, and records an own cost of period 2 with its invoice; the auditor downloads
period 2's zip from the Documents page, unzips it and its manifest checks out with
``sha256sum -c``. Then an axe scan of the pages that show and take documents."""

from __future__ import annotations

import hashlib
import re
import subprocess
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.api.web.browsing import Demo, browser, demo, scan, scanner, sign_in, without_issues
from tests.samples import pdf

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = ["browser", "demo"]  # the fixtures, used by name
pytestmark = [pytest.mark.browser, pytest.mark.slow]
OFFICER = "officer.nidv"
AUDITOR = "arthur.auditor"


def pending_claim(page: Page) -> str:
    """Open NIDV's first claim awaiting a decision (from the navigation); its id."""
    page.get_by_role("link", name="Awaiting my decision").click()
    page.wait_for_url(re.compile(r"/claims\?"))
    page.locator("#results tbody a").first.click()
    page.wait_for_url(re.compile(r"/claims/[0-9a-f-]{36}$"))
    return page.url.rsplit("/", 1)[1]


def record_cost(page: Page, invoice: Path) -> None:
    """An own cost of period 2 (EUR 240.00 on 2023-03-20) recorded with its invoice."""
    page.goto("/costs")
    page.locator("#record-category").select_option("TRAVEL")
    page.locator("#record-amount").fill("240.00")
    page.locator("#record-document").fill("BROWSER-INV-1")
    page.locator("#record-description").fill("train to the Tokyo fair")
    page.locator("#record-on").fill("2023-03-20")
    page.locator("#record-documents").set_input_files(str(invoice))
    page.get_by_role("button", name="Record the cost").click()
    page.wait_for_url(re.compile(r"/costs/[0-9a-f-]{36}\?recorded=1$"))


def test_an_officer_attaches_a_receipt_and_the_auditor_checks_the_period_zip(
    demo: Demo, browser: Browser, tmp_path: Path
) -> None:
    violations: list[str] = []
    officer = sign_in(browser, demo, OFFICER, violations)
    claim_id = pending_claim(officer)
    line = officer.locator("#line-1-documents").locator("..")
    receipt = tmp_path / "taxi-receipt.pdf"
    receipt.write_bytes(pdf(f"taxi receipt of claim {claim_id}"))
    officer.locator("#attach-1-file").set_input_files(str(receipt))
    officer.get_by_role("button", name="Attach to line 1", exact=True).click()
    officer.wait_for_url(re.compile(rf"/claims/{claim_id}$"))
    listed = line.locator("table.documents")
    assert listed.get_by_role("link", name="taxi-receipt.pdf").is_visible()
    digest = hashlib.sha256(receipt.read_bytes()).hexdigest()
    assert digest[:12] in listed.inner_text()
    assert "No document yet" not in line.inner_text()

    invoice = tmp_path / "rail-invoice.pdf"
    invoice.write_bytes(pdf("BROWSER-INV-1 rail invoice"))
    record_cost(officer, invoice)
    assert officer.locator("#cost-documents").get_by_role("link", name="rail-invoice.pdf").is_visible()

    auditor = sign_in(browser, demo, AUDITOR, violations)
    auditor.get_by_role("link", name="Documents").first.click()
    auditor.wait_for_url(re.compile(r"/documents$"))
    assert auditor.get_by_role("heading", name="Lines and costs still lacking a document").is_visible()
    auditor.locator("#zip-period").select_option("2")
    auditor.locator("#zip-partner").select_option("NIDV")
    with auditor.expect_download() as download:
        auditor.get_by_role("button", name="Download the zip").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "documents-period-2-NIDV.zip"
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(saved) as archive:
        archive.extractall(folder)
    manifest = (folder / "MANIFEST.sha256").read_text()
    assert hashlib.sha256(invoice.read_bytes()).hexdigest() in manifest
    assert "BROWSER-INV-1" in manifest
    checked = subprocess.run(
        ["/usr/bin/sha256sum", "-c", "MANIFEST.sha256"], cwd=folder, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "rail-invoice.pdf: OK" in checked.stdout
    assert violations == []


def test_the_document_pages_pass_the_accessibility_scan(demo: Demo, browser: Browser) -> None:
    officer = scanner(browser, demo, OFFICER)
    claim_id = pending_claim(officer)
    without_issues(scan(officer, [f"/claims/{claim_id}", "/claims/new", "/costs", "/documents"]))
    auditor = scanner(browser, demo, AUDITOR)
    without_issues(scan(auditor, ["/documents", "/documents?partner=NIDV", f"/claims/{claim_id}"]))
