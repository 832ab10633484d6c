"""Reporting in the web app: the periods with each partner's state, a period's page with the
statements side by side and the coordinator's submit button, a partner's statement laid out
like the EU form with its workflow (lock, sign, send back) for whoever may take each step, and
its PDF made from the same template; refusals in the ledger's words, what was typed kept."""

from __future__ import annotations

import io
import re
import sys
from datetime import date

import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
from pypdf import PdfReader

from api.context import LedgerContext
from api.routes._write import then_read
from api.web import statement_pdf
from ledger.actors import Actor, Role
from ledger.reporting import TITLES, Column
from projections.statements import PartnerStatement, partner_statement
from tests.api.conftest import JSON, Alliance, Api, expense
from tests.api.web.conftest import Person

People = dict[str, Person]
COORDINATOR = Actor("claire.coordinator", Role.COORDINATOR, "TECHTERA")
PERIODS = [(date(2021, 9, 1), date(2022, 8, 31)), (date(2022, 9, 1), date(2023, 8, 31))]
STATEMENT = "/reporting/2/POINTEX"


@pytest.fixture
def paid(app: FastAPI, api: Api, alliance: Alliance) -> JSON:
    """Two reporting periods; a POINTEX claim approved (70% of EUR 1,250.50) and paid EUR 800.00 in period 2."""
    context: LedgerContext = app.state.context
    context.app.set_reporting_periods(actor=COORDINATOR, periods=PERIODS, reason="GA Annex 1", on=date(2021, 9, 1))
    then_read(context, 10, lambda _conn: None)
    claim = api.submit(alliance, expense("1250.50", "EUR", receipt="R-EUR-1"))
    api.approve(claim["id"])
    return api.pay(claim["id"], "800.00")


def figures(app: FastAPI) -> PartnerStatement:
    context: LedgerContext = app.state.context
    with context.read_db.reading() as conn:
        found = partner_statement(conn, "POINTEX", 2)
    assert found is not None
    return found


def state_of(page: str, partner: str, number: int = 2) -> str:
    """The state of ``partner``'s statement for period ``number`` on the reporting page."""
    found = re.search(rf'"/reporting/{number}/{partner}">{partner}</a></td><td><span class="state state-(\w+)"', page)
    assert found is not None, page
    return found[1]


class TestPages:
    def test_the_navigation_leads_to_reporting_and_every_period_lists_the_partners(
        self, browser: People, paid: JSON
    ) -> None:
        page = browser["arthur.auditor"].get("/reporting")
        assert '<a href="/reporting" aria-current="page">Reporting</a>' in page
        assert "Period 1</a>: 2021-09-01 to 2022-08-31" in page
        assert "Period 2</a>: 2022-09-01 to 2023-08-31" in page
        assert state_of(page, "POINTEX") == "draft"
        assert '<a href="/reporting/2/NTT">NTT</a>' in page

    def test_the_statement_is_laid_out_like_the_eu_form_with_the_read_models_figures(
        self, app: FastAPI, browser: People, paid: JSON
    ) -> None:
        page = browser["arthur.auditor"].get(STATEMENT)
        shown = figures(app)
        assert shown.figures.costs[Column.D1].amount == 800, "the payment's value date is in period 2"
        for column in Column:
            cost = shown.figures.costs[column].amount
            row = f'<th scope="row">{column.value}</th><td>{TITLES[column]}</td><td class="num">{cost:,.2f}</td>'
            assert row in page, column
        assert f"EUR {shown.figures.total.amount:,.2f}" in page
        assert f"EUR {shown.figures.requested.amount:,.2f}" in page
        assert "Funding rate</dt><dd>90%" in page
        assert "Not required" in page, "no certificate below the threshold"
        assert f"<dd>{shown.position}</dd>" in page
        assert "Lock for review" not in page, "an auditor takes no step"

    def test_the_period_shows_every_statement_side_by_side(self, browser: People, paid: JSON) -> None:
        page = browser["claire.coordinator"].get("/reporting/2")
        assert '<a href="/reporting/2/POINTEX">POINTEX</a>' in page
        assert "D.1 Financial support to third parties</th>" in page
        assert "not signed yet: " in page
        assert re.search(r'<button type="submit" disabled[^>]*>Submit the period</button>', page)
        assert "Submit the period" not in browser["paola.pointex"].get("/reporting/2")

    def test_an_unknown_period_or_partner_is_a_page_saying_so(self, browser: People, paid: JSON) -> None:
        client = browser["arthur.auditor"].client
        missing = client.get("/reporting/7")
        assert missing.status_code == 404
        assert "no reporting period 7; the periods are 1, 2" in missing.text
        unknown = client.get("/reporting/2/ACME")
        assert unknown.status_code == 404
        assert "ACME" in unknown.text
        assert "is not in the grant; the partners are NIDV, NTT, POINTEX" in unknown.text


