"""The audit trail, one record's history and the burn charts as a person reads them: filters in
the URL, a filter that cannot be read said beside its field (422, never a 500), paging by
position, each version of a record with its state and what changed, and the charts' figures
after an approval and a payment, for every role."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from api.web import trail
from tests.api.conftest import JSON, Alliance, Api
from tests.api.web.conftest import Person

People = dict[str, Person]


def rows(page: str) -> list[str]:
    """The text of each row of the page's first table body."""
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.S)
    assert body is not None, page
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in re.findall(r"<tr.*?</tr>", body[1], re.S)
    ]


def event(row: str) -> str:
    """The event type of a trail row (after who and their role)."""
    found = re.search(r"\) (\w+) ", row)
    assert found is not None, row
    return found[1]


def positions(page: str) -> list[int]:
    return [int(row.split()[0].replace(",", "")) for row in rows(page) if row[0].isdigit()]


def refused(client: TestClient, path: str, field: str, words: str) -> str:
    """The page answers 422 and says ``words`` beside the field ``field``."""
    response = client.get(path)
    assert response.status_code == 422, response.text
    said = re.search(rf'<p class="refusal" id="{field}-error">(.*?)</p>', response.text, re.S)
    assert said is not None, response.text
    assert words in said[1].replace("&#39;", "'"), said[1]
    assert f'aria-describedby="{field}-error"' in response.text
    return response.text


