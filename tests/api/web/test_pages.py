"""The pages as a person reads them: the figures (thousands separators, EUR beside the original
currency), the time filter in the URL, filters and paging, and the headers every page has."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient

from api.web.claims import PAGE
from tests.api.conftest import JSON, Alliance, Api, expense
from tests.api.web.conftest import Person

People = dict[str, Person]


def cells(page: str) -> list[str]:
    """The text of every right-aligned cell (the figures), in order."""
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r'<td class="num">(.*?)</td>', page, re.S)]


class TestHome:
    def test_the_coordinator_sees_the_grant_at_a_glance(self, browser: People, claim: JSON) -> None:
        page = browser["claire.coordinator"].get("/")
        assert "EU-ALLIANCE: the grant at a glance" in page
        assert "EUR 500,000.00" in page
        assert "EUR 450,000.00" in page
        assert "1 claim submitted and not yet decided" in page
        assert f'href="/claims/{claim["id"]}"' in page
        assert "Tessuti Avanzati IT01234567890 S.r.l." in page, "the SME by its name, not its id"

    def test_an_officer_sees_their_lines_and_the_claims_awaiting_them(self, browser: People, claim: JSON) -> None:
        page = browser["paola.pointex"].get("/")
        assert "POINTEX: your lines and claims" in page
        assert "1 claim charged to POINTEX await a decision" in page
        assert f'href="/claims/{claim["id"]}"' in page
        other = browser["nico.ntt"].get("/")
        assert "0 claims charged to NTT await a decision" in other
        assert claim["id"] not in other

    def test_the_navigation_is_each_roles_own(self, browser: People, alliance: Alliance) -> None:
        officer = browser["paola.pointex"].get("/")
        assert '<a href="/claims?state=submitted&amp;partner=POINTEX">Awaiting my decision</a>' in officer
        assert '<a href="/" aria-current="page">Home</a>' in officer
        assert '<a href="/claims?state=submitted">Pending claims</a>' in browser["claire.coordinator"].get("/")
        assert '<a href="/#exports">Exports</a>' in browser["arthur.auditor"].get("/")

    def test_before_the_grant_the_pages_say_so(self, browser: People) -> None:
        assert "No grant agreement is recorded" in browser["claire.coordinator"].get("/")
        assert "No grant agreement is recorded yet" in browser["paola.pointex"].get("/")
        budget = browser["paola.pointex"].client.get("/budget")
        assert "The grant agreement is not in the ledger" in budget.text

    def test_the_auditor_sees_the_chain_and_the_exports(self, browser: People, claim: JSON) -> None:
        page = browser["arthur.auditor"].get("/")
        assert re.search(r"<code class=\"seal\">\d+:[0-9a-f]{64}</code>", page)
        assert "up to date with the events" in page
        assert 'href="/exports/ledger.xlsx"' in page
        assert "Submitted" in page, "recent events name what happened"

    def test_the_auditor_downloads_the_workbook_and_an_officer_their_own_partners_rows(
        self, browser: People, claim: JSON
    ) -> None:
        """The same downloads as the API's: the auditor every partner's books, an officer
        only their own partner's rows (export_scope)."""
        response = browser["arthur.auditor"].client.get("/exports/ledger.xlsx")
        assert response.status_code == 200
        assert response.content[:2] == b"PK"
        assert response.headers["x-ledger-head-seal"]
        own = browser["paola.pointex"].client.get("/exports/claims.csv")
        assert own.status_code == 200
        rows = list(csv.DictReader(io.StringIO(own.text)))
        assert rows, "the officer's partner has a claim"
        assert {row["partner"] for row in rows} == {"POINTEX"}
        other = browser["paola.pointex"].client.get("/exports/claims.csv", params={"partner": "NTT"})
        assert other.status_code == 403
        mine = browser["paola.pointex"].client.get("/exports/claims.csv", params={"partner": "pointex"})
        assert mine.status_code == 200
        missing = browser["paola.pointex"].client.get("/exports/nothing.csv")
        assert missing.status_code == 404
        assert "the tables are budget, claims" in missing.text


