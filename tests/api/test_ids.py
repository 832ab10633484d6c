"""Identifiers over HTTP (issue 11, section 4): a client-chosen id is a random UUID, an id
derived from an Idempotency-Key is never name-based, and an SME identifier typed with
separators is the SME already registered."""

from __future__ import annotations

import uuid

import pytest

from ledger.mission import mission_id
from ledger.rates import rate_id
from ledger.receipts import receipt_id
from tests.api.conftest import JSON, Alliance, Api, Tokens, expense, money, sme_body
from tests.api.test_routes import cost_body, problem, rejected_payload, transfer_body

#: Ids a client could compute for records the ledger derives itself, or other non-random ids.
NOT_RANDOM = [
    str(receipt_id("INV-1")),
    str(rate_id("USD", "2023-03")),
    str(mission_id("CAN-2023")),
    str(uuid.uuid3(uuid.NAMESPACE_DNS, "grantledger")),
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "c232ab00-9414-11ec-b3c8-9f6bdeced846",  # version 1 (time and MAC address)
    "b8a1c1e2-8f47-8d2a-9b61-e4a7d2c05f18",  # version 8, the form of the ledger's derived ids
]


def refused_id(api: Api, path: str, body: JSON, token: str) -> None:
    details = rejected_payload(api, path, body, token, 422)
    [error] = details["errors"]
    assert error["field"] == "body.id"
    assert "must be a random UUID (version 4 or 7), e.g. from uuid4()" in error["message"]


