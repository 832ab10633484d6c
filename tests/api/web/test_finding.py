"""Search (the box in the navigation) and the lists of payments and SMEs: the same query
functions as the JSON API's, paged, amounts with thousands separators, hostile text escaped."""

from __future__ import annotations

import re

import httpx2
import pytest

from tests.api.conftest import JSON, Alliance, Api, expense
from tests.api.web.conftest import Person

People = dict[str, Person]
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def paid(api: Api, claim: JSON) -> JSON:
    """The claim, approved (EUR 1,575.35) and paid EUR 1,200.00 as SEPA-WEB-77."""
    api.approve(claim["id"])
    return api.pay(claim["id"], "1200.00", reference="SEPA-WEB-77")


def get(person: Person, path: str, **params: str) -> httpx2.Response:
    return person.client.get(path, params=params, follow_redirects=False)


class TestSearch:
    def test_every_page_has_the_search_box(self, browser: People) -> None:
        page = browser["arthur.auditor"].get("/")
        assert '<form method="get" action="/search" role="search"' in page
        for href in ('href="/payments"', 'href="/smes"'):
            assert href in page

    def test_a_claim_is_found_and_linked_and_a_payment_links_to_its_claim(
        self, browser: People, api: Api, claim: JSON, paid: JSON
    ) -> None:
        auditor = browser["arthur.auditor"]
        found = get(auditor, "/search", q="R-JPY-1")
        assert found.status_code == 200
        assert "1 record found for “R-JPY-1”" in found.text
        assert f'<a href="/claims/{claim["id"]}">claim of ' in found.text
        assert "receipt ref (line 1): R-JPY-1" in found.text
        payment = get(auditor, "/search", q="SEPA-WEB-77")
        assert "payment SEPA-WEB-77 of EUR 1200.00 on 2023-04-20" in payment.text
        assert f'<a href="/claims/{claim["id"]}">claim {claim["id"][:8]}</a>' in payment.text
        assert api.get("/search", q="SEPA-WEB-77").json()["count"] == 1, "the same answer as the JSON API"

    def test_an_sme_is_shown_and_nothing_found_is_said(self, browser: People, claim: JSON) -> None:
        auditor = browser["arthur.auditor"]
        sme = get(auditor, "/search", q="IT01234567890")
        assert sme.status_code == 200
        assert "<td>sme</td>" in sme.text
        none = get(auditor, "/search", q="zzzqqq")
        assert "0 records found for “zzzqqq”" in none.text
        assert "Nothing matches." in none.text

    def test_hostile_text_is_shown_escaped(self, browser: People, claim: JSON) -> None:
        auditor = browser["arthur.auditor"]
        response = get(auditor, "/search", q=HOSTILE)
        assert response.status_code == 200
        assert HOSTILE not in response.text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in response.text
        too_long = get(auditor, "/search", q="a" * 201)
        assert too_long.status_code == 422
        assert "The search is 201 characters long; give at most 200." in too_long.text

    def test_results_are_paged(self, browser: People, api: Api, alliance: Alliance) -> None:
        for n in range(27):
            api.submit(alliance, expense("10.00", "EUR", receipt=f"PAGED-{n}"))
        auditor = browser["arthur.auditor"]
        first = get(auditor, "/search", q="PAGED")
        assert "27 records found for “PAGED”; page 1 of 2." in first.text
        assert 'href="/search?q=PAGED&amp;page=2" rel="next"' in first.text
        second = get(auditor, "/search", q="PAGED", page="2")
        assert second.text.count("<td>claim</td>") == 2


