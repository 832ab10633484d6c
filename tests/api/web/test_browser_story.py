"""The rest of the issue's browser story, in Chromium against a real ``grantledger serve`` on the
demo: an auditor reads a claim's history, verifies the chain and downloads the XLSX; an officer
of another partner is refused; a form without its CSRF token is refused; a session that sat idle
ends; signing out ends it; and a form the ledger refuses keeps what was typed.

The server and the browser are browsing.py's fixtures (module-scoped: set up afresh here)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, update

from api.accounts import sessions
from projections.db import read_url_for
from tests.api.web.browsing import Demo, browser, demo, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["browser", "demo"]  # the fixtures, used by name: a demo served of its own, and Chromium


def first_claim(page: Page, query: str) -> str:
    """Open the first claim of the list ``/claims?query``; its id."""
    page.goto(f"/claims?{query}")
    page.locator("#results tbody a").first.click()
    page.wait_for_url(re.compile(r"/claims/[0-9a-f-]{36}$"))
    return page.url.rsplit("/", 1)[1]


def test_the_auditor_reads_a_claims_history_verifies_the_chain_and_downloads_the_xlsx(
    browser: Browser, demo: Demo, tmp_path: Path
) -> None:
    auditor = sign_in(browser, demo, "arthur.auditor")
    first_claim(auditor, "state=paid")
    assert auditor.get_by_role("heading", name="History").is_visible()
    history = auditor.locator("main").inner_text().split("History", 1)[1].lower()
    for event in ("submitted", "approved", "paid"):
        assert event in history, history
    assert auditor.get_by_role("button", name="Approve").count() == 0, "an auditor decides nothing"

    auditor.goto("/verify")
    verdict = auditor.locator("main").inner_text()
    assert "intact" in verdict.lower(), verdict
    assert re.search(r"\d+:[0-9a-f]{64}", verdict), "the head seal is shown to write down"

    auditor.goto("/")
    with auditor.expect_download() as download:
        auditor.get_by_role("link", name="Every table as one XLSX workbook").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".xlsx"
    workbook = load_workbook(saved, read_only=True)
    assert {"claims", "budget"} <= {name.lower() for name in workbook.sheetnames}, workbook.sheetnames


def test_an_officer_of_another_partner_sees_no_decision_and_is_refused(browser: Browser, demo: Demo) -> None:
    nidv = sign_in(browser, demo, "officer.nidv")
    claim_id = first_claim(nidv, "state=submitted&partner=NIDV")
    csrf = nidv.locator("input[name=csrf]").first.get_attribute("value")
    assert csrf

    other = sign_in(browser, demo, "officer.ntt")
    other.goto(f"/claims/{claim_id}")
    assert other.get_by_role("button", name="Approve").count() == 0, "no form for another partner's claim"
    # sent anyway, with that officer's own valid token: the ledger's rule refuses it
    own = other.locator("input[name=csrf]").first.get_attribute("value")
    answer = other.request.post(
        f"/claims/{claim_id}/approve", form={"csrf": own or "", "on": "2026-01-05", "reason": "not mine"}
    )
    assert answer.status == 403
    assert "NIDV" in answer.text(), answer.text()
    nidv.reload()
    assert nidv.locator("h1").inner_text().endswith("submitted"), "nothing was recorded"


def test_a_form_without_its_csrf_token_is_refused_and_records_nothing(browser: Browser, demo: Demo) -> None:
    officer = sign_in(browser, demo, "officer.nidv")
    claim_id = first_claim(officer, "state=submitted&partner=NIDV")
    form = officer.locator("form[action$='/approve']")
    form.locator("input[name=csrf]").evaluate("field => field.value = 'forged'")
    form.get_by_role("button", name="Approve").click()
    officer.wait_for_load_state()
    assert officer.locator("h1").inner_text() == "Form refused"
    assert "security token" in officer.locator("main").inner_text()
    officer.goto(f"/claims/{claim_id}")
    assert officer.locator("h1").inner_text().endswith("submitted"), "nothing was recorded"


def test_a_refused_form_keeps_what_was_typed(browser: Browser, demo: Demo) -> None:
    officer = sign_in(browser, demo, "officer.nidv")
    first_claim(officer, "state=submitted&partner=NIDV")
    form = officer.locator("form[action$='/approve']")
    form.get_by_label("Note (optional)").fill("typed at six pm")
    form.locator("input[name=on]").fill("2001-01-01")  # before the grant: the ledger refuses it
    form.get_by_role("button", name="Approve").click()
    officer.wait_for_load_state()
    assert officer.locator("h1").inner_text().endswith("submitted"), "nothing was recorded"
    assert officer.get_by_role("alert").first.is_visible()
    form = officer.locator("form[action$='/approve']")
    assert form.get_by_label("Note (optional)").input_value() == "typed at six pm"
    assert form.locator("input[name=on]").input_value() == "2001-01-01"


def test_an_idle_session_ends_and_signing_out_ends_it(browser: Browser, demo: Demo) -> None:
    server, _ = demo
    coordinator = sign_in(browser, demo, "claire.coordinator")
    # every session of the store sat idle for two days (the server's clock is real: the test
    # moves the sessions back instead)
    engine = create_engine(read_url_for(server.database_url, environ={}))  # the sessions live with the read models
    long_ago = datetime.now(UTC) - timedelta(days=2)
    with engine.begin() as conn:
        conn.execute(update(sessions).values(seen_at=long_ago, created_at=long_ago))
    engine.dispose()
    coordinator.goto("/budget")
    assert "/sign-in?next=/budget" in coordinator.url
    assert "expired=1" in coordinator.url
    assert coordinator.get_by_text("Your session ended").is_visible()

    again = sign_in(browser, demo, "claire.coordinator")
    again.get_by_role("button", name="Sign out").click()
    again.wait_for_url(re.compile(r"/sign-in"))
    again.goto("/budget")
    assert "/sign-in" in again.url, "signed out: the pages ask to sign in again"


def test_the_coordinator_sees_the_chart_move_when_an_officer_approves(browser: Browser, demo: Demo) -> None:
    coordinator = sign_in(browser, demo, "claire.coordinator")
    coordinator.goto("/charts?partner=NIDV&line=FSTP")

    def latest_committed() -> Decimal:
        coordinator.get_by_text("The figures as a table").first.click()  # open the <details>
        last = coordinator.locator("details table").first.locator("tbody tr").last
        return Decimal(last.locator("td").nth(2).inner_text().replace(",", ""))

    before, drawn = latest_committed(), coordinator.locator("svg.chart").first.inner_html()
    officer = sign_in(browser, demo, "officer.nidv")
    first_claim(officer, "state=submitted&partner=NIDV")
    officer.get_by_role("button", name="Approve", exact=True).click()
    officer.wait_for_load_state()
    assert officer.locator("h1").inner_text().endswith("approved"), officer.content()
    approved = Decimal(
        officer.locator("dt:text-is('Approved') + dd").inner_text().removeprefix("EUR ").replace(",", "")
    )

    coordinator.reload()
    assert latest_committed() == before + approved
    assert coordinator.locator("svg.chart").first.inner_html() != drawn, "the chart is drawn anew"
