"""Corrections on a claim's page (issue 12): record a payment (partial: partly paid), reverse
one, settle short, revoke the approval; as the partner's officer only, behind the CSRF token,
refusals in the ledger's words beside the form or its field, nothing recorded on a refusal."""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx2
import pytest

from tests.api.conftest import JSON, Alliance, Api, expense
from tests.api.web.conftest import Person

People = dict[str, Person]
APPROVED = "1575.35"  # 70% of EUR 1,000.00 + EUR 1,250.50


@pytest.fixture
def approved(api: Api, claim: JSON) -> JSON:
    api.approve(claim["id"])
    return claim


def page_of(person: Person, claim: JSON) -> str:
    return person.get(f"/claims/{claim['id']}")


def pay(person: Person, claim: JSON, amount: str, **fields: str) -> httpx2.Response:
    body = {"amount": amount, "bank_reference": "SEPA-WEB-1", "on": "2023-04-20", **fields}
    return person.post(f"/claims/{claim['id']}/payments", body)


def reverse(person: Person, claim: JSON, payment_id: str, **fields: str) -> httpx2.Response:
    path = f"/claims/{claim['id']}/payments/{payment_id}/reversal"
    fields = {"reason": "bank return", "on": "2023-04-25", **fields}
    return person.post(path, fields, csrf_from=f"/claims/{claim['id']}")


def figure(page: str, name: str) -> str:
    found = re.search(rf"<dt>{name}</dt><dd class=\"num\">EUR ([0-9,.]+)</dd>", page)
    assert found is not None, f"the page shows {name}"
    return found[1]


class TestRecordPayment:
    def test_a_partial_payment_leaves_the_claim_partly_paid(self, browser: People, api: Api, approved: JSON) -> None:
        paola = browser["paola.pointex"]
        page = page_of(paola, approved)
        assert f'action="/claims/{approved["id"]}/payments"' in page
        assert f"/claims/{approved['id']}/settlement" not in page, "nothing to settle before a payment"
        response = pay(paola, approved, "1000.00")
        assert response.status_code == 303
        assert response.headers["location"] == f"/claims/{approved['id']}"
        shown = paola.get(response.headers["location"])
        assert '<span class="state state-partly_paid">partly paid</span>' in shown
        assert figure(shown, "Paid") == "1,000.00"
        assert figure(shown, "Outstanding") == "575.35"
        assert "SEPA-WEB-1" in shown
        assert f"/claims/{approved['id']}/settlement" in shown, "a partly paid claim may be settled short"
        assert "/revocation" not in shown, "no revocation once paid"
        assert api.claim(approved["id"])["state"] == "partly_paid"

    def test_the_same_form_sent_twice_records_one_payment(self, browser: People, api: Api, approved: JSON) -> None:
        paola = browser["paola.pointex"]
        token = page_of(paola, approved)
        payment_id = token.split('name="payment_id" value="')[1].split('"')[0]
        csrf = token.split('name="csrf" value="')[1].split('"')[0]
        fields = {"csrf": csrf, "payment_id": payment_id, "amount": "100.00", "bank_reference": "R", "on": "2023-04-20"}
        path = f"/claims/{approved['id']}/payments"
        assert paola.client.post(path, data=fields, follow_redirects=False).status_code == 303
        before = api.event_count()
        assert paola.client.post(path, data=fields, follow_redirects=False).status_code == 303
        assert api.event_count() == before
        assert api.claim(approved["id"])["paid"]["amount"] == "100.00"

    @pytest.mark.parametrize(
        ("amount", "words"),
        [
            ("1,000.00", "The amount: &#39;1,000.00&#39;"),
            ("1e3", "The amount: &#39;1e3&#39;"),
            ("10.001", "10.001"),
            ("", "The amount: &#39;&#39;"),
        ],
    )
    def test_a_bad_amount_is_said_beside_its_field(
        self, browser: People, api: Api, approved: JSON, amount: str, words: str
    ) -> None:
        paola = browser["paola.pointex"]
        before = api.event_count()
        response = pay(paola, approved, amount, bank_reference="SEPA-KEPT")
        assert response.status_code == 422
        assert 'id="pay-amount-error">Not recorded: ' in response.text
        assert words in response.text
        assert 'aria-invalid="true" aria-describedby="pay-amount-error"' in response.text
        assert 'value="SEPA-KEPT"' in response.text, "what was typed is kept"
        assert api.event_count() == before

    def test_more_than_outstanding_is_refused_in_the_ledgers_words(
        self, browser: People, api: Api, approved: JSON
    ) -> None:
        paola = browser["paola.pointex"]
        before = api.event_count()
        response = pay(paola, approved, "2000.00")
        assert response.status_code == 409
        assert 'id="pay-error">Not recorded: Payment of EUR 2,000.00 exceeds what is outstanding' in response.text
        assert "pay at most EUR 1,575.35." in response.text
        assert 'value="2000.00"' in response.text
        assert api.event_count() == before
        late = pay(paola, approved, "10.00", on=(date.today() + timedelta(days=2)).isoformat())
        assert late.status_code == 422
        assert "is in the future" in late.text
        bad_date = pay(paola, approved, "10.00", on="20/04/2023")
        assert bad_date.status_code == 422
        assert 'id="pay-on-error">Not recorded: The value date: &#39;20/04/2023&#39; is not written as a date' in (
            bad_date.text
        )
        assert api.event_count() == before


