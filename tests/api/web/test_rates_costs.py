"""Exchange rates and own costs in the web app: the list of rates, "Record a rate" from the
link a claim form gives for a missing rate, "Correct a rate" with the claims assessed with the
old one, a CSV import previewed row by row and recorded all at once only when confirmed and
re-read; the partners' own costs recorded and corrected by their officers only. Refusals in
the ledger's words beside the field, what was typed kept, nothing recorded; CSRF checked first."""

from __future__ import annotations

import html
import re
from datetime import date

import httpx2
from fastapi import FastAPI

from api.context import LedgerContext
from api.routes._write import then_read
from api.web.upload import MAX_FILE
from ledger.actors import Actor, Role
from ledger.grant import Category
from ledger.money import Money
from projections.statements import partner_statement
from tests.api.conftest import JSON, Alliance, Api
from tests.api.web.conftest import Person, csrf_of
from tests.api.web.test_reporting import COORDINATOR, PERIODS

People = dict[str, Person]


def rate_count(api: Api) -> int:
    count: int = api.get("/exchange-rates", limit=1).json()["count"]
    return count


def refusal(page: str, element: str) -> str:
    found = re.search(rf'<p class="refusal" role="alert" id="{element}">(.*?)</p>', page, re.S)
    assert found is not None, f"the page shows the refusal {element}: {page}"
    return found[1]


def upload(person: Person, content: bytes, *, csrf: bool = True) -> httpx2.Response:
    token = {"csrf": csrf_of(person.get("/rates/import"))} if csrf else {}
    return person.client.post(
        "/rates/import", data=token, files={"file": ("rates.csv", content, "text/csv")}, follow_redirects=False
    )


def confirm(person: Person, text: str) -> httpx2.Response:
    token = csrf_of(person.get("/rates/import"))
    return person.client.post(
        "/rates/import/confirm", data={"csrf": token}, files={"csv": (None, text)}, follow_redirects=False
    )


def hidden_csv(page: str) -> str:
    found = re.search(r'<input type="hidden" name="csv" value="([^"]*)">', page)
    assert found is not None, "the preview offers the confirmation with the file's text"
    return found[1].replace("&#39;", "'").replace("&quot;", '"').replace("&amp;", "&")


