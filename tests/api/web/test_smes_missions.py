"""Missions, SMEs and budget transfers in the web app: open a mission (the coordinator),
register an SME and select it for a mission (the mission's partner's officers), each SME's
support against its caps, the SMEs close to a cap on the coordinator's home, and budget
transfers with the consortium's decision reference; refusals beside their fields in the
ledger's words with what was typed kept and nothing recorded; others refused; CSRF first."""

from __future__ import annotations

import re
from decimal import Decimal

import httpx2

from tests.api.conftest import JSON, Alliance, Api, expense
from tests.api.web.conftest import Person

People = dict[str, Person]
SME_NAME = "Tessuti Avanzati IT01234567890 S.r.l."


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found is not None, f"the page has the hidden field {name}"
    return found[1]


def canada(**changes: str) -> dict[str, str]:
    """The Canada mission as the coordinator types it into the form."""
    fields = {
        "code": "CAN-2023",
        "city": "Montreal and Ottawa",
        "country": "ca",
        "start": "2023-06-05",
        "end": "2023-06-08",
        "responsible_partner": "NIDV",
        "reimbursement_rate": "0.75",
        "cap_per_sme": "1500.00",
        "cost_type_TRAVEL": "on",
        "cost_type_STAND": "on",
        "on": "2023-02-13",
    }
    return fields | changes


def register(person: Person, identifier: str = "FR41852369741", **changes: str) -> httpx2.Response:
    page = person.get("/smes/new")
    fields = {
        "sme_id": hidden(page, "sme_id"),
        "legal_name": "Crème Légère Textiles SAS",
        "identifier": identifier,
        "country": "FR",
        "on": "2022-12-05",
    }
    return person.post("/smes/new", fields | changes, csrf_from="/smes/new")


def transfer(person: Person, **changes: str) -> httpx2.Response:
    page = person.get("/budget/transfers")
    fields = {
        "transfer_id": hidden(page, "transfer_id"),
        "from_partner": "NIDV",
        "from_category": "PERSONNEL",
        "to_partner": "NIDV",
        "to_category": "FSTP",
        "amount": "5000.00",
        "decision_ref": "SC-2023-04",
        "reason": "more SMEs for Canada",
        "on": "2023-02-01",
    }
    return person.post("/budget/transfers", fields | changes, csrf_from="/budget/transfers")


def allocated(api: Api, partner: str, category: str) -> Decimal:
    return Decimal(api.line(partner, category)["allocated"]["amount"])