class TestPayments:
    def test_the_list_shows_payments_with_separators_and_filters(
        self, browser: People, api: Api, claim: JSON, paid: JSON
    ) -> None:
        coordinator = browser["claire.coordinator"]
        page = get(coordinator, "/payments")
        assert page.status_code == 200
        assert "1 payment;" in page.text
        assert '<td class="num">1,200.00</td>' in page.text
        assert f'<a href="/claims/{claim["id"]}">' in page.text
        assert "0 payments." in get(coordinator, "/payments", reversed="yes").text
        assert "0 payments." in get(coordinator, "/payments", partner="NTT").text
        assert "1 payment;" in get(coordinator, "/payments", partner="pointex", **{"from": "2023-04-20"}).text
        assert "0 payments." in get(coordinator, "/payments", **{"to": "2023-04-19"}).text

    def test_a_filter_that_cannot_be_read_is_said_beside_it(self, browser: People, paid: JSON) -> None:
        coordinator = browser["claire.coordinator"]
        unknown = get(coordinator, "/payments", partner="NOPE")
        assert unknown.status_code == 422
        assert 'id="partner-error"' in unknown.text
        assert "1,200.00" not in unknown.text, "no list beside a refused filter"
        bad = get(coordinator, "/payments", **{"from": "20/04/2023"})
        assert bad.status_code == 422
        assert "from: &#39;20/04/2023&#39; is not written as a date" in bad.text
        backwards = get(coordinator, "/payments", **{"from": "2023-05-01", "to": "2023-04-01"})
        assert backwards.status_code == 422
        assert 'id="to-error"' in backwards.text

    def test_the_list_is_paged_newest_first(self, browser: People, api: Api, alliance: Alliance) -> None:
        for n in range(26):
            submitted = api.submit(alliance, expense("10.00", "EUR", receipt=f"P-{n}"))
            api.approve(submitted["id"])
            api.pay(submitted["id"], "7.00", reference=f"REF-{n:02d}")  # 70% of EUR 10.00
        coordinator = browser["claire.coordinator"]
        first = get(coordinator, "/payments")
        assert "26 payments; page 1 of 2." in first.text
        assert 'href="/payments?page=2" rel="next"' in first.text
        assert first.text.count("REF-") == 25
        second = get(coordinator, "/payments", page="2").text
        assert second.count("REF-") == 1
        assert 'href="/payments?page=1" rel="prev"' in second


class TestSmes:
    def test_the_list_and_its_name_filter(self, browser: People, api: Api, claim: JSON, paid: JSON) -> None:
        officer = browser["nico.ntt"]
        page = get(officer, "/smes")
        assert page.status_code == 200
        assert "1 SME;" in page.text
        assert "IT01234567890" in page.text
        assert '<td class="num">1,575.35</td>' in page.text, "approved support, with separators"
        assert "0 SMEs." in get(officer, "/smes", name="zzzqqq").text
        refused = get(officer, "/smes", name="!!!")
        assert refused.status_code == 422
        assert "has no letter or digit" in refused.text
        hostile = get(officer, "/smes", name=HOSTILE)
        assert HOSTILE not in hostile.text


class TestPaging:
    """Every paged list reads ?page= as the claims list does (api/web/paging.py)."""

    @pytest.mark.parametrize(
        "path", ["/payments", "/smes", "/costs", "/rates", "/search?q=R-JPY-1", "/budget/transfers"]
    )
    @pytest.mark.parametrize(
        ("page", "notice"),
        [
            ("abc", "Page &#39;abc&#39; is not a page number (pages are numbered 1, 2, 3...); showing page 1."),
            ("0", "There is no page 0: pages are numbered from 1; showing page 1."),
            ("-1", "Page &#39;-1&#39; is not a page number"),
            ("7", "There is no page 7: "),
        ],
    )
    def test_a_page_that_is_no_page_says_what_it_shows(
        self, browser: People, claim: JSON, path: str, page: str, notice: str
    ) -> None:
        """The list on its one page, with the notice above it; 200, as the list is there."""
        joiner = "&" if "?" in path else "?"
        client = browser["claire.coordinator"].client
        response = client.get(f"{path}{joiner}page={page}")
        assert response.status_code == 200, response.text
        assert f'<p class="refusal" role="status" id="page-notice">{notice}' in response.text
        plain = client.get(path)
        assert plain.status_code == 200, plain.text
        assert 'id="page-notice"' not in plain.text
        summary = re.compile(r"<p>[\d,]+ [a-zA-Z]+[^<]*\.</p>")  # "1 SME; page 1 of 1." or "0 costs."
        assert summary.findall(response.text) == summary.findall(plain.text) != [], "the first page, as without ?page="
