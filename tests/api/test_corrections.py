"""Corrections over HTTP: an exchange rate (answered with the claims assessed with the old
rate), an SME's registration, a payment record; and every refusal, which records nothing."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import JSON, Alliance, Api, Tokens, expense, money
from tests.api.test_routes import field_errors, rejected_payload

RATE = "/exchange-rates/JPY/2023-03"


def line_of(report: JSON, claim_id: str) -> JSON:
    (found,) = [line for line in report["lines"] if line["claim_id"] == claim_id]
    return dict(found)


class TestRateCorrection:
    def test_the_answer_lists_the_claims_assessed_with_the_old_rate(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """200: the rate is corrected; the report lists the approved claim by its approval's
        line and the submitted one by its estimate, each with the rate used, the EUR stored,
        what it gives at the new rate (half up to the cent) and the difference. The stored
        conversions do not change, and the report can be read again."""
        approved = api.submit(alliance, expense("144830", "JPY", receipt="J-1"))
        api.approve(approved["id"])
        submitted = api.submit(alliance, expense("28966", "JPY", receipt="J-2"))
        body = {"rate": "150.00", "reason": "typed from the February table"}
        report = api.ok(api.post(f"{RATE}/correction", body, tokens.coordinator), 200)
        shown = {k: v for k, v in report["rate"].items() if k not in {"id", "history_url"}}
        assert shown == {"currency": "JPY", "month": "2023-03", "rate": "150.00", "source": "InforEuro"}
        assert report["rate"]["history_url"] == f"/api/v1/audit/entities/{report['rate']['id']}"
        assert (report["count"], report["difference"]) == (2, money("-41.36"))
        assert line_of(report, approved["id"]) | {"claim_id": "", "mission_id": "", "sme_id": ""} == {
            "claim_id": "",
            "sme_id": "",
            "sme_name": "Tessuti Avanzati IT01234567890 S.r.l.",
            "mission_id": "",
            "mission_code": "JPN-2023",
            "partner": "POINTEX",
            "state": "approved",
            "basis": "approval",
            "line_no": 1,
            "expense_date": "2023-03-14",
            "amount": money("144830", "JPY"),
            "rate_used": "144.83",
            "source_used": "InforEuro",
            "eur": money("1000.00"),
            "eur_at_rate_now": money("965.53"),
            "difference": money("-34.47"),
        }
        estimate = line_of(report, submitted["id"])
        assert (estimate["state"], estimate["basis"], estimate["amount"], estimate["rate_used"]) == (
            "submitted",
            "estimate at submission",
            money("28966", "JPY"),
            "144.83",
        )
        assert (estimate["eur"], estimate["eur_at_rate_now"], estimate["difference"]) == (
            money("200.00"),
            money("193.11"),
            money("-6.89"),
        )
        assert api.claim(approved["id"])["lines"][0]["eur"] == money("1000.00"), "stored conversions stay"
        again = api.get("/exchange-rates/jpy/2023-03/assessments")
        assert again.status_code == 200
        assert again.json() == report

    def test_claims_assessed_after_the_correction_are_not_listed(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """A claim submitted after the correction used the new rate: nothing to decide."""
        api.ok(api.post(f"{RATE}/correction", {"rate": "150.00", "reason": "typo"}, tokens.pointex), 200)
        claim = api.submit(alliance, expense("150000", "JPY", receipt="J-3"))
        report = api.get(f"{RATE}/assessments").json()
        assert (report["count"], report["lines"]) == (0, [])
        assert api.claim(claim["id"])["requested"] == money("700.00")

    def test_refusals(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """403 for an auditor; 409 for a rate never recorded and for the same rate again; 422
        naming what to write for a missing reason, a bad month, EUR or a rate as a JSON number;
        404 for the report of a rate never recorded. Nothing is recorded."""
        body: dict[str, Any] = {"rate": "150.00", "reason": "typo"}
        path = f"{RATE}/correction"
        assert "may not" in rejected_payload(api, path, body, tokens.auditor, 403)["detail"]
        missing = rejected_payload(api, "/exchange-rates/USD/2023-03/correction", body, tokens.pointex, 409)
        assert "no USD rate is recorded for 2023-03, so there is nothing to correct" in missing["detail"]
        same = rejected_payload(api, path, {**body, "rate": "144.83"}, tokens.pointex, 409)
        assert (same["title"], "already 144.83 (InforEuro)" in same["detail"]) == ("Nothing to correct", True)
        euro = rejected_payload(api, "/exchange-rates/EUR/2023-03/correction", body, tokens.pointex, 422)
        assert "EUR needs no exchange rate" in euro["detail"]
        month = rejected_payload(api, "/exchange-rates/JPY/2023-13/correction", body, tokens.pointex, 422)
        assert "YYYY-MM, e.g. 2023-03" in str(month)
        assert field_errors(api.post(path, {"rate": "150.00"}, tokens.pointex)) == {"body.reason": "missing"}
        number = rejected_payload(api, path, {**body, "rate": 150.0}, tokens.pointex, 422)
        assert "never JSON numbers" in str(number)
        unknown = api.get("/exchange-rates/USD/2023-03/assessments")
        assert unknown.status_code == 404
        assert "the USD rate for 2023-03" in unknown.json()["detail"]


class TestSmeCorrection:
    def test_the_new_name_shows_and_the_history_says_why(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """200 with the SME as corrected (same identifier); GET shows it; its history ends with
        the correction, its actor and reason."""
        body = {"legal_name": "Tessuti Avanzati S.p.A.", "country": "FR", "reason": "extract", "on": "2023-01-10"}
        data = api.ok(api.post(f"/smes/{alliance.sme_id}/correction", body, tokens.ntt), 200)
        assert (data["legal_name"], data["country"], data["identifier"]) == (
            "Tessuti Avanzati S.p.A.",
            "FR",
            "IT01234567890",
        )
        assert api.get(f"/smes/{alliance.sme_id}").json() == data
        history = api.get(f"/audit/entities/{alliance.sme_id}").json()
        last = history["events"][-1]
        assert (last["event_type"], last["reason"], last["actor_id"]) == (
            "RegistrationCorrected",
            "extract",
            "nico.ntt",
        )
        assert history["state"]["legal_name"] == "Tessuti Avanzati S.p.A."

    def test_refusals(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """403 auditor, 404 unknown SME, 409 nothing changed, 422 for a bad country, a date
        before the registration and a missing reason."""
        path = f"/smes/{alliance.sme_id}/correction"
        body = {"legal_name": "Tessuti S.p.A.", "country": "IT", "reason": "extract", "on": "2023-01-10"}
        rejected_payload(api, path, body, tokens.auditor, 403)
        nobody = "/smes/00000000-0000-4000-8000-000000000000/correction"
        unknown = rejected_payload(api, nobody, body, tokens.pointex, 404)
        assert "there is no SME" in unknown["detail"]
        same = {**body, "legal_name": "Tessuti Avanzati IT01234567890 S.r.l."}
        assert "already registered as" in rejected_payload(api, path, same, tokens.pointex, 409)["detail"]
        country = rejected_payload(api, path, {**body, "country": "Italy"}, tokens.pointex, 422)
        assert "two-letter ISO 3166 code in capitals, e.g. IT" in str(country)
        early = rejected_payload(api, path, {**body, "on": "2022-12-04"}, tokens.pointex, 422)
        assert "before the SME's registration on 2022-12-05" in early["detail"]
        no_reason = {k: v for k, v in body.items() if k != "reason"}
        assert field_errors(api.post(path, no_reason, tokens.pointex)) == {"body.reason": "missing"}


class TestPaymentCorrection:
    def paid(self, api: Api, alliance: Alliance) -> str:
        claim = api.submit(alliance)
        api.approve(claim["id"])
        payment_id: str = api.pay(claim["id"], "700.00")["id"]
        return payment_id

    def test_the_record_and_the_books_effective_on_a_date_follow_the_new_value_date(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """200 with the corrected payment; the budget as effective on a day between the old
        and the new value date shows the amount still committed, from the new date paid."""
        payment_id = self.paid(api, alliance)
        body = {"bank_reference": "SEPA-2023-0413", "value_date": "2023-04-25", "reason": "bank statement"}
        data = api.ok(api.post(f"/payments/{payment_id}/correction", body, tokens.pointex), 200)
        assert (data["bank_reference"], data["value_date"], data["amount"]) == (
            "SEPA-2023-0413",
            "2023-04-25",
            money("700.00"),
        )
        assert api.get(f"/payments/{payment_id}").json() == data
        between = api.line("POINTEX", "FSTP", effective="2023-04-22")
        after = api.line("POINTEX", "FSTP", effective="2023-04-25")
        now = api.line("POINTEX", "FSTP")
        assert (between["committed"], between["paid"]) == (money("700.00"), money("0.00"))
        assert (after["committed"], after["paid"]) == (money("0.00"), money("700.00"))
        assert (now["committed"], now["paid"]) == (money("0.00"), money("700.00"))

    def test_refusals(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """403 for another partner's officer (named) and the coordinator, 404 unknown payment,
        409 nothing changed and a date after the action period (a rule of the grant), 422 for
        a date before the approval, a date written wrongly and a missing reason."""
        payment_id = self.paid(api, alliance)
        path = f"/payments/{payment_id}/correction"
        body = {"value_date": "2023-04-21", "reason": "bank statement"}
        other = rejected_payload(api, path, body, tokens.ntt, 403)
        assert "only POINTEX's financial officers" in other["detail"]
        rejected_payload(api, path, body, tokens.coordinator, 403)
        unknown_path = "/payments/00000000-0000-4000-8000-000000000000/correction"
        assert "there is no payment" in rejected_payload(api, unknown_path, body, tokens.pointex, 404)["detail"]
        same = {**body, "value_date": "2023-04-20", "bank_reference": "SEPA-2023-0412"}
        assert "already has bank reference" in rejected_payload(api, path, same, tokens.pointex, 409)["detail"]
        early = rejected_payload(api, path, {**body, "value_date": "2023-04-09"}, tokens.pointex, 422)
        assert "before the claim's approval date 2023-04-10" in early["detail"]
        late = rejected_payload(api, path, {**body, "value_date": "2023-09-01"}, tokens.pointex, 409)
        assert "outside the action period" in late["detail"]
        written = rejected_payload(api, path, {**body, "value_date": "21/04/2023"}, tokens.pointex, 422)
        assert "YYYY-MM-DD" in str(written)
        assert field_errors(api.post(path, {"value_date": "2023-04-21"}, tokens.pointex)) == {"body.reason": "missing"}
