"""The claim forms: record a claim line by line with its live EUR estimate, approve it line by
line after a preview of the approved amount and its binding cap, withdraw it. Each as the
partner's officer only, behind the CSRF token; refusals beside the line or field they concern,
in the ledger's words, with every line as typed and nothing recorded."""

from __future__ import annotations

import re

import httpx2

from tests.api.conftest import JSON, Alliance, Api, expense
from tests.api.web.conftest import Person, csrf_of

People = dict[str, Person]
CLAIM_ID = re.compile(r'name="claim_id" value="([0-9a-f-]{36})"')


def claim_form(person: Person, alliance: Alliance, *lines: JSON, **fields: str) -> dict[str, str]:
    """The new-claim form as a browser sends it: its hidden claim id and CSRF token, the SME,
    mission and submission date, and the lines (line-N-field)."""
    page = person.get("/claims/new")
    found = CLAIM_ID.search(page)
    assert found is not None
    form = {
        "csrf": csrf_of(page),
        "claim_id": found[1],
        "sme": alliance.sme_id,
        "mission": alliance.mission_id,
        "on": "2023-04-02",
        "lines": str(len(lines)),
        **fields,
    }
    for no, line in enumerate(lines, start=1):
        form.update({f"line-{no}-{name}": value for name, value in line.items()})
    return form


def line(
    amount: str, currency: str, receipt: str, day: str = "2023-03-14", cost_type: str = "TRAVEL"
) -> dict[str, str]:
    return {
        "cost_type": cost_type,
        "expense_date": day,
        "amount": amount,
        "currency": currency,
        "receipt_ref": receipt,
        "description": f"receipt {receipt}",
    }


#: JPY 144,830 at 144.83 is EUR 1,000.00; with EUR 1,250.50: EUR 2,250.50, 70% is EUR 1,575.35.
TWO = (line("144830", "JPY", "JAL-1"), line("1250.50", "EUR", "HOTEL-2", cost_type="ACCOMMODATION"))


def send(person: Person, form: dict[str, str], op: str, path: str = "/claims/new") -> httpx2.Response:
    return person.client.post(path, data={**form, "op": op}, follow_redirects=False)


def claim_count(api: Api) -> int:
    response = api.get("/claims")
    assert response.status_code == 200
    count: int = response.json()["count"]
    return count