class TestTrail:
    def test_newest_first_each_row_says_who_what_when_and_links_the_record(self, browser: People, claim: JSON) -> None:
        page = browser["arthur.auditor"].get("/audit")
        found = positions(page)
        assert found == sorted(found, reverse=True)
        assert len(found) > 10
        submitted = next(row for row in rows(page) if event(row) == "Submitted")
        assert "paola.pointex (officer, POINTEX)" in submitted
        assert "2023-04-02" in submitted
        assert f'href="/audit/{claim["id"]}">Claim {claim["id"][:8]}</a>' in page
        assert f'href="/audit/{claim["id"]}?version=1"' in page

    def test_each_filter_narrows_the_trail(self, browser: People, api: Api, claim: JSON) -> None:
        api.approve(claim["id"])
        auditor = browser["arthur.auditor"]
        by_type = rows(auditor.get("/audit?type=claim"))  # in any case
        assert len(by_type) == 2
        assert all(" Claim " in row for row in by_type)
        by_event = rows(auditor.get("/audit?event=approved"))
        assert len(by_event) == 1
        assert "Approved" in by_event[0]
        by_record = rows(auditor.get(f"/audit?record={claim['id']}&order=log"))
        assert [event(row) for row in by_record] == ["Submitted", "Approved"]
        by_user = rows(auditor.get("/audit?user=claire.coordinator"))
        assert by_user
        assert all("claire.coordinator (coordinator, TECHTERA)" in row for row in by_user)
        dated = rows(auditor.get("/audit?from=2023-04-05&to=2023-04-30&type=Claim"))
        assert len(dated) == 1
        assert "2023-04-10" in dated[0], "the approval's business date, not the submission's"
        assert api.events(event_type="Approved")
        assert len(api.events(event_type="Approved")) == len(by_event)

    @pytest.mark.parametrize(
        ("query", "field", "words"),
        [
            ("type=Clam", "type", "no record type is called 'Clam'; the types are BudgetLine, Claim"),
            ("event=Aproved", "event", "no event of any record is called 'Aproved'"),
            ("type=Sme&event=Approved", "event", "no event of a Sme is called 'Approved'"),
            ("record=not-an-id", "record", "'not-an-id' is not a record's id"),
            ("from=2023-13-01", "from", "'2023-13-01'"),
            ("from=2023-05-01&to=2023-04-01", "to", "the first is after the last"),
            ("order=sideways", "order", "'sideways' is not an order"),
        ],
    )
    def test_a_filter_that_cannot_be_read_is_said_beside_it(
        self, browser: People, alliance: Alliance, query: str, field: str, words: str
    ) -> None:
        page = refused(browser["arthur.auditor"].client, f"/audit?{query}", field, words)
        assert "<tbody>" not in page, "nothing is listed"

    def test_a_page_position_that_cannot_be_read(self, browser: People, alliance: Alliance) -> None:
        response = browser["arthur.auditor"].client.get("/audit?after=-1")
        assert response.status_code == 422
        assert "&#39;-1&#39; is not a position in the log" in response.text

    def test_paging_by_position_both_ways(
        self, browser: People, api: Api, alliance: Alliance, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Pages of three in log order: the next page starts after the last shown; its
        previous page is the first again; newest first the same backwards."""
        monkeypatch.setattr(trail, "PAGE", 3)
        auditor = browser["arthur.auditor"]
        first = auditor.get("/audit?order=log")
        assert positions(first) == [row["position"] for row in api.events()[:3]]
        following = re.search(r'href="(/audit\?[^"]+)" rel="next"', first)
        assert following is not None
        assert "after=" in following[1]
        second = auditor.get(following[1].replace("&amp;", "&"))
        assert positions(second)[0] > positions(first)[-1]
        assert len(positions(second)) == 3
        back = re.search(r'href="(/audit\?[^"]*)" rel="prev"', second)
        assert back is not None
        assert positions(auditor.get(back[1].replace("&amp;", "&"))) == positions(first)
        newest = auditor.get("/audit")
        older = re.search(r'href="(/audit\?[^"]+)" rel="next"', newest)
        assert older is not None
        assert "before=" in older[1]
        assert positions(auditor.get(older[1].replace("&amp;", "&")))[0] < positions(newest)[-1]

    def test_every_role_reads_the_trail(self, browser: People, claim: JSON) -> None:
        for person in browser.values():
            assert "Submitted" in person.get("/audit")


class TestRecordHistory:
    def test_each_version_with_its_payload_readably(self, browser: People, api: Api, claim: JSON) -> None:
        api.approve(claim["id"])
        api.pay(claim["id"], "500.00")
        page = browser["arthur.auditor"].get(f"/audit/{claim['id']}")
        for heading in ("Version 1: Submitted", "Version 2: Approved", "Version 3: ReimbursementPaid"):
            assert heading in page
        assert "JPY 144,830" in page, "money with its currency and separators"
        assert "lines › 1 › receipt ref" in page
        assert "R-JPY-1" in page
        assert "originator topic" not in page
        assert "State at version 3" in page

    def test_the_state_at_a_version_beside_the_one_before(self, browser: People, api: Api, claim: JSON) -> None:
        api.approve(claim["id"])
        api.pay(claim["id"], "500.00")
        page = browser["arthur.auditor"].get(f"/audit/{claim['id']}?version=2")
        assert "State at version 2" in page
        assert "beside version 1" in page
        state = re.search(r'<tr class="changed">\s*<th scope="row">state</th>(.*?)</tr>', page, re.S)
        assert state is not None, page
        assert re.findall(r"<td>(.*?)</td>", state[1]) == ["approved", "submitted", "<strong>changed</strong>"]
        assert '<tr>\n      <th scope="row">sme id</th>' in page, "unchanged: not marked"
        first = browser["arthur.auditor"].get(f"/audit/{claim['id']}?version=1")
        assert "nothing came before it" in first
        assert 'class="changed"' not in first
        third = browser["arthur.auditor"].get(f"/audit/{claim['id']}?version=3")
        assert re.search(
            r'<tr class="changed">\s*<th scope="row">paid</th>\s*<td>EUR 500.00</td>\s*<td>EUR 0.00</td>', third
        )

    def test_a_version_that_is_not_there(self, browser: People, claim: JSON) -> None:
        client = browser["arthur.auditor"].client
        refused(client, f"/audit/{claim['id']}?version=9", "version", "there is no version 9")
        refused(client, f"/audit/{claim['id']}?version=0", "version", "'0' is not a version")
        assert client.get("/audit/00000000-0000-0000-0000-000000000001").status_code == 404
        missing = client.get("/audit/nothing-here")
        assert missing.status_code == 404
        assert "is not a record&#39;s id" in missing.text

    def test_the_claim_page_and_the_auditors_home_lead_there(self, browser: People, claim: JSON) -> None:
        assert f'href="/audit/{claim["id"]}"' in browser["paola.pointex"].get(f"/claims/{claim['id']}")
        home = browser["arthur.auditor"].get("/")
        assert 'href="/audit"' in home
        assert f'href="/audit/{claim["id"]}"' in home


def eur(value: str) -> str:
    return f"EUR {Decimal(value):,.2f}"


class TestCharts:
    def test_a_lines_figures_after_an_approval_and_a_payment(self, browser: People, api: Api, claim: JSON) -> None:
        approved = api.approve(claim["id"])["approved"]["amount"]
        api.pay(claim["id"], "500.00")
        line = api.line("POINTEX", "FSTP")
        page = browser["claire.coordinator"].get("/charts?partner=pointex&line=fstp")
        described = re.search(r'<desc id="main-desc">(.*?)</desc>', page)
        assert described is not None
        committed = Decimal(approved) - Decimal("500.00")
        assert committed == Decimal(line["committed"]["amount"])
        assert f"paid {eur('500.00')}" in described[1]
        assert f"committed {eur(str(committed))}" in described[1]
        assert f"remaining {eur(line['remaining']['amount'])}" in described[1]
        last = rows(page)[-1]  # the main chart's table comes first
        assert last.startswith("2023-04-20"), "the table's last row is the payment's value date"
        assert f"{Decimal('500.00'):,.2f}" in last
        assert f"{committed:,.2f}" in last
        assert "2023-04-10" in " ".join(rows(page)), "the approval's business date"
        assert 'href="/audit/' in page, "the line's history"
        assert "<svg" in page
        assert "style=" not in page, "no inline style under the strict CSP"
        assert "today " in page
        assert "start 2021-09-01" in page
        assert "end 2023-08-31" in page

    def test_as_effective_before_the_payment(self, browser: People, api: Api, claim: JSON) -> None:
        approved = api.approve(claim["id"])["approved"]["amount"]
        api.pay(claim["id"], "500.00")
        page = browser["claire.coordinator"].get("/charts?partner=POINTEX&line=FSTP&effective=2023-04-15")
        described = re.search(r'<desc id="main-desc">(.*?)</desc>', page)
        assert described is not None
        assert f"paid {eur('0.00')}" in described[1]
        assert f"committed {eur(approved)}" in described[1]
        assert "as effective on 2023-04-15" in page

    def test_every_role_sees_every_partner_an_officers_own_first(self, browser: People, claim: JSON) -> None:
        for name, person in browser.items():
            page = person.get("/charts")
            titles = re.findall(r'<h3><a href="/charts\?partner=(\w+)', page)
            assert sorted(titles) == ["NIDV", "NTT", "POINTEX", "SIIT", "SYSTEMATIC", "TECHTERA"], name
            if name == "nico.ntt":
                assert titles[0] == "NTT"
            assert "The whole grant: every line" in page

    def test_a_partners_lines_each_in_a_small_chart(self, browser: People, alliance: Alliance) -> None:
        page = browser["paola.pointex"].get("/charts?partner=NTT")
        assert 'href="/charts?partner=NTT&amp;line=FSTP"' in page
        assert page.count('class="chart chart-small"') == len(re.findall(r"<h3><a", page)) >= 5

    @pytest.mark.parametrize(
        ("query", "field", "words"),
        [
            ("partner=ACME", "partner", "partner 'ACME' is not in the grant"),
            ("line=FOOD", "line", "cost category 'FOOD' does not exist"),
            ("effective=2023-02-30", "effective", "'2023-02-30'"),
            ("as_of=2023-01-01&effective=2023-01-01", "effective", "give one of the two dates"),
        ],
    )
    def test_a_choice_that_cannot_be_read(
        self, browser: People, alliance: Alliance, query: str, field: str, words: str
    ) -> None:
        page = refused(browser["claire.coordinator"].client, f"/charts?{query}", field, words)
        assert "<svg" not in page

    def test_before_the_grant(self, browser: People) -> None:
        assert "The grant agreement is not in the ledger" in browser["arthur.auditor"].get("/charts")


def test_the_budget_and_the_smes_lead_to_the_charts_and_the_histories(browser: People, alliance: Alliance) -> None:
    """The budget links its charts (with its date kept); each SME its history."""
    budget = browser["claire.coordinator"].get("/budget?effective=2023-01-01")
    assert 'href="/charts?effective=2023-01-01"' in budget
    assert f'href="/audit/{alliance.sme_id}"' in browser["claire.coordinator"].get("/smes")
    assert "Version 1: Registered" in browser["arthur.auditor"].get(f"/audit/{alliance.sme_id}")