class TestRecordRate:
    def test_the_missing_rate_link_opens_the_form_filled_in_and_records_the_rate(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        """/rates?currency=USD&month=2023-05 says there is no such rate and fills in the form;
        the rate typed is recorded and its page shows it."""
        paola = browser["paola.pointex"]
        page = paola.get("/rates?currency=usd&month=2023-05")
        assert "No USD rate is recorded for 2023-05: record it with the form above." in page
        form = page[page.index('id="record"') :]
        assert re.search(r'id="record-currency"[^>]*>.*?<option selected>USD</option>', form, re.S)
        assert 'id="record-month" name="month" value="2023-05"' in form
        assert re.search(r'id="record-rate"[^>]*autofocus', form), "the rate field is the one to fill"
        before = rate_count(api)
        fields = {"currency": "USD", "month": "2023-05", "rate": "1.0876", "source": "InforEuro"}
        response = paola.post("/rates", fields, csrf_from="/rates")
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/rates/USD/2023-05?recorded=1"
        shown = paola.get(response.headers["location"])
        assert '<dd class="num">1.0876</dd>' in shown
        assert rate_count(api) == before + 1
        listed = paola.get("/rates?currency=USD")
        assert '<a href="/rates/USD/2023-05">2023-05</a></td><td>USD</td><td class="num">1.0876</td>' in listed

    def test_a_refused_rate_is_said_beside_its_field_with_what_was_typed_kept(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        paola = browser["paola.pointex"]
        before = api.event_count()
        fields = {"currency": "USD", "month": "2023-05", "rate": "1,0876", "source": "ECB"}
        response = paola.post("/rates", fields, csrf_from="/rates")
        assert response.status_code == 422
        assert "The rate: &#39;1,0876&#39; is not a plain decimal number" in refusal(response.text, "record-rate-error")
        assert 'value="1,0876"' in response.text
        assert 'value="ECB"' in response.text
        assert 'id="record-month" name="month" value="2023-05"' in response.text
        clash = {**fields, "currency": "JPY", "month": "2023-03", "rate": "150"}
        conflict = paola.post("/rates", clash, csrf_from="/rates")
        assert conflict.status_code == 409
        assert "already recorded as 144.83" in refusal(conflict.text, "record-error")
        assert api.event_count() == before

    def test_an_auditor_sees_no_form_and_is_refused(self, browser: People, api: Api, alliance: Alliance) -> None:
        arthur = browser["arthur.auditor"]
        page = arthur.get("/rates")
        assert 'action="/rates"' in page, "the filters are there"
        assert 'method="post" action="/rates"' not in page
        assert "/rates/import" not in page
        before = api.event_count()
        fields = {"currency": "USD", "month": "2023-05", "rate": "1.0876", "source": "InforEuro"}
        response = arthur.post("/rates", fields, csrf_from="/rates")
        assert response.status_code == 403
        assert "record exchange rates" in response.text
        assert api.event_count() == before

    def test_a_form_without_its_csrf_token_records_nothing(self, browser: People, api: Api, alliance: Alliance) -> None:
        before = api.event_count()
        response = browser["paola.pointex"].client.post(
            "/rates", data={"currency": "USD", "month": "2023-05", "rate": "1.0876"}, follow_redirects=False
        )
        assert response.status_code == 403
        assert "security token is missing" in response.text
        assert api.event_count() == before


class TestCorrectRate:
    def test_a_correction_lists_the_claims_assessed_with_the_old_rate(
        self, browser: People, api: Api, claim: JSON
    ) -> None:
        """The JPY line of the claim was approved at 144.83; corrected to 150, the rate's page
        lists that line with what it gives at the rate now."""
        api.approve(claim["id"])
        paola = browser["paola.pointex"]
        page = paola.get("/rates/JPY/2023-03")
        assert "None: every claim line in JPY for 2023-03 was converted at the rate recorded now." in page
        path = "/rates/JPY/2023-03/correction"
        fields = {"rate": "150.00", "source": "InforEuro", "reason": "the March rate was mistyped"}
        response = paola.post(path, fields, csrf_from="/rates/JPY/2023-03")
        assert response.status_code == 303, response.text
        shown = paola.get(response.headers["location"])
        assert "Corrected." in shown
        assert '<dd class="num">150.00</dd>' in shown
        assert f'<a href="/claims/{claim["id"]}">{claim["id"][:8]}</a>' in shown
        used = '<td class="num">144.83 (InforEuro)</td><td class="num">1,000.00</td><td class="num">965.53</td>'
        assert used in shown, "the rate used, the EUR it gave and the EUR it gives now"
        assert '<td class="num">JPY 144,830</td>' in shown

    def test_a_correction_without_a_reason_is_refused_keeping_the_rate(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        paola = browser["paola.pointex"]
        before = api.event_count()
        fields = {"rate": "150.00", "source": "InforEuro", "reason": ""}
        response = paola.post("/rates/JPY/2023-03/correction", fields, csrf_from="/rates/JPY/2023-03")
        assert response.status_code == 422
        assert "Reason: a rate correction needs a reason" in refusal(response.text, "correct-error")
        assert 'id="correct-rate" name="rate" inputmode="decimal" value="150.00"' in response.text
        arthur = browser["arthur.auditor"]
        assert "Correct the rate" not in arthur.get("/rates/JPY/2023-03")
        refused = arthur.post("/rates/JPY/2023-03/correction", {**fields, "reason": "x"}, csrf_from="/rates")
        assert refused.status_code == 403
        assert api.event_count() == before


BAD = (
    "currency,month,rate,source\n"
    "USD,2023-07,1.0913,InforEuro\n"  # 2: good
    "XYZ,2023-07,1.5,\n"  # 3: unsupported currency
    "CAD,2023-13,1.46,\n"  # 4: bad month
    "CAD,2023-07,0.00001,\n"  # 5: rate out of range
    "JPY,2023-03,150,\n"  # 6: recorded already as 144.83
    "USD,2023-07,1.0913,InforEuro\n"  # 7: USD 2023-07 twice
)
GOOD = "currency,month,rate\nUSD,2023-07,1.0913\ncad,2023-07,1.4611\nJPY,2023-07,155.12\nJPY,2023-03,144.83\n"


class TestImportRates:
    def test_the_preview_lists_every_bad_row_with_its_problem_and_records_nothing(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        coordinator = browser["claire.coordinator"]
        page = coordinator.get("/rates/import")
        assert "<code>currency</code>" in page
        assert "USD,2023-07,1.0913,InforEuro" in page, "the page shows an example"
        before, events = rate_count(api), api.event_count()
        response = upload(coordinator, BAD.encode())
        assert response.status_code == 422
        shown = response.text
        assert "6 rows: 1 to record, 0 recorded already, 5 with a problem." in shown
        assert "Records USD 2023-07 at 1.0913 (InforEuro)" in shown
        for line, problem in (
            (3, "currency &#39;XYZ&#39; is not supported"),
            (4, "month &#39;2023-13&#39; must be written YYYY-MM"),
            (5, "the rate 0.00001 is implausible"),
            (6, "the JPY rate for 2023-03 is already recorded as 144.83 (InforEuro), the import says 150"),
            (7, "the USD rate for 2023-07 is given twice"),
        ):
            assert re.search(rf'<span class="refusal">Line {line}: [^<]*{re.escape(problem)}', shown), line
        assert "/rates/import/confirm" not in shown, "no confirmation while a row is bad"
        assert "Nothing can be recorded while a row has a problem" in shown
        assert (rate_count(api), api.event_count()) == (before, events)

    def test_a_good_file_confirmed_records_every_rate_at_once(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        """A rate recorded already as in the file is left as it is; the others are recorded."""
        coordinator = browser["claire.coordinator"]
        before = rate_count(api)
        preview = upload(coordinator, GOOD.encode())
        assert preview.status_code == 200, preview.text
        assert "4 rows: 3 to record, 1 recorded already, 0 with a problem." in preview.text
        assert "Records CAD 2023-07 at 1.4611 (InforEuro)" in preview.text
        assert rate_count(api) == before, "the preview records nothing"
        response = confirm(coordinator, hidden_csv(preview.text))
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/rates?imported=3"
        assert "Imported: 3 rates recorded from the file." in coordinator.get(response.headers["location"])
        assert rate_count(api) == before + 3
        again = confirm(coordinator, GOOD)
        assert again.headers["location"] == "/rates?imported=0", "the same file again records nothing new"

    def test_a_tampered_confirmation_is_read_again_and_records_nothing(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        coordinator = browser["claire.coordinator"]
        preview = upload(coordinator, GOOD.encode())
        tampered = hidden_csv(preview.text) + "CHF,2023-07,9999999\n"
        before = rate_count(api)
        response = confirm(coordinator, tampered)
        assert response.status_code == 422
        assert re.search(r'<span class="refusal">Line 6: the rate 9999999 is implausible', response.text), response.text
        assert rate_count(api) == before

    def test_a_file_that_is_too_large_or_not_a_rates_file_is_refused(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        coordinator = browser["claire.coordinator"]
        before = rate_count(api)
        large = upload(coordinator, b"currency,month,rate\n" + b"USD,2023-07,1.0913\n" * (MAX_FILE // 19 + 1))
        assert large.status_code == 413
        assert "larger than 1,024 KiB" in large.text
        header = upload(coordinator, b"currency,rate\nUSD,1.1\n")
        assert header.status_code == 422
        assert "Line 1: the header has no month column" in refusal(header.text, "import-error")
        bytes_ = upload(coordinator, b"currency,month,rate\nUSD,2023-07,\xff\n")
        assert "Line 2: byte 0xff is not UTF-8" in refusal(bytes_.text, "import-error")
        assert rate_count(api) == before

    def test_an_auditor_and_a_form_without_its_token_are_refused(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        arthur = browser["arthur.auditor"]
        assert 'type="file"' not in arthur.get("/rates/import")
        before = api.event_count()
        refused = upload(arthur, GOOD.encode())
        assert refused.status_code == 403
        assert "record exchange rates" in refused.text
        no_token = upload(browser["claire.coordinator"], GOOD.encode(), csrf=False)
        assert no_token.status_code == 403
        assert "security token is missing" in no_token.text
        assert api.event_count() == before


def cost_fields(page: str, **changes: str) -> dict[str, str]:
    found = re.search(r'name="cost_id" value="([0-9a-f-]{36})"', page)
    assert found is not None, "the cost form has its id"
    fields = {
        "cost_id": found[1],
        "partner": "POINTEX",
        "category": "TRAVEL",
        "amount": "144830",
        "currency": "JPY",
        "document_ref": "INV-TOKYO-7",
        "description": "flights to Tokyo",
        "on": "2023-03-20",
    }
    return fields | changes


class TestCosts:
    def test_an_officer_records_a_cost_and_corrects_it(self, browser: People, api: Api, alliance: Alliance) -> None:
        """JPY 144,830 at 144.83 is EUR 1,000.00; corrected to JPY 72,415 it is EUR 500.00. The
        form sent twice records one cost."""
        paola = browser["paola.pointex"]
        page = paola.get("/costs")
        assert "Record a cost of POINTEX" in page
        fields = cost_fields(page)
        response = paola.post("/costs", fields, csrf_from="/costs")
        assert response.status_code == 303, response.text
        location = response.headers["location"]
        assert location == f"/costs/{fields['cost_id']}?recorded=1"
        again = paola.post("/costs", fields, csrf_from="/costs")
        assert again.headers["location"] == location
        shown = paola.get(location)
        assert '<dd class="num">JPY 144,830</dd>' in shown
        assert '<dd class="num">EUR 1,000.00</dd>' in shown
        listed = paola.get("/costs?partner=pointex&category=travel&from=2023-03-01&to=2023-03-31")
        assert "1 cost;" in listed
        assert '<td class="num">JPY 144,830</td><td class="num">1,000.00</td>' in listed
        correction = {"amount": "72415", "reason": "half was a private trip", "on": "2023-04-01"}
        corrected = paola.post(f"/costs/{fields['cost_id']}/correction", correction, csrf_from="/costs")
        assert corrected.status_code == 303, corrected.text
        after = paola.get(corrected.headers["location"])
        assert '<dd class="num">JPY 72,415</dd>' in after
        assert '<dd class="num">EUR 500.00</dd>' in after
        assert "2 (corrected)" in after

    def test_refusals_keep_what_was_typed(self, browser: People, api: Api, alliance: Alliance) -> None:
        """More decimals than cents beside the amount; a missing rate names it with the link
        that opens its form; nothing recorded."""
        paola = browser["paola.pointex"]
        before = api.event_count()
        cents = paola.post("/costs", cost_fields(paola.get("/costs"), amount="12.345", currency="EUR"), csrf_from="/")
        assert cents.status_code == 422
        assert "12.345" in refusal(cents.text, "record-amount-error")
        assert 'value="INV-TOKYO-7"' in cents.text
        assert 'value="flights to Tokyo"' in cents.text
        missing = paola.post("/costs", cost_fields(paola.get("/costs"), amount="120.00", currency="USD"), csrf_from="/")
        assert missing.status_code == 409
        assert "No USD exchange rate is recorded for 2023-03" in refusal(missing.text, "record-error")
        assert '<a href="/rates?currency=USD&amp;month=2023-03">Record the USD rate for 2023-03</a>' in missing.text
        assert "<option selected>USD</option>" in missing.text
        assert api.event_count() == before

    def test_another_partner_and_the_coordinator_are_refused(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        paola, nico = browser["paola.pointex"], browser["nico.ntt"]
        fields = cost_fields(paola.get("/costs"))
        assert paola.post("/costs", fields, csrf_from="/costs").status_code == 303
        before = api.event_count()
        assert "Record a cost" not in browser["claire.coordinator"].get("/costs")
        refused = nico.post("/costs", cost_fields(nico.get("/costs")), csrf_from="/costs")
        assert refused.status_code == 403
        assert "record costs of POINTEX" in refused.text
        assert "Correct the cost" not in nico.get(f"/costs/{fields['cost_id']}")
        correction = {"amount": "1", "reason": "mine now", "on": "2023-04-01"}
        assert nico.post(f"/costs/{fields['cost_id']}/correction", correction, csrf_from="/costs").status_code == 403
        no_token = paola.client.post(f"/costs/{fields['cost_id']}/correction", data=correction)
        assert no_token.status_code == 403
        assert api.event_count() == before


class TestAdjustments:
    """A cost of a locked period: refused on its own date, with how to declare it; recorded as an
    adjustment with a declaration date in the open period."""

    def test_a_cost_of_a_locked_period_is_declared_in_the_open_one(
        self, app: FastAPI, browser: People, api: Api, alliance: Alliance
    ) -> None:
        context: LedgerContext = app.state.context
        context.app.set_reporting_periods(actor=COORDINATOR, periods=PERIODS, reason="GA", on=date(2021, 9, 1))
        pointex = Actor("paola.pointex", Role.OFFICER, "POINTEX")
        context.app.lock_statement(actor=pointex, partner="POINTEX", number=1, reason="", on=date(2022, 9, 5))
        then_read(context, 10, lambda _conn: None)
        paola = browser["paola.pointex"]
        before = api.event_count()
        old = {"amount": "300.00", "currency": "EUR", "on": "2022-06-30"}
        refused = paola.post("/costs", cost_fields(paola.get("/costs"), **old), csrf_from="/costs")
        assert refused.status_code == 409
        said = html.unescape(refusal(refused.text, "record-error"))
        assert "POINTEX's statement for period 1 (2021-09-01 to 2022-08-31) is locked for review" in said
        assert 'value="2022-06-30"' in refused.text
        bad = paola.post("/costs", cost_fields(paola.get("/costs"), **old, declared_on="30/11/2022"), csrf_from="/")
        assert bad.status_code == 422
        assert "The declaration date: &#39;30/11/2022&#39; is not written as a date; use YYYY-MM-DD" in refusal(
            bad.text, "record-declared_on-error"
        )
        assert api.event_count() == before
        fields = cost_fields(paola.get("/costs"), **old, declared_on="2022-11-30")
        recorded = paola.post("/costs", fields, csrf_from="/costs")
        assert recorded.status_code == 303, recorded.text
        with context.read_db.reading() as conn:
            statement = partner_statement(conn, "POINTEX", 2)
        assert statement is not None
        assert statement.adjustments == {1: {**statement.adjustments[1], Category.TRAVEL: Money.eur("300.00")}}