class TestMissions:
    def test_the_list_shows_each_mission_with_its_terms(self, browser: People, alliance: Alliance) -> None:
        """Code, place, dates, rate, cap per SME, partner, SMEs selected and a link to its
        claims; the coordinator is offered the form, an officer is not."""
        page = browser["claire.coordinator"].get("/missions")
        row = page.split('">JPN-2023</a>')[1].split("</tr>")[0]
        assert "Tokyo" in row
        assert "2023-03-15" in row
        assert "2023-03-18" in row
        assert '<td class="num">70%</td>' in row
        assert '<td class="num">2,000.00</td>' in row
        assert "<td>POINTEX</td>" in row
        assert '<td class="num">1</td>' in row, "one SME selected"
        assert 'href="/claims?mission=JPN-2023"' in row
        assert 'href="/missions/new"' in page
        assert 'href="/missions/new"' not in browser["paola.pointex"].get("/missions")

    def test_the_coordinator_opens_a_mission_once(self, browser: People, api: Api, alliance: Alliance) -> None:
        """POST-redirect-GET to the mission's page; the same form sent again records nothing."""
        claire = browser["claire.coordinator"]
        response = claire.post("/missions/new", canada(), csrf_from="/missions/new")
        assert response.status_code == 303, response.text
        mission_id = response.headers["location"].removeprefix("/missions/")
        page = claire.get(response.headers["location"])
        assert "Mission CAN-2023: Montreal and Ottawa (CA)" in page
        assert "EUR 1,500.00" in page
        assert "75%" in page
        assert "NIDV" in page
        assert "No SME is selected for CAN-2023 yet." in page
        assert api.get(f"/missions/{mission_id}").json()["code"] == "CAN-2023"
        before = api.event_count()
        again = claire.post("/missions/new", canada(), csrf_from="/missions/new")
        assert (again.status_code, again.headers["location"]) == (303, f"/missions/{mission_id}")
        assert api.event_count() == before

    def test_a_refused_mission_is_said_beside_its_field_and_keeps_the_input(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        claire = browser["claire.coordinator"]
        before = api.event_count()
        backwards = claire.post("/missions/new", canada(end="2023-06-01"), csrf_from="/missions/new")
        assert backwards.status_code == 422
        assert '<p class="refusal" role="alert" id="end-error">Not recorded: Mission CAN-2023 ends (2023-06-01)' in (
            backwards.text
        )
        assert 'id="end" name="end" value="2023-06-01" required aria-invalid="true"' in backwards.text
        assert 'value="Montreal and Ottawa"' in backwards.text
        assert 'name="cost_type_STAND" value="on" checked' in backwards.text
        assert 'name="cost_type_ACCOMMODATION" value="on">' in backwards.text, "unchecked stays unchecked"
        rate = claire.post("/missions/new", canada(reimbursement_rate="70%"), csrf_from="/missions/new")
        assert rate.status_code == 422
        assert 'id="reimbursement_rate-error">Not recorded: The reimbursement rate: &#39;70%&#39;' in rate.text
        no_types = {k: v for k, v in canada().items() if not k.startswith("cost_type_")}
        none = claire.post("/missions/new", no_types, csrf_from="/missions/new")
        assert none.status_code == 422
        assert 'id="cost_types-error">Not recorded: Mission CAN-2023 must list at least one eligible cost type' in (
            none.text
        )
        assert api.event_count() == before

    def test_officers_and_auditors_see_no_form_and_are_refused(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        before = api.event_count()
        for name in ("paola.pointex", "arthur.auditor"):
            person = browser[name]
            assert 'action="/missions/new"' not in person.get("/missions/new")
            response = person.post("/missions/new", canada(), csrf_from="/missions")
            assert response.status_code == 403, name
            assert "may not open a mission: only a coordinator may" in response.text, response.text
        assert api.event_count() == before

    def test_the_mission_page_shows_each_smes_support_against_the_cap(
        self, browser: People, api: Api, alliance: Alliance, claim: JSON
    ) -> None:
        """After an approval of EUR 1,575.35: approved, what remains of the EUR 2,000.00 cap, and
        of the overall cap; the SME links to its page."""
        api.approve(claim["id"])
        page = browser["arthur.auditor"].get("/missions/jpn-2023")
        row = page.split(f'<a href="/smes/{alliance.sme_id}">{SME_NAME}</a>')[1].split("</tr>")[0]
        figures = re.findall(r'<td class="num">([^<]*)</td>', row)
        assert figures == ["1,575.35", "1,575.35", "0.00", "424.65", "1,575.35", "58,424.65"]
        assert 'href="/claims?mission=JPN-2023"' in page

    def test_a_mission_that_does_not_exist_is_a_404_page(self, browser: People, alliance: Alliance) -> None:
        response = browser["arthur.auditor"].client.get("/missions/MARS-2030")
        assert response.status_code == 404
        assert "Mission &#39;MARS-2030&#39; is not in the ledger; name a mission by its id or its code" in response.text


class TestSmes:
    def test_an_officer_registers_an_sme_once(self, browser: People, api: Api, alliance: Alliance) -> None:
        """To the SME's page with its identity; the list links it; the same form sent twice
        registers one SME."""
        paola = browser["paola.pointex"]
        assert 'href="/smes/new"' in paola.get("/smes")
        page = paola.get("/smes/new")
        sme_id = hidden(page, "sme_id")
        fields = {"sme_id": sme_id, "legal_name": "Crème Légère Textiles SAS", "identifier": "FR 418-523-697-41"}
        response = paola.post("/smes/new", fields | {"country": "fr", "on": "2022-12-05"}, csrf_from="/smes/new")
        assert (response.status_code, response.headers["location"]) == (303, f"/smes/{sme_id}")
        shown = paola.get(f"/smes/{sme_id}")
        assert "<h1>Crème Légère Textiles SAS</h1>" in shown
        assert "<dd>FR 418-523-697-41</dd>" in shown
        assert "<dd>FR</dd>" in shown
        assert "Not selected for any mission yet." in shown
        assert f'<a href="/smes/{sme_id}">Crème Légère Textiles SAS</a>' in paola.get("/smes")
        before = api.event_count()
        again = paola.post("/smes/new", fields | {"country": "fr", "on": "2022-12-05"}, csrf_from="/smes/new")
        assert (again.status_code, again.headers["location"]) == (303, f"/smes/{sme_id}")
        assert api.event_count() == before
        assert api.get("/smes").json()["count"] == 2

    def test_an_identifier_registered_before_is_refused_beside_it(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        before = api.event_count()
        response = register(browser["claire.coordinator"], "it 0123-4567-890", legal_name="Doppio S.r.l.")
        assert response.status_code == 409
        assert (
            '<p class="refusal" role="alert" id="identifier-error">Not recorded: An SME with identifier '
            "IT 0123-4567-890 is already registered: " + SME_NAME
        ) in response.text
        assert 'value="Doppio S.r.l."' in response.text
        assert 'value="it 0123-4567-890"' in response.text
        bad = register(browser["claire.coordinator"], country="XX")
        assert bad.status_code == 422
        assert 'id="country-error">Not recorded: Country: XX is not a country' in bad.text
        assert api.event_count() == before

    def test_the_missions_officer_selects_it_others_see_no_form(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        """POINTEX's officer is offered JPN-2023 (POINTEX's mission) and selects the SME; NTT's
        officer, the coordinator and the auditor have no form, and a POST of theirs is refused."""
        sme_id = register(browser["claire.coordinator"]).headers["location"].removeprefix("/smes/")
        for name in ("nico.ntt", "claire.coordinator", "arthur.auditor"):
            assert "/selections" not in browser[name].get(f"/smes/{sme_id}"), name
        before = api.event_count()
        for name, rule in (
            ("nico.ntt", "only POINTEX&#39;s financial officers may act on it"),
            ("claire.coordinator", "only an officer may"),
            ("arthur.auditor", "only an officer may"),
        ):
            refused = browser[name].post(f"/smes/{sme_id}/selections", {"mission": "JPN-2023", "on": "2022-12-06"})
            assert refused.status_code == 403, name
            assert rule in refused.text, refused.text
        assert api.event_count() == before
        paola = browser["paola.pointex"]
        page = paola.get(f"/smes/{sme_id}")
        assert f'action="/smes/{sme_id}/selections"' in page
        assert "<option>JPN-2023</option>" in page
        response = paola.post(f"/smes/{sme_id}/selections", {"mission": "JPN-2023", "on": "2022-12-06"})
        assert (response.status_code, response.headers["location"]) == (303, f"/smes/{sme_id}")
        shown = paola.get(f"/smes/{sme_id}")
        row = shown.split('">JPN-2023</a></th>')[1].split("</tr>")[0]
        assert re.findall(r'<td class="num">([^<]*)</td>', row) == ["2,000.00", "0.00", "0.00", "0.00", "2,000.00"]
        assert "/selections" not in shown, "no mission left to select it for"
        assert api.get(f"/smes/{sme_id}").json()["missions"][0]["mission_code"] == "JPN-2023"

    def test_a_refused_selection_is_said_beside_its_field(self, browser: People, api: Api, alliance: Alliance) -> None:
        sme_id = register(browser["paola.pointex"]).headers["location"].removeprefix("/smes/")
        before = api.event_count()
        paola = browser["paola.pointex"]
        response = paola.post(f"/smes/{sme_id}/selections", {"mission": "JPN-2023", "on": "2099-01-01"})
        assert response.status_code == 422
        assert 'id="on-error">Not recorded: The selection date 2099-01-01 is in the future' in response.text
        assert 'value="2099-01-01"' in response.text
        assert api.event_count() == before

    def test_the_smes_page_shows_its_support_per_mission_and_overall_and_its_claims(
        self, browser: People, api: Api, alliance: Alliance, claim: JSON
    ) -> None:
        api.approve(claim["id"])
        page = browser["arthur.auditor"].get(f"/smes/{alliance.sme_id}")
        row = page.split('">JPN-2023</a></th>')[1].split("</tr>")[0]
        assert re.findall(r'<td class="num">([^<]*)</td>', row) == [
            "2,000.00",
            "1,575.35",
            "1,575.35",
            "0.00",
            "424.65",
        ]
        overall = page.split("Overall (cap per third party)</th>")[1].split("</tr>")[0]
        assert re.findall(r'<td class="num">([^<]*)</td>', overall) == ["60,000.00", "1,575.35", "58,424.65"]
        assert 'Remaining overall</dt><dd class="num">EUR 58,424.65' in page
        assert f'href="/claims/{claim["id"]}"' in page
        assert "1 claim." in page

    def test_an_sme_that_does_not_exist_is_a_404_page(self, browser: People, alliance: Alliance) -> None:
        person = browser["arthur.auditor"]
        assert person.client.get("/smes/not-an-id").status_code == 404
        missing = person.client.get("/smes/00000000-0000-4000-8000-000000000000")
        assert missing.status_code == 404
        assert "is not in the ledger" in missing.text


class TestNearCap:
    def test_the_coordinators_home_lists_smes_close_to_a_cap(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        """EUR 2,300.00 at 70% is 1,610.00 approved: 80.5% of the EUR 2,000.00 cap, 390.00 left."""
        claire = browser["claire.coordinator"]
        assert "No SME has reached 80% of a cap." in claire.get("/")
        claim = api.submit(alliance, expense("2300.00"))
        assert "No SME has reached 80% of a cap." in claire.get("/"), "a pending claim approves nothing"
        api.approve(claim["id"])
        page = claire.get("/").split("<h2>SMEs close to a cap</h2>")[1].split("<h2>")[0]
        row = page.split(f'<a href="/smes/{alliance.sme_id}">{SME_NAME}</a>')[1].split("</tr>")[0]
        assert "<td>mission JPN-2023</td>" in row
        assert re.findall(r'<td class="num">([^<]*)</td>', row) == ["1,610.00", "2,000.00", "390.00"]


class TestTransfers:
    def test_a_transfer_is_recorded_listed_and_moves_the_budget_once(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        claire = browser["claire.coordinator"]
        fstp, personnel = allocated(api, "NIDV", "FSTP"), allocated(api, "NIDV", "PERSONNEL")
        page = claire.get("/budget/transfers")
        assert "No transfers." in page
        token = hidden(page, "transfer_id")
        response = transfer(claire, transfer_id=token)
        assert (response.status_code, response.headers["location"]) == (303, "/budget/transfers")
        listed = claire.get("/budget/transfers")
        row = listed.split("<td>SC-2023-04</td>")[0].rsplit("<tr>", 1)[1]
        assert "NIDV PERSONNEL" in row
        assert "NIDV FSTP" in row
        assert '<td class="num">5,000.00</td>' in row
        assert "more SMEs for Canada" in listed
        assert "1 transfer;" in listed
        assert allocated(api, "NIDV", "FSTP") == fstp + Decimal("5000.00")
        assert allocated(api, "NIDV", "PERSONNEL") == personnel - Decimal("5000.00")
        before = api.event_count()
        again = transfer(claire, transfer_id=token)
        assert again.status_code == 303
        assert api.event_count() == before, "the same form sent twice moves the money once"
        assert allocated(api, "NIDV", "FSTP") == fstp + Decimal("5000.00")

    def test_a_refused_transfer_keeps_the_input_and_moves_nothing(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        """More than the source line has: the ledger's words with the numbers, beside the amount."""
        claire = browser["claire.coordinator"]
        fstp = allocated(api, "NIDV", "FSTP")
        before = api.event_count()
        response = transfer(claire, amount="900000.00", decision_ref="SC-2023-05")
        assert response.status_code == 409
        assert (
            '<p class="refusal" role="alert" id="amount-error">Not recorded: Cannot move EUR 900,000.00 out of '
            "NIDV PERSONNEL: it has EUR "
        ) in response.text
        assert "so at most EUR " in response.text
        assert 'id="amount" name="amount" value="900000.00" maxlength="20" required aria-invalid="true"' in (
            response.text
        )
        assert 'value="SC-2023-05"' in response.text
        assert "more SMEs for Canada" in response.text
        assert "<option selected>PERSONNEL</option>" in response.text
        missing = transfer(claire, decision_ref=" ")
        assert missing.status_code == 422
        assert 'id="decision_ref-error">Not recorded: Decision_ref: a transfer needs the reference' in missing.text
        cents = transfer(claire, amount="10.005")
        assert cents.status_code == 422
        assert 'id="amount-error"' in cents.text
        same = transfer(claire, to_category="PERSONNEL")
        assert same.status_code == 422
        assert 'id="to_category-error">Not recorded: A transfer needs two' in same.text
        assert api.event_count() == before
        assert allocated(api, "NIDV", "FSTP") == fstp
        assert "No transfers." in claire.get("/budget/transfers")

    def test_officers_and_auditors_see_the_list_but_no_form_and_are_refused(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        before = api.event_count()
        for name in ("paola.pointex", "arthur.auditor"):
            person = browser[name]
            page = person.get("/budget/transfers")
            assert "Transfers recorded" in page
            assert 'action="/budget/transfers"' not in page
            fields = {"from_partner": "NIDV", "from_category": "PERSONNEL", "to_partner": "NIDV"}
            fields |= {"to_category": "FSTP", "amount": "10.00", "decision_ref": "X", "on": "2023-02-01"}
            response = person.post("/budget/transfers", fields, csrf_from="/budget/transfers")
            assert response.status_code == 403, name
            assert "may not transfer budget: only a coordinator may" in response.text
        assert api.event_count() == before


class TestCsrf:
    def test_each_form_without_its_token_records_nothing(self, browser: People, api: Api, alliance: Alliance) -> None:
        claire, paola = browser["claire.coordinator"], browser["paola.pointex"]
        before = api.event_count()
        for person, path, fields in (
            (claire, "/missions/new", canada()),
            (paola, "/smes/new", {"legal_name": "X S.r.l.", "identifier": "IT999", "country": "IT"}),
            (paola, f"/smes/{alliance.sme_id}/selections", {"mission": "JPN-2023", "on": "2022-12-06"}),
            (claire, "/budget/transfers", {"from_partner": "NIDV", "amount": "10.00", "decision_ref": "X"}),
        ):
            response = person.client.post(path, data=fields, follow_redirects=False)
            assert response.status_code == 403, path
            assert "security token is missing" in response.text
        assert api.event_count() == before
