"""Corrections of a claim over HTTP: partial payments, settling short, a bank return of one of
several payments, revoking an approval. Each success and each refusal (403, 404, 409, 422)."""

from __future__ import annotations

import pytest

from tests.api.conftest import JSON, Alliance, Api, Tokens, money
from tests.api.test_routes import UNKNOWN, field_errors, problem, rejected_payload

REVOKE = {"reason": "approved with the wrong month's rate", "on": "2023-04-12"}
SETTLE = {"reason": "the SME agreed: taxi receipts not eligible", "on": "2023-04-21"}


def approved_claim(api: Api, alliance: Alliance) -> JSON:
    """A claim approved at EUR 700.00 on POINTEX's FSTP line."""
    claim = api.submit(alliance)
    api.approve(claim["id"])
    return claim


class TestPartialPayments:
    def test_a_partial_payment_leaves_the_claim_partly_paid(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """EUR 300 of 700: the claim is partly paid with 400 outstanding and still committed;
        a further 400 pays it; the claim lists both payments."""
        claim = approved_claim(api, alliance)
        first = api.pay(claim["id"], "300.00", "SEPA-1")
        shown = api.claim(claim["id"])
        assert (shown["state"], shown["paid"], shown["settled_short"], shown["outstanding"]) == (
            "partly_paid",
            money("300.00"),
            money("0.00"),
            money("400.00"),
        )
        line = api.line("POINTEX", "FSTP")
        assert (line["committed"], line["paid"]) == (money("400.00"), money("300.00"))
        second = api.pay(claim["id"], "400.00", "SEPA-2")
        shown = api.claim(claim["id"])
        assert (shown["state"], shown["outstanding"], shown["payment_id"]) == ("paid", money("0.00"), second["id"])
        payments = sorted(shown["payments"], key=lambda p: p["bank_reference"])  # same value date
        assert [(p["id"], p["amount"], p["bank_reference"], p["reversed"]) for p in payments] == [
            (first["id"], money("300.00"), "SEPA-1", False),
            (second["id"], money("400.00"), "SEPA-2", False),
        ]
        assert [h["event_type"] for h in shown["history"]][-2:] == ["ReimbursementPaid", "ReimbursementPaid"]

    def test_overpaying_is_409_with_approved_paid_and_outstanding(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        claim = approved_claim(api, alliance)
        api.pay(claim["id"], "300.00")
        body = {"amount": money("400.01"), "bank_reference": "SEPA-9", "on": "2023-04-20"}
        details = rejected_payload(api, f"/claims/{claim['id']}/payments", body, tokens.pointex, 409)
        assert details["title"] == "Payment exceeds what is outstanding"
        for figure in ("approved EUR 700.00", "already paid EUR 300.00", "outstanding EUR 400.00"):
            assert figure in details["detail"]

    def test_a_bank_return_of_one_payment_re_commits_only_it(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        claim = approved_claim(api, alliance)
        first = api.pay(claim["id"], "300.00", "SEPA-1")
        api.pay(claim["id"], "400.00", "SEPA-2")
        body = {"reason": "bank return: IBAN closed", "on": "2023-04-25"}
        returned = api.ok(api.post(f"/payments/{first['id']}/reversal", body, tokens.pointex), 200)
        assert returned["reversed"] is True
        shown = api.claim(claim["id"])
        assert (shown["state"], shown["paid"], shown["outstanding"]) == (
            "partly_paid",
            money("400.00"),
            money("300.00"),
        )
        assert {p["bank_reference"]: p["reversed"] for p in shown["payments"]} == {"SEPA-1": True, "SEPA-2": False}
        line = api.line("POINTEX", "FSTP")
        assert (line["committed"], line["paid"]) == (money("300.00"), money("400.00"))


class TestSettlement:
    def test_settling_short_releases_the_rest(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """650 of 700 paid, the rest settled short: the claim is paid with 50 settled short,
        nothing committed, and the SME's mission support drops to 650."""
        claim = approved_claim(api, alliance)
        api.pay(claim["id"], "650.00")
        data = api.ok(api.post(f"/claims/{claim['id']}/settlement", SETTLE, tokens.pointex), 200)
        assert (data["state"], data["paid"], data["settled_short"], data["outstanding"]) == (
            "paid",
            money("650.00"),
            money("50.00"),
            money("0.00"),
        )
        assert data["history"][-1]["event_type"] == "SettledShort"
        assert data["history"][-1]["amount"] == money("50.00")
        assert data["reason"] == SETTLE["reason"]
        assert api.line("POINTEX", "FSTP")["committed"] == money("0.00")
        sme = api.get(f"/smes/{alliance.sme_id}").json()
        assert sme["missions"][0]["approved"] == money("650.00")

    def test_refusals(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """An unpaid claim is 409; another partner's officer, the coordinator, the auditor 403;
        an unknown claim 404; no reason, a date before the last payment 422."""
        claim = approved_claim(api, alliance)
        path = f"/claims/{claim['id']}/settlement"
        assert "only a partly paid claim" in rejected_payload(api, path, SETTLE, tokens.pointex, 409)["detail"]
        api.pay(claim["id"], "100.00")
        for who in ("ntt", "coordinator", "auditor"):
            rejected_payload(api, path, SETTLE, getattr(tokens, who), 403)
        rejected_payload(api, f"/claims/{UNKNOWN}/settlement", SETTLE, tokens.pointex, 404)
        assert field_errors(api.post(path, {"on": "2023-04-21"}, tokens.pointex)) == {"body.reason": "missing"}
        early = rejected_payload(api, path, {**SETTLE, "on": "2023-04-19"}, tokens.pointex, 422)
        assert "before the claim's last payment on 2023-04-20" in early["detail"]
        assert api.claim(claim["id"])["state"] == "partly_paid"


class TestRevocation:
    def test_revoking_makes_the_claim_pending_again(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """The claim is submitted again, pending on the line; its assessment is cleared; the
        commitment and the SME's support are released; it can be approved again."""
        claim = approved_claim(api, alliance)
        data = api.ok(api.post(f"/claims/{claim['id']}/revocation", REVOKE, tokens.pointex), 200)
        assert (data["state"], data["approved"], data["decided_on"], data["outstanding"]) == (
            "submitted",
            None,
            None,
            None,
        )
        assert {line["accepted"] for line in data["lines"]} == {None}
        assert data["history"][-1]["event_type"] == "ApprovalRevoked"
        assert data["history"][-1]["amount"] == money("700.00")
        line = api.line("POINTEX", "FSTP")
        assert (line["pending"], line["committed"]) == (claim["requested"], money("0.00"))
        assert api.get(f"/smes/{alliance.sme_id}").json()["missions"][0]["approved"] == money("0.00")
        again = api.approve(claim["id"], on="2023-04-13")
        assert again["approved"] == money("700.00")

    def test_revoking_with_reject_rejects_in_the_same_step(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        claim = approved_claim(api, alliance)
        data = api.ok(api.post(f"/claims/{claim['id']}/revocation", {**REVOKE, "reject": True}, tokens.pointex), 200)
        assert data["state"] == "rejected"
        assert [h["event_type"] for h in data["history"]][-2:] == ["ApprovalRevoked", "Rejected"]
        line = api.line("POINTEX", "FSTP")
        assert (line["pending"], line["committed"]) == (money("0.00"), money("0.00"))

    def test_a_paid_claim_is_409_naming_its_payment(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        claim = approved_claim(api, alliance)
        payment = api.pay(claim["id"], "100.00")
        details = rejected_payload(api, f"/claims/{claim['id']}/revocation", REVOKE, tokens.pointex, 409)
        assert payment["id"] in details["detail"]
        assert "reverse them first" in details["detail"]
        submitted = api.submit(alliance, *[{**api.claim_body(alliance)["lines"][0], "receipt_ref": "R-OTHER"}])
        details = rejected_payload(api, f"/claims/{submitted['id']}/revocation", REVOKE, tokens.pointex, 409)
        assert "it is submitted" in details["detail"]

    @pytest.mark.parametrize("who", ["ntt", "coordinator", "auditor"])
    def test_only_officers_of_the_partner_charged_revoke(
        self, api: Api, tokens: Tokens, alliance: Alliance, who: str
    ) -> None:
        claim = approved_claim(api, alliance)
        rejected_payload(api, f"/claims/{claim['id']}/revocation", REVOKE, getattr(tokens, who), 403)
        assert api.claim(claim["id"])["state"] == "approved"

    def test_unknown_claims_are_404_and_bad_bodies_422(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """A missing reason, a reject that is not true or false, a date before the approval:
        422 saying what to write; nothing recorded."""
        rejected_payload(api, f"/claims/{UNKNOWN}/revocation", REVOKE, tokens.pointex, 404)
        claim = approved_claim(api, alliance)
        path = f"/claims/{claim['id']}/revocation"
        assert field_errors(api.post(path, {"on": "2023-04-12"}, tokens.pointex)) == {"body.reason": "missing"}
        assert "body.reject" in field_errors(api.post(path, {**REVOKE, "reject": "maybe"}, tokens.pointex))
        for loose in ("yes", "on", "1", 1, "true"):  # only JSON true or false rejects a claim
            loose_reject = rejected_payload(api, path, {**REVOKE, "reject": loose}, tokens.pointex, 422)
            assert "true or false" in str(loose_reject)
        early = rejected_payload(api, path, {**REVOKE, "on": "2023-04-09"}, tokens.pointex, 422)
        assert "before the claim's approval date 2023-04-10" in early["detail"]
        problem(api.post(path, {**REVOKE, "on": "2999-01-01"}, tokens.pointex), 422)
        assert api.claim(claim["id"])["state"] == "approved"
