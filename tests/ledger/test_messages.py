"""Refusals and recorded reasons read as a person writes: the right article, the right participle,
and the right kind of error (a missing exchange rate is a rule of the grant, not an unknown id)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from ledger.application import GrantLedger
from ledger.errors import NotAllowed, NotFound, Refused
from ledger.money import Money
from ledger.rates import RateMissing
from ledger.receipts import ReceiptIndex, receipt_id
from ledger.words import any_of, article
from tests.builders import AUDITOR, eur_line, officer, open_mission, selected_sme, sign_alliance, submit

POINTEX = officer("POINTEX")


@pytest.fixture
def ready(app: GrantLedger) -> tuple[GrantLedger, uuid.UUID, uuid.UUID]:
    sign_alliance(app)
    mission = open_mission(app)
    return app, mission, selected_sme(app, mission)


class TestArticles:
    @pytest.mark.parametrize(
        ("word", "said"),
        [
            ("officer", "an officer"),
            ("auditor", "an auditor"),
            ("coordinator", "a coordinator"),
            ("approved", "an approved"),
            ("submitted", "a submitted"),
            ("ExchangeRate", "an ExchangeRate"),
        ],
    )
    def test_a_or_an_by_the_first_sound(self, word: str, said: str) -> None:
        """'an' before a vowel, 'a' otherwise."""
        assert article(word) == said

    def test_a_list_of_roles(self) -> None:
        """Each role has its own article: "an officer or a coordinator"."""
        assert any_of(["officer", "coordinator"]) == "an officer or a coordinator"


class TestRefusals:
    def test_a_role_refusal_says_an_officer(self, ready: tuple[GrantLedger, uuid.UUID, uuid.UUID]) -> None:
        """An auditor recording a rate is told who may: "an officer or a coordinator"."""
        app, _, _ = ready
        with pytest.raises(NotAllowed, match="only an officer or a coordinator may"):
            app.record_rate(actor=AUDITOR, currency="USD", month="2023-03", rate=Decimal("1.1"))

    def test_a_state_refusal_says_an_approved_claim(self, ready: tuple[GrantLedger, uuid.UUID, uuid.UUID]) -> None:
        """Paying a claim that is only submitted: "only an approved or partly paid claim can be"
        (the state as a person says it, never "partly_paid")."""
        app, mission, sme = ready
        claim = submit(app, mission, sme, eur_line("100", receipt="R-1"))
        with pytest.raises(Refused, match="only an approved or partly paid claim can be"):
            app.record_payment(
                actor=POINTEX,
                payment_id=uuid.uuid4(),
                claim_id=claim,
                amount=Money.of("70", "EUR"),
                bank_reference="B-1",
                on=date(2023, 4, 20),
            )

    @pytest.mark.parametrize(("close", "said"), [("withdraw_claim", "withdrawn"), ("reject_claim", "rejected")])
    def test_a_closed_claim_releases_its_receipts_saying_why(
        self, ready: tuple[GrantLedger, uuid.UUID, uuid.UUID], close: str, said: str
    ) -> None:
        """The receipt index records "claim withdrawn: <reason>" (never "withdrawed")."""
        app, mission, sme = ready
        claim = submit(app, mission, sme, eur_line("100", receipt="R-2"))
        getattr(app, close)(actor=POINTEX, claim_id=claim, reason="typo in the amount", on=date(2023, 4, 2))
        index: ReceiptIndex = app.repository.get(receipt_id("R-2"))
        released = [e for e in app.repository.event_store.get(index.id) if isinstance(e, ReceiptIndex.Released)]
        assert [e.reason for e in released] == [f"claim {said}: typo in the amount"]


class TestMissingRate:
    def test_a_missing_rate_is_a_rule_not_an_unknown_record(self) -> None:
        """RateMissing is refused by a rule (409 over HTTP), not "not found" (404)."""
        assert issubclass(RateMissing, Refused)
        assert not issubclass(RateMissing, NotFound)