class TestPdf:
    def test_the_pdf_carries_the_figures_position_and_seal(self, app: FastAPI, browser: People, paid: JSON) -> None:
        response = browser["paola.pointex"].client.get("/reporting/2/pointex.pdf")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"] == 'attachment; filename="statement-POINTEX-P2.pdf"'
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.content.startswith(b"%PDF")
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
        shown = figures(app)
        assert "D.1 Financial support to third parties 800.00 90% 720.00" in text
        assert f"EUR {shown.figures.requested.amount:,.2f}" in text
        assert str(shown.position) in text
        assert response.headers["x-ledger-head-seal"][:40] in text.replace("\n", "")

    def test_without_pango_the_pdf_says_what_to_install(
        self, browser: People, paid: JSON, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def missing(_html: str) -> bytes:
            raise statement_pdf.PdfUnavailable(statement_pdf.PANGO)

        monkeypatch.setattr("api.web.statement.html_to_pdf", missing)
        response = browser["paola.pointex"].client.get("/reporting/2/POINTEX.pdf")
        assert response.status_code == 503
        assert "PDF needs Pango: apt-get install libpango-1.0-0" in response.text

    def test_a_missing_weasyprint_is_refused_in_those_words(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setitem(sys.modules, "weasyprint", None)  # import fails
        with pytest.raises(statement_pdf.PdfUnavailable, match=re.escape(statement_pdf.PANGO)):
            statement_pdf.html_to_pdf("<p>x</p>")


class TestWorkflow:
    def step(self, person: Person, step: str, reason: str = "") -> str:
        response = person.post(f"{STATEMENT}/{step}", {"reason": reason}, csrf_from=STATEMENT)
        assert response.status_code == 303, response.text
        assert response.headers["location"] == STATEMENT
        return person.get(STATEMENT)

    def test_the_officer_locks_and_signs_and_the_coordinator_sends_it_back(self, browser: People, paid: JSON) -> None:
        officer, coordinator = browser["paola.pointex"], browser["claire.coordinator"]
        assert "Send back" not in coordinator.get(STATEMENT), "a draft is not the coordinator's to send back"
        locked = self.step(officer, "lock", "figures checked")
        assert 'state-locked">locked' in locked
        assert '<button type="submit">Sign</button>' in locked
        signed = self.step(officer, "sign")
        assert 'state-signed">signed' in signed
        assert "Signed by</dt><dd>paola.pointex" in signed
        assert re.search(r"Digest of the content \(SHA-256\)</dt><dd class=\"seal\">[0-9a-f]{64}<", signed)
        assert state_of(coordinator.get("/reporting"), "POINTEX") == "signed"

        refused = coordinator.post(f"{STATEMENT}/send-back", {"reason": ""}, csrf_from=STATEMENT)
        assert refused.status_code == 422, refused.text
        assert "Not recorded: " in refused.text
        assert 'state-signed">signed' in refused.text, "nothing changed"

        back = self.step(coordinator, "send-back", "travel receipts missing for March")
        assert 'state-draft">draft' in back
        assert "travel receipts missing for March" in back
        assert state_of(coordinator.get("/reporting"), "POINTEX") == "draft"

    def test_another_partners_officer_is_refused_and_sees_no_form(self, browser: People, paid: JSON) -> None:
        other = browser["nico.ntt"]
        assert "Lock for review" not in other.get(STATEMENT)
        response = other.post(f"{STATEMENT}/lock", {"reason": "mine now"}, csrf_from=STATEMENT)
        assert response.status_code == 403
        assert 'state-draft">draft' in browser["arthur.auditor"].get(STATEMENT)

    def test_a_refused_step_keeps_what_was_typed(self, browser: People, paid: JSON) -> None:
        response = browser["paola.pointex"].post(f"{STATEMENT}/sign", {"reason": "signed early"}, csrf_from=STATEMENT)
        assert response.status_code == 409, response.text
        assert "Not recorded: " in response.text
        assert ">signed early</textarea>" in response.text
        assert 'state-draft">draft' in response.text

    def test_submitting_before_every_statement_is_signed_is_refused_with_the_reason_kept(
        self, browser: People, paid: JSON
    ) -> None:
        coordinator = browser["claire.coordinator"]
        response = coordinator.post("/reporting/2/submit", {"reason": "P2 to the EU"}, csrf_from="/reporting/2")
        assert response.status_code == 409, response.text
        assert "Not recorded: " in response.text
        assert ">P2 to the EU</textarea>" in response.text

    def test_a_step_without_its_csrf_token_records_nothing(self, browser: People, paid: JSON) -> None:
        response = browser["paola.pointex"].client.post(f"{STATEMENT}/lock", data={"reason": "x"})
        assert response.status_code == 403
        assert 'state-draft">draft' in browser["arthur.auditor"].get(STATEMENT)


class TestWorkbooks:
    def test_the_statement_and_the_periods_workbook_download_as_xlsx(self, browser: People, paid: JSON) -> None:
        client = browser["arthur.auditor"].client
        for path, name in (
            (f"{STATEMENT}.xlsx", "statement-POINTEX-P2.xlsx"),
            ("/reporting/2.xlsx", "statements-period-2.xlsx"),
        ):
            response = client.get(path)
            assert response.status_code == 200, response.text
            assert response.headers["content-disposition"] == f'attachment; filename="{name}"'
            assert response.headers["x-content-type-options"] == "nosniff"
            book = load_workbook(io.BytesIO(response.content))
            assert any("POINTEX" in title for title in book.sheetnames), book.sheetnames