class TestChosenIds:
    @pytest.mark.parametrize("chosen", NOT_RANDOM)
    def test_a_create_body_with_a_non_random_id_is_422(
        self, api: Api, tokens: Tokens, alliance: Alliance, chosen: str
    ) -> None:
        """Claims, SMEs, costs and transfers: 422 on the id field, nothing recorded."""
        refused_id(api, "/claims", api.claim_body(alliance) | {"id": chosen}, tokens.pointex)
        refused_id(api, "/smes", sme_body("IT55555555555", id=chosen), tokens.pointex)
        refused_id(api, "/costs", cost_body(id=chosen), tokens.pointex)
        refused_id(api, "/budget/transfers", transfer_body(id=chosen), tokens.coordinator)

    def test_a_payment_with_a_name_based_id_is_422(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        claim = api.submit(alliance)
        api.approve(claim["id"])
        body = {"amount": money("700.00"), "bank_reference": "SEPA-1", "on": "2023-04-20"}
        refused_id(api, f"/claims/{claim['id']}/payments", body | {"id": NOT_RANDOM[0]}, tokens.pointex)

    def test_the_squatted_receipt_stays_free(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """The attack: a claim under the id of receipt INV-1's index, then the SME's real claim
        with receipt INV-1. The first is refused, the second recorded."""
        refused_id(
            api, "/claims", api.claim_body(alliance, expense(receipt="R-9")) | {"id": NOT_RANDOM[0]}, tokens.pointex
        )
        assert api.submit(alliance, expense(receipt="INV-1"))["state"] == "submitted"

    def test_a_random_id_is_kept(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        chosen = "01890a5d-ac96-774b-bcce-b302099a8057"  # version 7
        assert api.ok(api.post("/smes", sme_body("IT55555555555", id=chosen), tokens.pointex))["id"] == chosen

    def test_an_id_derived_from_the_idempotency_key_is_version_8(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """Not name-based (so never one the ledger derives), and the same for the same key."""
        first = api.ok(api.post("/smes", sme_body("IT55555555555"), tokens.pointex, key="sme-key-1"))
        assert uuid.UUID(first["id"]).version == 8
        again = api.ok(api.post("/smes", sme_body("IT55555555555"), tokens.pointex, key="sme-key-1"))
        assert again["id"] == first["id"]


class TestCanonicalIdentifiers:
    @pytest.mark.parametrize("typed", ["IT 01234567890", "it-0123-4567-890", "IT.01234567890"])
    def test_an_identifier_typed_with_separators_is_the_registered_sme(
        self, api: Api, tokens: Tokens, alliance: Alliance, typed: str
    ) -> None:
        """409 naming the SME that has it: no second SME escapes the caps."""
        details = rejected_payload(api, "/smes", sme_body(typed), tokens.ntt, 409)
        assert alliance.sme_id in details["detail"]
        assert api.get("/smes").json()["count"] == 1

    def test_a_look_alike_letter_is_422(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """A Cyrillic 'Т' in a Latin identifier: refused, saying which scripts are mixed."""
        details = problem(api.post("/smes", sme_body("I\u0422 01234567890"), tokens.pointex), 422)
        assert "mixes letters of different scripts" in details["detail"]
        assert "Cyrillic" in details["detail"]

    @pytest.mark.parametrize(
        ("typed", "status"),
        [
            ("IT0123456789\u034f0", 422),  # combining grapheme joiner
            ("IT01234567890\ufe00", 422),  # variation selector-1
            ("IT01234567890\u3164", 422),  # Hangul filler
            ("IT\u115f01234567890", 422),  # Hangul choseong filler
            ("IT01234567890\u180b", 422),  # Mongolian free variation selector
            ("IT\u280001234567890", 422),  # Braille pattern blank
            ("\u0399\u03a401234567890", 409),  # Greek ΙΤ
            ("\u0406\u042201234567890", 409),  # Cyrillic ІТ
            ("IT01234567890\u0301", 409),  # combining acute on a digit
            ("IT" + "".join(chr(0x660 + int(d)) for d in "01234567890"), 409),  # Arabic-Indic digits
            ("IT" + "".join(chr(0x966 + int(d)) for d in "01234567890"), 409),  # Devanagari digits
            ("IT+01234567890", 409),
            ("IT(01234567890)", 409),
            ("IT#01234567890", 409),
            ("IT\u30fb01234567890", 409),  # katakana middle dot
            ("IT\u204401234567890", 409),  # fraction slash
        ],
    )
    def test_an_identifier_that_looks_the_same_is_refused_or_the_registered_sme(
        self, api: Api, tokens: Tokens, alliance: Alliance, typed: str, status: int
    ) -> None:
        """The reviewer's escapes, each a second SME before: an invisible character is 422 on
        the identifier; what reads as IT01234567890 is 409 naming the SME that has it."""
        body = sme_body(typed, legal_name="Tessuti Avanzati S.r.l.")
        details = rejected_payload(api, "/smes", body, tokens.ntt, status)
        if status == 409:
            assert alliance.sme_id in details["detail"]
        else:
            assert "identifier: contains" in details["detail"]
        assert api.get("/smes").json()["count"] == 1


class TestCanonicalReceipts:
    @pytest.mark.parametrize(
        ("original", "typed", "status"),
        [
            ("JAL-7781", "JAL-778\u034f1", 422),  # combining grapheme joiner
            ("JAL-7781", "JAL-7781\ufe0f", 422),  # variation selector-16
            ("JAL-7781", "JAL-7781\u3164", 422),  # Hangul filler
            ("TAX-7781", "\u03a4\u0391\u03a7-7781", 409),  # Greek ΤΑΧ
            ("TAX-7781", "\u0422\u0410\u0425-7781", 409),  # Cyrillic ТАХ
            ("JAL-7781", "JAL+7781", 409),
            ("JAL-7781", "JAL(7781)", 409),
            ("JAL-7781", "JAL-\u0667\u0667\u0668\u0661", 409),  # Arabic-Indic digits
            ("JAL-7781", "JAL-7781\u0323", 409),  # combining dot below
        ],
    )
    def test_a_receipt_that_looks_the_same_is_refused_or_already_declared(
        self, api: Api, tokens: Tokens, alliance: Alliance, original: str, typed: str, status: int
    ) -> None:
        api.submit(alliance, expense(receipt=original))
        details = rejected_payload(
            api, "/claims", api.claim_body(alliance, expense(receipt=typed)), tokens.pointex, status
        )
        assert (original if status == 409 else "contains an invisible character") in details["detail"]