class TestVerify:
    def test_the_auditor_verifies_the_chain_and_a_head_written_down(self, browser: People, claim: JSON) -> None:
        auditor = browser["arthur.auditor"]
        home = auditor.get("/")
        head = re.search(r'<code class="seal">(\d+:[0-9a-f]{64})</code>', home)
        assert head is not None
        page = auditor.get("/verify")
        assert '<h2 id="verdict">Intact</h2>' in page
        assert f"head {head[1]}" in page
        assert "snapshots: all" in page
        anchored = auditor.get(f"/verify?expect_head={head[1]}")
        assert "is in the history recomputed from the stored events" in anchored
        wrong = auditor.get("/verify?expect_head=" + "1:" + "0" * 64)
        assert '<h2 id="verdict">Differs from the head written down</h2>' in wrong
        assert "DIFFERS FROM THE ANCHOR" in wrong

    def test_a_bad_head_is_said_beside_its_field_and_others_may_not_verify(self, browser: People, claim: JSON) -> None:
        response = browser["arthur.auditor"].client.get("/verify?expect_head=nonsense")
        assert response.status_code == 422
        assert 'id="expect-head-error">The expected head &#39;nonsense&#39; is not a head' in response.text
        refused = browser["paola.pointex"].client.get("/verify")
        assert refused.status_code == 403
        assert "may not verify the stored history: only an auditor may" in refused.text


class TestBudget:
    def test_every_line_with_subtotals_and_the_total(self, browser: People, api: Api, claim: JSON) -> None:
        """The same figures as the JSON API's overview, written with thousands separators."""
        page = browser["claire.coordinator"].get("/budget")
        overview = api.budget()
        total = overview["totals"]
        assert '<th scope="row" colspan="2">Total</th>' in page
        figures = cells(page)
        assert figures[-6:] == [
            f"{float(total[m]['amount']):,.2f}"
            for m in ("allocated", "pending", "committed", "paid", "own_costs", "remaining")
        ]
        assert "500,000.00" in figures
        assert "1,575.35" in figures, "the pending claim's 70% of EUR 2,250.50, on POINTEX's FSTP line"
        assert "POINTEX subtotal" in page

    def test_as_recorded_and_as_effective_come_from_the_url(self, browser: People, alliance: Alliance) -> None:
        coordinator = browser["claire.coordinator"]
        early = coordinator.get("/budget?as_of=2001-01-01")
        assert "Nothing had been recorded by the end of 2001-01-01 (UTC)" in early
        assert 'value="2001-01-01"' in early, "the date picker shows the date asked"
        effective = coordinator.get("/budget?effective=2022-01-01")
        assert "The books as effective on 2022-01-01" in effective
        assert "The grant agreement had not taken effect" in coordinator.get("/budget?effective=2021-01-01")

    def test_a_bad_date_is_shown_beside_its_field(self, browser: People, alliance: Alliance) -> None:
        client = browser["claire.coordinator"].client
        response = client.get("/budget?effective=2023-02-30")
        assert response.status_code == 422
        assert 'id="effective-error">&#39;2023-02-30&#39; is not a day of the calendar' in response.text
        both = client.get("/budget?as_of=2023-01-01&effective=2023-01-01")
        assert both.status_code == 422
        assert "give one of the two dates, not both" in both.text