class TestReverseSettleRevoke:
    def test_a_payment_is_reversed_and_the_claim_approved_again(
        self, browser: People, api: Api, approved: JSON
    ) -> None:
        paola = browser["paola.pointex"]
        payment = api.pay(approved["id"], "1575.35")
        page = page_of(paola, approved)
        assert f"/payments/{payment['id']}/reversal" in page
        before = api.event_count()
        refused = reverse(paola, approved, payment["id"], reason="")
        assert refused.status_code == 422
        assert f'id="reverse-{payment["id"]}-error">Not recorded: ' in refused.text
        assert api.event_count() == before
        response = reverse(paola, approved, payment["id"], reason="account closed")
        assert response.status_code == 303
        shown = page_of(paola, approved)
        assert "yes: account closed" in shown
        assert f"/payments/{payment['id']}/reversal" not in shown, "no form for a reversed payment"
        assert '<span class="state state-approved">approved</span>' in shown
        after = api.event_count()
        again = reverse(paola, approved, payment["id"], reason="twice")
        assert again.status_code == 409
        assert 'id="correction-error">Not recorded: ' in again.text
        assert "EUR 1,575.35 was already reversed." in again.text
        assert api.event_count() == after

    def test_a_payment_is_reversed_only_under_its_own_claims_address(
        self, browser: People, api: Api, alliance: Alliance, approved: JSON
    ) -> None:
        payment = api.pay(approved["id"], "100.00")
        other = api.submit(alliance, expense("10.00", "EUR", receipt="R-OTHER"))
        before = api.event_count()
        response = reverse(browser["paola.pointex"], other, payment["id"])
        assert response.status_code == 404
        assert f"Payment {payment['id']} is not a payment of claim {other['id']}" in response.text
        assert api.event_count() == before

    def test_a_partly_paid_claim_is_settled_short(self, browser: People, api: Api, approved: JSON) -> None:
        paola = browser["paola.pointex"]
        api.pay(approved["id"], "1500.00")
        before = api.event_count()
        early = paola.post(f"/claims/{approved['id']}/settlement", {"reason": "agreed", "on": "2023-04-01"})
        assert early.status_code == 422
        assert 'id="settle-error">Not recorded: Settlement date 2023-04-01 is before the claim' in early.text
        assert 'value="agreed"' in early.text
        assert api.event_count() == before
        fields = {"reason": "taxi not eligible", "on": "2023-05-02"}
        response = paola.post(f"/claims/{approved['id']}/settlement", fields)
        assert response.status_code == 303
        shown = page_of(paola, approved)
        assert '<span class="state state-paid">paid</span>' in shown
        assert figure(shown, "Settled short") == "75.35"
        assert api.claim(approved["id"])["state"] == "paid"

    def test_the_approval_is_revoked_or_revoked_and_rejected(self, browser: People, api: Api, approved: JSON) -> None:
        paola = browser["paola.pointex"]
        before = api.event_count()
        path = f"/claims/{approved['id']}/revocation"
        refused = paola.post(path, {"reason": "", "on": "2023-04-12", "reject": "yes"})
        assert refused.status_code == 422
        assert "Not recorded: Reason: revoking an approval needs a reason." in refused.text
        assert re.search(r'name="reject" value="yes" checked', refused.text), "the box ticked is kept"
        assert api.event_count() == before
        response = paola.post(
            f"/claims/{approved['id']}/revocation", {"reason": "wrong SME", "on": "2023-04-12", "reject": "yes"}
        )
        assert response.status_code == 303
        assert '<span class="state state-rejected">rejected</span>' in page_of(paola, approved)
        assert api.line("POINTEX", "FSTP")["committed"]["amount"] == "0.00"

    def test_revoked_without_reject_is_submitted_again(self, browser: People, api: Api, approved: JSON) -> None:
        paola = browser["paola.pointex"]
        response = paola.post(f"/claims/{approved['id']}/revocation", {"reason": "recheck", "on": "2023-04-12"})
        assert response.status_code == 303
        assert '<span class="state state-submitted">submitted</span>' in page_of(paola, approved)


class TestWhoMayCorrect:
    def test_another_partners_officer_sees_no_form_and_is_refused(
        self, browser: People, api: Api, approved: JSON
    ) -> None:
        payment = api.pay(approved["id"], "1000.00")
        before = api.event_count()
        for name in ("nico.ntt", "claire.coordinator", "arthur.auditor"):
            person = browser[name]
            page = page_of(person, approved)
            cid = approved["id"]
            for form in ("/payments", f"/payments/{payment['id']}/reversal", "/settlement", "/revocation"):
                assert f'action="/claims/{cid}{form}"' not in page, (name, form)
            for path, fields in (
                (f"/claims/{cid}/payments", {"amount": "10.00", "bank_reference": "X", "on": "2023-04-20"}),
                (f"/claims/{cid}/payments/{payment['id']}/reversal", {"reason": "x", "on": "2023-04-25"}),
                (f"/claims/{cid}/settlement", {"reason": "x", "on": "2023-05-02"}),
                (f"/claims/{cid}/revocation", {"reason": "x", "on": "2023-05-02"}),
            ):
                response = person.post(path, fields, csrf_from="/")
                assert response.status_code == 403, (name, path, response.text)
                assert "may not" in response.text
        assert api.event_count() == before

    def test_a_correction_without_its_token_is_refused(self, browser: People, api: Api, approved: JSON) -> None:
        paola = browser["paola.pointex"]
        before = api.event_count()
        for path in ("payments", "settlement", "revocation"):
            response = paola.client.post(
                f"/claims/{approved['id']}/{path}",
                data={"amount": "10.00", "bank_reference": "X", "reason": "x", "on": "2023-04-20"},
                follow_redirects=False,
            )
            assert response.status_code == 403
            assert "security token is missing" in response.text
        assert api.event_count() == before
