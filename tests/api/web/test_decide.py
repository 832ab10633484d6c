"""Deciding a claim from its page: approve in full or reject, as the partner's officer only,
every form behind its CSRF token, refusals in the ledger's words beside the form."""

from __future__ import annotations

from datetime import date, timedelta

import httpx2

from tests.api.conftest import JSON, Api
from tests.api.web.conftest import Clock, Person

People = dict[str, Person]


def post(person: Person, claim: JSON, action: str, **fields: str) -> httpx2.Response:
    return person.post(f"/claims/{claim['id']}/{action}", {"on": "2023-04-10", **fields})


class TestApprove:
    def test_the_officer_approves_and_sees_it_approved(self, browser: People, api: Api, claim: JSON) -> None:
        """POST-redirect-GET: the claim's page shows it approved, with the rate and EUR of each
        line; the budget page shows the amount committed on POINTEX's FSTP line."""
        paola = browser["paola.pointex"]
        page = paola.get(f"/claims/{claim['id']}")
        assert 'action="/claims/' + claim["id"] + '/approve"' in page
        response = post(paola, claim, "approve", reason="all receipts checked")
        assert response.status_code == 303
        assert response.headers["location"] == f"/claims/{claim['id']}"
        shown = paola.get(response.headers["location"])
        assert '<span class="state state-approved">approved</span>' in shown
        assert "1 EUR = 144.83 JPY" in shown
        assert "EUR 1,575.35" in shown, "approved: 70% of EUR 1,000.00 + EUR 1,250.50"
        assert "all receipts checked" in shown
        assert "/approve" not in shown, "no decision form once decided"
        assert api.claim(claim["id"])["state"] == "approved"
        assert api.line("POINTEX", "FSTP")["committed"]["amount"] == "1575.35"
        budget = browser["claire.coordinator"].get("/budget")
        assert "1,575.35" in budget

    def test_reject_needs_a_reason_said_beside_the_form(self, browser: People, api: Api, claim: JSON) -> None:
        """A refusal of the ledger is shown on the claim's page, in its words, the date typed kept;
        nothing is recorded. With a reason, the claim is rejected."""
        paola = browser["paola.pointex"]
        before = api.event_count()
        response = post(paola, claim, "reject", reason="", on="2023-04-11")
        assert response.status_code == 422
        assert "Not recorded:" in response.text
        assert 'id="reject-on" name="on" value="2023-04-11"' in response.text
        assert api.event_count() == before
        response = post(paola, claim, "reject", reason="receipts unreadable")
        assert response.status_code == 303
        assert '<span class="state state-rejected">rejected</span>' in paola.get(f"/claims/{claim['id']}")

    def test_deciding_a_claim_already_decided_says_why(self, browser: People, api: Api, claim: JSON) -> None:
        """A double submit (or another officer decided first): the refusal is shown in the
        ledger's words, though the page has no form any more; nothing more is recorded."""
        paola = browser["paola.pointex"]
        assert post(paola, claim, "approve", reason="ok").status_code == 303
        before = api.event_count()
        again = post(paola, claim, "reject", reason="changed my mind")
        assert again.status_code == 409
        assert "Not recorded:" in again.text
        assert "it is approved" in again.text
        assert api.event_count() == before

    def test_a_date_in_the_future_is_refused_with_the_ledgers_words(
        self, browser: People, api: Api, claim: JSON
    ) -> None:
        paola = browser["paola.pointex"]
        before = api.event_count()
        tomorrow = (date.today() + timedelta(days=2)).isoformat()
        response = post(paola, claim, "approve", on=tomorrow, reason="my note")
        assert response.status_code == 422
        assert f"Not recorded: The approval date {tomorrow} is in the future (today is" in response.text
        assert 'value="my note"' in response.text, "what was typed is kept"
        assert api.event_count() == before
        bad = post(paola, claim, "approve", on="10/04/2023")
        assert bad.status_code == 422
        assert "The decision date: &#39;10/04/2023&#39; is not written as a date" in bad.text
        assert api.event_count() == before


class TestWhoMayDecide:
    def test_another_partners_officer_sees_no_form_and_is_refused(self, browser: People, api: Api, claim: JSON) -> None:
        """NTT's officer sees no decision form; a POST of theirs is a 403 page with the ledger's
        rule, and nothing is recorded. The coordinator likewise."""
        before = api.event_count()
        for name in ("nico.ntt", "claire.coordinator"):
            person = browser[name]
            page = person.get(f"/claims/{claim['id']}")
            assert "/approve" not in page
            response = person.post(f"/claims/{claim['id']}/approve", {"on": "2023-04-10"}, csrf_from="/")
            assert response.status_code == 403, name
            assert "may not approve this claim" in response.text
            refusal = "it is charged to POINTEX&#39;s budget" if name == "nico.ntt" else "only an officer may"
            assert refusal in response.text, name
        assert api.event_count() == before
        assert api.claim(claim["id"])["state"] == "submitted"


class TestCsrf:
    def test_a_form_without_its_token_is_refused_before_anything(self, browser: People, api: Api, claim: JSON) -> None:
        paola = browser["paola.pointex"]
        before = api.event_count()
        path = f"/claims/{claim['id']}/approve"
        missing = paola.client.post(path, data={"on": "2023-04-10"}, follow_redirects=False)
        assert missing.status_code == 403
        assert "This form&#39;s security token is missing or does not belong to your session" in missing.text
        nico_token = browser["nico.ntt"].get("/").split('name="csrf" value="')[1].split('"')[0]
        stolen = paola.client.post(path, data={"on": "2023-04-10", "csrf": nico_token}, follow_redirects=False)
        assert stolen.status_code == 403, "another session's token is not this session's"
        assert api.event_count() == before
        assert api.claim(claim["id"])["state"] == "submitted"

    def test_a_form_posted_after_the_session_ended_records_nothing(
        self, browser: People, api: Api, claim: JSON, clock: Clock
    ) -> None:
        paola = browser["paola.pointex"]
        token = paola.get(f"/claims/{claim['id']}").split('name="csrf" value="')[1].split('"')[0]
        clock.advance(minutes=31)
        before = api.event_count()
        path = f"/claims/{claim['id']}/approve"
        response = paola.client.post(path, data={"on": "2023-04-10", "csrf": token}, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/sign-in?next=/&expired=1")
        assert api.event_count() == before

    def test_only_forms_are_taken(self, browser: People, claim: JSON) -> None:
        paola = browser["paola.pointex"]
        response = paola.client.post(f"/claims/{claim['id']}/approve", json={"on": "2023-04-10"})
        assert response.status_code == 415