class TestClaims:
    def test_filters_and_paging(self, browser: People, api: Api, alliance: Alliance) -> None:
        for number in range(PAGE + 2):
            sme = api.new_sme(f"IT0000000{number:04d}", alliance.mission_id)
            api.submit(alliance, expense("100.00", receipt=f"R-{number}"), sme_id=sme)
        officer = browser["paola.pointex"]
        page = officer.get("/claims?state=submitted&mission=jpn-2023")
        assert f"{PAGE + 2} claims; page 1 of 2." in page
        assert page.count('<tr>\n      <td><a href="/claims/') == PAGE
        assert 'href="/claims?state=submitted&amp;mission=jpn-2023&amp;page=2" rel="next"' in page
        second = officer.get("/claims?state=submitted&mission=jpn-2023&page=2")
        assert "page 2 of 2" in second
        assert "0 claims." in officer.get("/claims?state=paid")

    def test_a_page_that_is_no_page_says_what_it_shows(self, browser: People, api: Api, alliance: Alliance) -> None:
        """?page= that is not a number, 0 or negative shows page 1, one past the last shows the
        last, each with a notice above the list saying so (200: the list is there)."""
        for number in range(PAGE + 1):
            sme = api.new_sme(f"IT0000000{number:04d}", alliance.mission_id)
            api.submit(alliance, expense("100.00", receipt=f"R-{number}"), sme_id=sme)
        client = browser["paola.pointex"].client
        cases = {
            "abc": ("Page &#39;abc&#39; is not a page number (pages are numbered 1, 2, 3...); showing page 1.", 1),
            "-1": ("Page &#39;-1&#39; is not a page number (pages are numbered 1, 2, 3...); showing page 1.", 1),
            "1.5": ("Page &#39;1.5&#39; is not a page number", 1),
            "0": ("There is no page 0: pages are numbered from 1; showing page 1.", 1),
            "3": ("There is no page 3: the last is page 2, shown here.", 2),
            "99999999999": ("There is no page 99,999,999,999: the last is page 2, shown here.", 2),
        }
        for asked, (notice, shown) in cases.items():
            response = client.get(f"/claims?mission=jpn-2023&page={asked}")
            assert response.status_code == 200, (asked, response.text)
            assert f'<p class="refusal" role="status" id="page-notice">{notice}' in response.text, asked
            assert f"{PAGE + 1} claims; page {shown} of 2." in response.text, asked
            rows = response.text.count('<tr>\n      <td><a href="/claims/')
            assert rows == (PAGE if shown == 1 else 1), (asked, rows)
        for fine in ("1", "2", ""):
            response = client.get(f"/claims?mission=jpn-2023&page={fine}")
            assert response.status_code == 200, fine
            assert 'id="page-notice"' not in response.text, fine
        fragment = client.get("/claims?page=abc", headers={"HX-Request": "true", "HX-Target": "results"})
        assert fragment.text.startswith('<section id="results"')
        assert 'id="page-notice">Page &#39;abc&#39; is not a page number' in fragment.text

    def test_a_page_past_an_empty_list_says_nothing_is_listed(self, browser: People, alliance: Alliance) -> None:
        response = browser["paola.pointex"].client.get("/claims?state=paid&page=4")
        assert response.status_code == 200
        assert 'id="page-notice">There is no page 4: nothing is listed; showing page 1.' in response.text
        assert "0 claims." in response.text

    def test_an_unknown_filter_names_the_valid_ones(self, browser: People, alliance: Alliance) -> None:
        response = browser["paola.pointex"].client.get("/claims?state=lost&partner=ACME")
        assert response.status_code == 422
        assert "claim state &#39;lost&#39; does not exist; the states are submitted" in response.text
        assert "partner &#39;ACME&#39; is not in the grant; the partners are" in response.text

    def test_htmx_gets_the_results_alone(self, browser: People, claim: JSON) -> None:
        """The filter form's htmx request swaps the results; a plain request gets the page."""
        client = browser["paola.pointex"].client
        fragment = client.get("/claims?state=submitted", headers={"HX-Request": "true", "HX-Target": "results"})
        assert fragment.text.startswith('<section id="results"')
        assert "<html" not in fragment.text
        assert "<html" in client.get("/claims?state=submitted").text

    def test_a_claim_page_shows_each_line_in_its_currency(self, browser: People, claim: JSON) -> None:
        page = browser["claire.coordinator"].get(f"/claims/{claim['id']}")
        assert "JPY 144,830" in page
        assert "converted when decided" in page, "the rate is the decision's (DOMAIN.md)"
        assert "EUR 1,250.50" in page
        assert "EUR 1,575.35" in page, "the requested reimbursement: 70% of EUR 2,250.50"
        assert "Submitted" in page, "its history"
        assert "Only POINTEX's financial officers decide on this claim." in page
        assert "/approve" not in page, "no form for the coordinator"

    def test_a_partly_paid_claim_shows_what_is_paid_outstanding_and_each_payment(
        self, browser: People, api: Api, claim: JSON
    ) -> None:
        """Approved EUR 1,575.35, EUR 500.00 paid: the page says paid, outstanding and lists
        the payment with its bank reference (the same read as GET /claims/{id})."""
        api.approve(claim["id"])
        api.pay(claim["id"], "500.00", reference="SEPA-PART-1")
        page = browser["claire.coordinator"].get(f"/claims/{claim['id']}")
        assert "partly paid" in page, "the state in words"
        assert re.search(r"<dt>Paid</dt><dd class=\"num\">EUR 500\.00</dd>", page)
        assert re.search(r"<dt>Outstanding</dt><dd class=\"num\">EUR 1,075\.35</dd>", page)
        assert "SEPA-PART-1" in page

    def test_an_unknown_claim_is_a_page_saying_so(self, browser: People, alliance: Alliance) -> None:
        client = browser["paola.pointex"].client
        assert client.get("/claims/not-a-claim").status_code == 404
        missing = client.get("/claims/00000000-0000-4000-8000-000000000000")
        assert missing.status_code == 404
        assert "is not in the ledger" in missing.text