class TestRecord:
    def test_the_officer_records_a_two_line_claim_and_sees_it(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        """A JPY and an EUR line: 303 to the new claim's page, its lines as recorded."""
        paola = browser["paola.pointex"]
        assert 'href="/claims/new"' in paola.get("/claims")
        assert 'href="/claims/new"' in paola.get("/")
        response = send(paola, claim_form(paola, alliance, *TWO), "record")
        assert response.status_code == 303, response.text
        page = paola.get(response.headers["location"])
        assert "JPY 144,830" in page
        assert "EUR 1,250.50" in page
        assert "HOTEL-2" in page
        claim = api.claim(response.headers["location"].rsplit("/", 1)[1])
        assert (claim["state"], len(claim["lines"])) == ("submitted", 2)

    def test_the_same_form_sent_twice_records_one_claim(self, browser: People, api: Api, alliance: Alliance) -> None:
        """The form's claim id is fixed when it is drawn: a double submit records one claim."""
        paola = browser["paola.pointex"]
        form = claim_form(paola, alliance, *TWO)
        first, second = send(paola, form, "record"), send(paola, form, "record")
        assert first.status_code == second.status_code == 303
        assert first.headers["location"] == second.headers["location"]
        assert claim_count(api) == 1

    def test_add_and_remove_a_line_keep_what_was_typed(self, browser: People, alliance: Alliance) -> None:
        """Without JavaScript: "Add a line" draws one more (with the last line's currency and
        date), "remove" takes one out; every value typed stays."""
        paola = browser["paola.pointex"]
        form = claim_form(paola, alliance, *TWO)
        added = send(paola, form, "add")
        assert added.status_code == 200
        assert 'name="lines" value="3"' in added.text
        assert 'id="line-3-expense_date" name="line-3-expense_date" value="2023-03-14"' in added.text
        assert 'value="144830"' in added.text
        assert 'value="HOTEL-2"' in added.text
        removed = send(paola, form, "remove-1")
        assert 'name="lines" value="1"' in removed.text
        assert 'id="line-1-amount" name="line-1-amount" inputmode="decimal" class="num" size="12" value="1250.50"' in (
            removed.text
        )
        assert "JAL-1" not in removed.text

    def test_a_refusal_keeps_every_line_and_records_nothing(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        """Line 2 declares line 1's receipt again: the ledger's words beside line 2, both lines
        as typed, no claim recorded."""
        paola = browser["paola.pointex"]
        before = claim_count(api)
        lines = (line("144830", "JPY", "JAL-1"), line("99.90", "EUR", "JAL-1"))
        response = send(paola, claim_form(paola, alliance, *lines), "record")
        assert response.status_code == 422
        assert 'id="line-2-error">Not recorded: Line 2: receipt' in response.text
        assert 'aria-describedby="line-2-error" aria-invalid="true"' in response.text
        for value in ("144830", "99.90", 'value="JAL-1"', 'value="receipt JAL-1"'):
            assert value in response.text
        assert claim_count(api) == before

    def test_an_unreadable_amount_is_named_beside_its_line(self, browser: People, api: Api, alliance: Alliance) -> None:
        """A comma as decimal separator: ledger.money's words beside that line; nothing recorded."""
        paola = browser["paola.pointex"]
        response = send(paola, claim_form(paola, alliance, TWO[0], line("1250,50", "EUR", "H-2")), "record")
        assert response.status_code == 422
        assert "Line 2: the amount: &#39;1250,50&#39; is not a plain decimal number; use a dot" in response.text
        assert 'value="1250,50"' in response.text
        assert claim_count(api) == 0

    def test_an_expense_after_the_submission_is_refused_on_its_line(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        paola = browser["paola.pointex"]
        late = line("10.00", "EUR", "TAXI-9", day="2023-04-05")
        response = send(paola, claim_form(paola, alliance, TWO[0], late), "record")
        assert response.status_code == 422, response.text
        assert 'id="line-2-error">Not recorded: Line 2: expense date 2023-04-05 is after' in response.text
        assert claim_count(api) == 0


class TestEstimate:
    def test_the_fragment_shows_each_rate_and_the_figures_the_approval_then_uses(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        """The estimate (htmx's fragment): the rate, month and source per line, EUR 1,000.00 and
        1,250.50, the total 2,250.50 and 70% of it; the approval later converts the same."""
        paola = browser["paola.pointex"]
        form = claim_form(paola, alliance, *TWO)
        fragment = paola.client.post("/claims/new/estimate", data=form)
        assert fragment.status_code == 200
        assert "<html" not in fragment.text, "the estimate alone"
        assert "1 EUR = 144.83 JPY" in fragment.text
        assert "2023-03, InforEuro" in fragment.text
        for figure in ("1,000.00", "1,250.50", "2,250.50", "1,575.35"):
            assert f'<td class="num">{figure}</td>' in fragment.text
        # the same without JavaScript: the button draws the page with it
        assert "1,575.35" in send(paola, form, "estimate").text
        claim_id = send(paola, form, "record").headers["location"].rsplit("/", 1)[1]
        approved = api.approve(claim_id)
        assert [item["eur"]["amount"] for item in approved["lines"]] == ["1000.00", "1250.50"]
        assert approved["approved"]["amount"] == "1575.35"

    def test_a_missing_rate_says_which_and_how_to_add_it(self, browser: People, alliance: Alliance) -> None:
        """A JPY expense of April 2023 (no April rate): that line names the currency and month,
        links to the rates page to record it, and there is no total."""
        paola = browser["paola.pointex"]
        form = claim_form(paola, alliance, line("5000", "JPY", "SUICA-4", day="2023-04-01"), TWO[1])
        fragment = paola.client.post("/claims/new/estimate", data=form).text
        assert "No JPY rate is recorded for 2023-04." in fragment
        assert 'href="/rates?currency=JPY&amp;month=2023-04"' in fragment
        assert "No total yet: the JPY rate for 2023-04 is not recorded" in fragment
        assert "Eligible costs" not in fragment
        # recorded anyway, the ledger refuses it beside that line
        refused = send(paola, {**form, "on": "2023-04-02"}, "record")
        assert refused.status_code == 409
        assert 'id="line-1-error">Not recorded: No JPY exchange rate is recorded for 2023-04' in refused.text


def approval(person: Person, claim_id: str, op: str, **fields: str) -> httpx2.Response:
    token = csrf_of(person.get(f"/claims/{claim_id}"))
    body = {"csrf": token, "on": "2023-04-10", "op": op, **fields}
    return person.client.post(f"/claims/{claim_id}/approval", data=body, follow_redirects=False)


def big_claim(api: Api, alliance: Alliance) -> JSON:
    """EUR 1,000.00 (JPY) + EUR 2,000.00: 70% is EUR 2,100.00, above the EUR 2,000 cap per SME."""
    return api.submit(alliance, expense("144830", "JPY", receipt="J-1"), expense("2000.00", "EUR", receipt="E-2"))


class TestApproveLineByLine:
    def test_the_preview_shows_the_binding_cap_and_records_nothing(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        paola = browser["paola.pointex"]
        claim = big_claim(api, alliance)
        page = paola.get(f"/claims/{claim['id']}")
        assert 'id="accepted-1" name="accepted-1" class="num" size="12" inputmode="decimal" value="144830"' in page
        before = api.event_count()
        response = approval(paola, claim["id"], "preview", **{"accepted-1": "144830", "accepted-2": "2000.00"})
        assert response.status_code == 200, response.text
        assert "EUR 2,100.00" in response.text, "the reimbursement before the cap"
        assert 'id="preview-approved">EUR 2,000.00<' in response.text
        assert "the cap per SME of mission JPN-2023 (EUR 2,000.00): EUR 2,000.00 left for this SME" in response.text
        assert "Confirm the approval" in response.text
        assert api.event_count() == before
        assert api.claim(claim["id"])["state"] == "submitted"

    def test_confirm_records_the_previewed_amount_with_the_reasons(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        """Half of the JPY line accepted (recoverable VAT): EUR 500.00 + 2,000.00, 70% is
        EUR 1,750.00, below the cap; confirmed, the claim is approved for exactly that."""
        paola = browser["paola.pointex"]
        claim = big_claim(api, alliance)
        fields = {"accepted-1": "72415", "reason-1": "recoverable VAT", "accepted-2": "2000.00"}
        preview = approval(paola, claim["id"], "preview", **fields)
        assert 'id="preview-approved">EUR 1,750.00<' in preview.text
        assert "none (EUR 2,000.00 left of the SME's cap on JPN-2023)" in preview.text
        assert 'name="previewed" value="1750.00"' in preview.text
        confirmed = approval(paola, claim["id"], "confirm", previewed="1750.00", reason="checked", **fields)
        assert confirmed.status_code == 303, confirmed.text
        recorded = api.claim(claim["id"])
        assert (recorded["state"], recorded["approved"]["amount"]) == ("approved", "1750.00")
        assert recorded["lines"][0]["accepted"]["amount"] == "72415"
        assert "recoverable VAT" in paola.get(f"/claims/{claim['id']}")

    def test_confirming_other_figures_than_previewed_shows_the_new_preview(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        paola = browser["paola.pointex"]
        claim = big_claim(api, alliance)
        before = api.event_count()
        fields = {"accepted-1": "72415", "reason-1": "VAT", "accepted-2": "2000.00"}
        response = approval(paola, claim["id"], "confirm", previewed="2000.00", **fields)
        assert response.status_code == 409
        assert "The figures changed since your preview" in response.text
        assert 'id="preview-approved">EUR 1,750.00<' in response.text
        assert api.event_count() == before

    def test_a_reduction_without_reason_is_refused_beside_its_line(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        paola = browser["paola.pointex"]
        claim = big_claim(api, alliance)
        response = approval(paola, claim["id"], "preview", **{"accepted-1": "144830", "accepted-2": "1500.00"})
        assert response.status_code == 422
        assert 'id="approval-line-2-error">Not recorded: Line 2: accepting EUR 1,500.00' in response.text
        assert 'value="1500.00"' in response.text, "what was typed is kept"
        unreadable = approval(paola, claim["id"], "preview", **{"accepted-1": "1e3", "accepted-2": "2000.00"})
        assert 'id="approval-line-1-error">Not recorded: Line 1: the accepted amount: &#39;1e3&#39; uses an' in (
            unreadable.text
        )

    def test_the_full_approval_still_works(self, browser: People, api: Api, claim: JSON) -> None:
        paola = browser["paola.pointex"]
        response = paola.post(f"/claims/{claim['id']}/approve", {"on": "2023-04-10"})
        assert response.status_code == 303
        assert api.claim(claim["id"])["approved"]["amount"] == "1575.35"


class TestWithdraw:
    def test_the_officer_withdraws_with_a_reason(self, browser: People, api: Api, claim: JSON) -> None:
        paola = browser["paola.pointex"]
        page = paola.get(f"/claims/{claim['id']}")
        assert f'action="/claims/{claim["id"]}/withdraw"' in page
        refused = paola.post(f"/claims/{claim['id']}/withdraw", {"on": "2023-04-11", "reason": ""})
        assert refused.status_code == 422
        assert 'id="withdraw-on" name="on" value="2023-04-11"' in refused.text
        response = paola.post(f"/claims/{claim['id']}/withdraw", {"on": "2023-04-11", "reason": "the SME asked"})
        assert response.status_code == 303
        shown = paola.get(f"/claims/{claim['id']}")
        assert '<span class="state state-withdrawn">withdrawn</span>' in shown
        assert '<th scope="row">withdrawn</th>' in shown
        assert "the SME asked" in shown
        assert api.claim(claim["id"])["state"] == "withdrawn"


class TestTimeline:
    def test_the_history_reads_oldest_first_with_who_role_and_both_dates(
        self, browser: People, api: Api, claim: JSON
    ) -> None:
        api.approve(claim["id"], reason="receipts checked")
        page = browser["arthur.auditor"].get(f"/claims/{claim['id']}")
        timeline = page[page.index('<table class="timeline">') :]
        assert timeline.index('<th scope="row">submitted</th>') < timeline.index('<th scope="row">approved</th>')
        assert (
            '<td><time datetime="2023-04-10">2023-04-10</time></td><td>paola.pointex</td><td>officer</td>' in timeline
        )
        assert "receipts checked" in timeline


class TestWhoMay:
    def test_another_partners_officer_is_refused_and_nothing_recorded(
        self, browser: People, api: Api, alliance: Alliance, claim: JSON
    ) -> None:
        """NTT's officer: no link, the form is a 403 page, a posted claim or approval a 403
        in the ledger's words; nothing is recorded. An auditor sees no form either."""
        nico = browser["nico.ntt"]
        assert 'href="/claims/new"' not in nico.get("/claims")
        page = nico.client.get("/claims/new")
        assert page.status_code == 403
        assert "only POINTEX&#39;s financial officers may act on it" in page.text
        assert browser["arthur.auditor"].client.get("/claims/new").status_code == 403
        before = api.event_count()
        form = {**claim_form(browser["paola.pointex"], alliance, *TWO), "csrf": csrf_of(nico.get("/claims"))}
        assert send(nico, form, "record").status_code == 403
        assert "Approve line by line" not in nico.get(f"/claims/{claim['id']}")
        refused = approval(nico, claim["id"], "preview", **{"accepted-1": "144830", "accepted-2": "1250.50"})
        assert refused.status_code == 403
        assert "may not approve this claim" in refused.text
        withdraw = nico.post(f"/claims/{claim['id']}/withdraw", {"on": "2023-04-11", "reason": "x"})
        assert withdraw.status_code == 403
        assert api.event_count() == before

    def test_a_form_without_its_csrf_token_is_refused(self, browser: People, api: Api, alliance: Alliance) -> None:
        paola = browser["paola.pointex"]
        form = claim_form(paola, alliance, *TWO)
        del form["csrf"]
        before = api.event_count()
        response = send(paola, form, "record")
        assert response.status_code == 403
        assert "security token is missing" in response.text
        assert paola.client.post("/claims/new/estimate", data=form).status_code == 403
        assert api.event_count() == before
