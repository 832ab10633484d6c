"""Findings of the review of the merged web app (issue 13), each pinned by a route test."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import JSON, Alliance, Api
from tests.api.web.conftest import Person
from tests.api.web.test_smes_missions import canada

People = dict[str, Person]


class TestPartialApprovalByWhoMayNot:
    def test_bad_amounts_from_someone_who_may_not_approve_are_the_refusal_page(
        self, browser: People, api: Api, claim: JSON
    ) -> None:
        """A line-by-line approval with an unreadable amount, posted by another partner's
        officer, the coordinator or an auditor (who see no such form), was a 422 claim page
        saying nothing (the line errors sit in the form they are not shown). It is the 403
        refusal page with the ledger's rule, and nothing is recorded."""
        before = api.event_count()
        for name in ("nico.ntt", "claire.coordinator", "arthur.auditor"):
            fields = {"accepted-1": "not a number", "accepted-2": "1250.50", "on": "2023-04-10", "op": "confirm"}
            response = browser[name].post(f"/claims/{claim['id']}/approval", fields, csrf_from="/")
            assert response.status_code == 403, name
            assert "may not approve this claim" in response.text, name
        assert api.event_count() == before
        assert api.claim(claim["id"])["state"] == "submitted"


class TestHtmxWithoutSession:
    def test_the_estimate_fragment_sends_the_whole_page_to_sign_in(self, client: TestClient) -> None:
        """The claim form's EUR estimate (hx-post) with no session was a 303 to the sign-in
        page, which htmx followed and swapped into the estimate box. It is now HX-Redirect to
        the sign-in page, back to the form; nothing swapped. Without htmx: the 303 as before."""
        hx = {"HX-Request": "true", "HX-Current-URL": "http://testserver/claims/new?x=1"}
        response = client.post("/claims/new/estimate", data={"csrf": "x"}, headers=hx, follow_redirects=False)
        assert response.status_code == 204
        assert response.headers["HX-Redirect"] == "/sign-in?next=/claims/new%3Fx%3D1"
        assert response.text == ""
        listing = client.get("/claims?state=paid", headers={"HX-Request": "true"}, follow_redirects=False)
        assert listing.headers["HX-Redirect"] == "/sign-in?next=/claims%3Fstate%3Dpaid"
        plain = client.post("/claims/new/estimate", data={"csrf": "x"}, follow_redirects=False)
        assert plain.status_code == 303
        assert plain.headers["location"] == "/sign-in?next=/"


class TestClaimPageLinks:
    def test_the_claim_page_links_to_its_sme_and_its_mission(self, browser: People, claim: JSON) -> None:
        """The claim page named its SME and mission as plain text: a new user could not go on
        to the SME's support against its caps or the mission's page. Both are links now, and
        they open."""
        person = browser["paola.pointex"]
        page = person.get(f"/claims/{claim['id']}")
        sme, mission = f"/smes/{claim['sme_id']}", f"/missions/{claim['mission_id']}"
        assert f'href="{sme}"' in page
        assert f'href="{mission}"' in page
        assert "Support" in person.get(sme)
        assert "Tokyo" in person.get(mission)


class TestMissionCodes:
    def test_a_code_that_is_no_code_is_refused_on_the_form_and_missions_are_linked_by_id(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        """The mission form took any text as a code (the JSON API's schema had the rule, the
        ledger did not), and the pages linked a mission by its code: ``../x&y`` was recorded and
        its link led elsewhere. The ledger refuses it (beside the code field, nothing recorded);
        a code typed in small letters is kept in capitals as the API keeps it; missions are
        linked by their id and their code is URL-encoded in filter links."""
        claire = browser["claire.coordinator"]
        before = api.event_count()
        refused = claire.post("/missions/new", canada(code="../x&y"), csrf_from="/missions/new")
        assert refused.status_code == 422
        assert "is not a code; use letters A-Z, digits" in refused.text
        assert 'id="code-error"' in refused.text
        assert api.event_count() == before
        opened = claire.post("/missions/new", canada(code="osa-2023", city="Osaka"), csrf_from="/missions/new")
        assert opened.status_code == 303, opened.text
        odd = opened.headers["location"].removeprefix("/missions/")
        assert api.get(f"/missions/{odd}").json()["code"] == "OSA-2023"
        listing = claire.get("/missions")
        assert f'href="/missions/{odd}"' in listing
        assert 'href="/claims?mission=OSA-2023"' in listing
        assert "Osaka" in claire.get(f"/missions/{odd}")
        assert f'href="/missions/{alliance.mission_id}"' in claire.get("/smes")


class TestPermissionBeforeTyping:
    @pytest.mark.parametrize(
        ("action", "fields"),
        [
            ("reject", {"on": "not a date", "reason": "x"}),
            ("withdraw", {"on": "31/12/2023", "reason": "x"}),
            ("approve", {"on": "", "reason": ""}),
            ("payments", {"amount": "1e3", "bank_reference": "", "on": "x", "payment_id": "not-a-uuid"}),
            ("settlement", {"on": "x", "reason": ""}),
            ("revocation", {"on": "x", "reason": ""}),
        ],
    )
    def test_someone_who_may_not_act_is_told_so_not_shown_their_typing_errors(
        self, browser: People, api: Api, claim: JSON, action: str, fields: dict[str, str]
    ) -> None:
        """Reject, withdraw, approve and the corrections read the typed date or amount first, so
        another partner's officer (who sees no such form) got a 422 about a date instead of the
        ledger's refusal. The ledger's rule comes first now: the 403 page, nothing recorded."""
        before = api.event_count()
        for name in ("nico.ntt", "arthur.auditor"):
            response = browser[name].post(f"/claims/{claim['id']}/{action}", fields, csrf_from="/")
            assert response.status_code == 403, (name, response.text)
            assert "may not" in response.text
        assert api.event_count() == before