class TestHeaders:
    def test_pages_have_a_strict_policy_and_no_inline_script_or_style(self, browser: People, claim: JSON) -> None:
        client = browser["paola.pointex"].client
        for path in ("/", "/budget", "/claims", f"/claims/{claim['id']}", "/sign-in"):
            response = client.get(path)
            policy = response.headers["content-security-policy"]
            assert "script-src 'self';" in policy
            assert "style-src 'self';" in policy
            assert "unsafe-inline" not in policy
            assert response.headers["cache-control"] == "no-store"
            assert response.headers["x-frame-options"] == "DENY"
            assert not re.search(r"<script(?![^>]*\bsrc=)", response.text), f"inline script on {path}"
            assert " style=" not in response.text, f"inline style on {path}"
            assert "<style" not in response.text, f"inline style on {path}"
            assert not re.search(r"https?://", response.text), f"another origin on {path}"

    def test_htmx_and_the_stylesheet_come_from_the_service(self, client: TestClient) -> None:
        htmx = client.get("/assets/vendor/htmx/htmx.min.js")
        assert htmx.status_code == 200
        assert htmx.headers["content-type"].startswith("text/javascript")
        assert b"htmx" in htmx.content
        css = client.get("/static/app.css")
        assert css.status_code == 200
        assert css.headers["content-type"].startswith("text/css")
        assert client.get("/static/../settings.py").status_code == 404

    def test_a_browser_gets_a_page_for_a_missing_path_and_a_script_json(self, client: TestClient) -> None:
        page = client.get("/nowhere", headers={"Accept": "text/html"})
        assert page.status_code == 404
        assert "There is no page at /nowhere" in page.text
        api = client.get("/api/v1/nowhere", headers={"Accept": "text/html"})
        assert api.headers["content-type"] == "application/problem+json"

    def test_an_unexpected_error_on_a_page_is_a_page(
        self, browser: People, alliance: Alliance, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A fault while rendering a page answers an HTML 500 with the id it was logged under
        (a script calling the JSON API still gets problem details)."""

        def broken(*_args: object, **_kwargs: object) -> None:
            raise RuntimeError("the read models went away")

        monkeypatch.setattr("projections.queries.budget_overview", broken)
        response = browser["claire.coordinator"].client.get("/budget")
        assert response.status_code == 500
        assert response.headers["content-type"].startswith("text/html")
        assert re.search(r"logged as [0-9a-f-]{36}", response.text)
        assert "the read models went away" not in response.text
