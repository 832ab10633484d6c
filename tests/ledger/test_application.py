"""The application's use cases, as users tell them, on in-memory, SQLite and PostgreSQL stores."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from ledger.application import GrantLedger
from ledger.budget import BudgetExceeded, BudgetLine
from ledger.claim import Claim, ClaimNotInState, ExpenseLine, LineDecision
from ledger.errors import IdempotencyConflict, InvalidInput, NotAllowed, Refused
from ledger.grant import GrantAlreadySigned, GrantNotSigned, OutsideActionPeriod
from ledger.mission import IneligibleCostType
from ledger.money import Money
from ledger.payment import PaymentAlreadyReversed
from ledger.rates import RateAlreadyRecorded, RateMissing
from ledger.receipts import ReceiptAlreadyUsed
from ledger.sme import SmeAlreadyRegistered, SmeCapReached, SmeNotSelected
from tests.builders import (
    AUDITOR,
    COORDINATOR,
    PARTNERS,
    alliance_budget,
    eur,
    eur_line,
    grant_terms,
    officer,
    open_mission,
    selected_sme,
    sign_alliance,
    submit,
)

POINTEX = officer("POINTEX")
APPROVED_ON = date(2023, 4, 5)


@contextlib.contextmanager
def records_nothing(app: GrantLedger) -> Iterator[None]:
    """Assert the block records no event (a refused command leaves the store untouched)."""
    before = app.recorder.max_notification_id()
    yield
    assert app.recorder.max_notification_id() == before


@pytest.fixture
def ready(app: GrantLedger) -> tuple[GrantLedger, uuid.UUID, uuid.UUID]:
    """A signed grant, the Japan mission (POINTEX, 70%, cap EUR 2,000) and one selected SME."""
    sign_alliance(app)
    mission = open_mission(app)
    sme = selected_sme(app, mission)
    app.record_rate(actor=POINTEX, currency="JPY", month="2023-03", rate=Decimal("142.35"))
    return app, mission, sme


def fstp(app: GrantLedger, partner: str = "POINTEX") -> BudgetLine:
    return app.budget_line(partner, "FSTP")


class TestGrant:
    def test_signing_opens_every_line_and_they_sum_to_the_total(self, app: GrantLedger) -> None:
        """Invariant 1 at signing: six partners x seven categories, summing to EUR 500,000."""
        sign_alliance(app)
        lines = [
            app.budget_line(p.code, c) for p in PARTNERS for c in alliance_budget()["NTT"] | {"EQUIPMENT": eur("0")}
        ]
        assert sum((line.allocated.amount for line in lines), Decimal(0)) == Decimal("500000.00")
        assert app.grant().eu_cap == eur("450000")
        assert app.budget_line("NTT", "SUBCONTRACTING").allocated == eur("0")

    def test_lines_that_do_not_sum_to_the_total_are_refused_with_the_difference(self, app: GrantLedger) -> None:
        budget = alliance_budget()
        budget["NTT"]["PERSONNEL"] = budget["NTT"]["PERSONNEL"] + eur("10")
        with records_nothing(app), pytest.raises(InvalidInput, match=r"difference EUR -10\.00"):
            app.sign_grant(**grant_terms(budget=budget))

    def test_indirect_above_the_flat_rate_is_refused(self, app: GrantLedger) -> None:
        budget = alliance_budget()
        budget["NTT"]["INDIRECT"] = eur("9000")
        budget["NTT"]["PERSONNEL"] = budget["NTT"]["PERSONNEL"] - eur("8000")
        with pytest.raises(InvalidInput, match=r"NTT's INDIRECT line EUR 9,000\.00 exceeds the flat rate"):
            app.sign_grant(**grant_terms(budget=budget))

    def test_only_the_coordinator_signs_and_only_once(self, app: GrantLedger) -> None:
        with records_nothing(app), pytest.raises(NotAllowed, match="only a coordinator may"):
            app.sign_grant(**grant_terms(actor=POINTEX, code="X", total=eur("1"), eu_cap=eur("1"), budget={}))
        first = sign_alliance(app)
        with records_nothing(app):
            assert sign_alliance(app) == first  # the same signature again is a no-op
        with pytest.raises(GrantAlreadySigned):
            app.sign_grant(**grant_terms(code="OTHER"))

    def test_commands_before_signing_say_so(self, app: GrantLedger) -> None:
        with pytest.raises(GrantNotSigned, match="has not been signed"):
            open_mission(app)


class TestTransfers:
    def test_a_transfer_moves_money_and_never_changes_the_total(self, app: GrantLedger) -> None:
        """Invariant 1: transfers move money, never create it."""
        sign_alliance(app)
        tid = uuid.uuid4()
        app.transfer_budget(
            actor=COORDINATOR,
            transfer_id=tid,
            from_partner="NTT",
            from_category="PERSONNEL",
            to_partner="POINTEX",
            to_category="FSTP",
            amount=eur("5000"),
            decision_ref="SC-2022-03",
            reason="more SMEs on Japan",
            on=date(2022, 3, 1),
        )
        assert fstp(app).allocated == eur("25000")
        total = sum(
            (
                app.budget_line(p.code, c).allocated.amount
                for p in PARTNERS
                for c in (
                    "PERSONNEL",
                    "SUBCONTRACTING",
                    "TRAVEL",
                    "EQUIPMENT",
                    "OTHER_GOODS_SERVICES",
                    "FSTP",
                    "INDIRECT",
                )
            ),
            Decimal(0),
        )
        assert total == Decimal("500000.00")

    def test_transfers_are_idempotent_by_id(self, app: GrantLedger) -> None:
        sign_alliance(app)
        tid = uuid.uuid4()

        def transfer(amount: str) -> uuid.UUID:
            return app.transfer_budget(
                actor=COORDINATOR,
                transfer_id=tid,
                from_partner="NTT",
                from_category="PERSONNEL",
                to_partner="POINTEX",
                to_category="FSTP",
                amount=eur(amount),
                decision_ref="SC-1",
                reason="r",
                on=date(2022, 3, 1),
            )

        assert transfer("100") == tid
        with records_nothing(app):
            assert transfer("100") == tid
        with records_nothing(app), pytest.raises(IdempotencyConflict, match="different content"):
            transfer("200")
        assert fstp(app).allocated == eur("20100")

    def test_cannot_move_more_than_is_free(self, ready: tuple[GrantLedger, uuid.UUID, uuid.UUID]) -> None:
        """A line cannot give away what is already committed: the message names the numbers."""
        app, mission, sme = ready
        claim = submit(app, mission, sme, eur_line("2000"))
        app.approve_claim(actor=POINTEX, claim_id=claim, on=APPROVED_ON)  # commits EUR 1,400.00
        with records_nothing(app), pytest.raises(BudgetExceeded, match=r"at most EUR 18,600\.00 can move"):
            app.transfer_budget(
                actor=COORDINATOR,
                transfer_id=uuid.uuid4(),
                from_partner="POINTEX",
                from_category="FSTP",
                to_partner="NTT",
                to_category="FSTP",
                amount=eur("18600.01"),
                decision_ref="SC-2",
                reason="r",
                on=date(2023, 5, 1),
            )

    def test_only_the_coordinator_transfers(self, app: GrantLedger) -> None:
        sign_alliance(app)
        with pytest.raises(NotAllowed):
            app.transfer_budget(
                actor=POINTEX,
                transfer_id=uuid.uuid4(),
                from_partner="NTT",
                from_category="PERSONNEL",
                to_partner="POINTEX",
                to_category="FSTP",
                amount=eur("1"),
                decision_ref="SC",
                reason="r",
                on=date(2022, 3, 1),
            )


class TestClaimLifecycle:
    def test_a_jpy_claim_partly_approved_paid_reversed_and_paid_again(
        self, ready: tuple[GrantLedger, uuid.UUID, uuid.UUID]
    ) -> None:
        """The whole story of one claim, with every figure checked by hand.

        JPY 180,000 / 142.35 = 1,264.489.. -> EUR 1,264.49; JPY 80,000 accepted of 95,000
        (minibar) / 142.35 = 561.995.. -> EUR 562.00; sum EUR 1,826.49; x 70% = 1,278.543 -> EUR 1,278.54.
        """
        app, mission, sme = ready
        claim_id = app.submit_claim(
            actor=POINTEX,
            claim_id=uuid.uuid4(),
            sme_id=sme,
            mission_id=mission,
            on=date(2023, 4, 1),
            lines=[
                ExpenseLine("TRAVEL", date(2023, 3, 14), Money.of("180000", "JPY"), "JAL-1", "flight"),
                ExpenseLine("ACCOMMODATION", date(2023, 3, 15), Money.of("95000", "JPY"), "HOTEL-1", "hotel"),
            ],
        )
        assert app.claim(claim_id).requested == eur("1352.30")  # (1264.49 + 667.37) x 70%, pending
        approved = app.approve_claim(
            actor=POINTEX,
            claim_id=claim_id,
            on=APPROVED_ON,
            decisions=[LineDecision(2, Money.of("80000", "JPY"), "minibar is not eligible")],
        )
        assert approved == eur("1278.54")
        assert (fstp(app).committed, fstp(app).paid) == (eur("1278.54"), eur("0"))
        event = list(app.events.get(claim_id))[-1]
        assert isinstance(event, Claim.Approved)
        assert [(c.rate, c.rate_month, c.rate_source, c.eur) for c in event.lines] == [
            (Decimal("142.35"), "2023-03", "InforEuro", eur("1264.49")),
            (Decimal("142.35"), "2023-03", "InforEuro", eur("562.00")),
        ]
        assert event.lines[1].reason == "minibar is not eligible"

        payment = app.record_payment(
            actor=POINTEX,
            payment_id=uuid.uuid4(),
            claim_id=claim_id,
            amount=approved,
            bank_reference="SEPA-001",
            on=date(2023, 4, 20),
        )
        assert (fstp(app).committed, fstp(app).paid) == (eur("0"), eur("1278.54"))
        with records_nothing(app), pytest.raises(ClaimNotInState, match="nothing is outstanding"):
            app.record_payment(
                actor=POINTEX,
                payment_id=uuid.uuid4(),
                claim_id=claim_id,
                amount=approved,
                bank_reference="SEPA-002",
                on=date(2023, 4, 21),
            )
        app.reverse_payment(actor=POINTEX, payment_id=payment, reason="IBAN closed", on=date(2023, 4, 25))
        assert app.claim(claim_id).state == "approved"
        assert (fstp(app).committed, fstp(app).paid) == (eur("1278.54"), eur("0"))
        with pytest.raises(PaymentAlreadyReversed):
            app.reverse_payment(actor=POINTEX, payment_id=payment, reason="again", on=date(2023, 4, 26))
        app.record_payment(
            actor=POINTEX,
            payment_id=uuid.uuid4(),
            claim_id=claim_id,
            amount=approved,
            bank_reference="SEPA-003",
            on=date(2023, 5, 2),
        )
        assert app.claim(claim_id).state == "paid"
        assert fstp(app).paid == eur("1278.54")

    def test_rejected_and_withdrawn_claims_free_their_receipts(
        self, ready: tuple[GrantLedger, uuid.UUID, uuid.UUID]
    ) -> None:
        """Invariant 5 with a way out: an unfunded claim's receipts may be declared again."""
        app, mission, sme = ready
        first = submit(app, mission, sme, eur_line("100", receipt="INV 42"))
        with records_nothing(app), pytest.raises(ReceiptAlreadyUsed, match="'INV 42' is already declared"):
            submit(app, mission, sme, eur_line("100", receipt="  inv   42 "))
        app.withdraw_claim(actor=POINTEX, claim_id=first, reason="typo in the amount", on=date(2023, 4, 2))
        second = submit(app, mission, sme, eur_line("110", receipt="inv 42"))
        app.reject_claim(actor=POINTEX, claim_id=second, reason="no boarding pass", on=date(2023, 4, 3))
        third = submit(app, mission, sme, eur_line("110", receipt="INV 42"))
        app.approve_claim(actor=POINTEX, claim_id=third, on=APPROVED_ON)
        with pytest.raises(ClaimNotInState, match="it is approved"):
            app.reject_claim(actor=POINTEX, claim_id=third, reason="late", on=APPROVED_ON)

    def test_a_receipt_is_declared_once_across_claims_and_costs(
        self, ready: tuple[GrantLedger, uuid.UUID, uuid.UUID]
    ) -> None:
        app, mission, sme = ready
        app.record_cost(
            actor=POINTEX,
            cost_id=uuid.uuid4(),
            partner="POINTEX",
            category="TRAVEL",
            amount=eur("300"),
            document_ref="INV-7",
            description="coordinator trip",
            on=date(2023, 3, 14),
        )
        with records_nothing(app), pytest.raises(ReceiptAlreadyUsed):
            submit(app, mission, sme, eur_line("100", receipt="inv-7"))
        with pytest.raises(InvalidInput, match="appears twice"):
            submit(app, mission, sme, eur_line("1", receipt="A"), eur_line("2", receipt="a"))

    @pytest.mark.parametrize(
        ("line", "error", "message"),
        [
            (eur_line("10", day=date(2023, 9, 1)), OutsideActionPeriod, "2023-09-01 is outside the action period"),
            (eur_line("10", cost_type="SUBSISTENCE"), IneligibleCostType, "SUBSISTENCE costs are not eligible"),
            (eur_line("0"), InvalidInput, "must be positive"),
            (
                ExpenseLine("TRAVEL", date(2023, 2, 1), Money.of("10", "USD"), "U-1", "x"),
                RateMissing,
                "no USD exchange rate is recorded for 2023-02",
            ),
        ],
    )
    def test_bad_claims_are_refused_with_the_reason(
        self, ready: tuple[GrantLedger, uuid.UUID, uuid.UUID], line: ExpenseLine, error: type[Exception], message: str
    ) -> None:
        app, mission, sme = ready
        with records_nothing(app), pytest.raises(error, match=message):
            submit(app, mission, sme, line)

    def test_sme_must_be_selected(self, ready: tuple[GrantLedger, uuid.UUID, uuid.UUID]) -> None:
        app, mission, _ = ready
        other = uuid.uuid4()
        app.register_sme(
            actor=POINTEX, sme_id=other, legal_name="Late Srl", country="IT", identifier="IT999", on=date(2023, 1, 1)
        )
        with records_nothing(app), pytest.raises(SmeNotSelected, match="Late Srl is not selected"):
            submit(app, mission, other, eur_line("10"))

    def test_claims_are_idempotent_by_id(self, ready: tuple[GrantLedger, uuid.UUID, uuid.UUID]) -> None:
        app, mission, sme = ready
        claim_id, line = uuid.uuid4(), eur_line("10")
        for _ in range(2):
            assert (
                app.submit_claim(
                    actor=POINTEX, claim_id=claim_id, sme_id=sme, mission_id=mission, lines=[line], on=date(2023, 4, 1)
                )
                == claim_id
            )
        assert len(list(app.events.get(claim_id))) == 1
        with records_nothing(app), pytest.raises(IdempotencyConflict):
            app.submit_claim(
                actor=POINTEX,
                claim_id=claim_id,
                sme_id=sme,
                mission_id=mission,
                lines=[eur_line("11")],
                on=date(2023, 4, 1),
            )

    def test_partial_decisions_are_checked(self, ready: tuple[GrantLedger, uuid.UUID, uuid.UUID]) -> None:
        app, mission, sme = ready
        claim = submit(app, mission, sme, eur_line("100"))
        for decisions, message in [
            ([LineDecision(2, eur("1"), "x")], "has lines 1 to 1"),
            ([LineDecision(1, eur("50"), " ")], "needs a reason"),
            ([LineDecision(1, eur("101"), "x")], "between EUR 0.00 and the claimed EUR 100.00"),
            ([LineDecision(1, Money.of("50", "USD"), "x")], "must be in EUR"),
            ([LineDecision(1, eur("1"), "x"), LineDecision(1, eur("2"), "y")], "two decisions"),
        ]:
            with records_nothing(app), pytest.raises(InvalidInput, match=message):
                app.approve_claim(actor=POINTEX, claim_id=claim, on=APPROVED_ON, decisions=decisions)
        with records_nothing(app), pytest.raises(Refused, match="reject the claim instead"):
            app.approve_claim(
                actor=POINTEX, claim_id=claim, on=APPROVED_ON, decisions=[LineDecision(1, eur("0"), "no receipt")]
            )


class TestCaps:
    def test_approval_is_capped_at_what_remains_of_the_mission_cap(
        self, ready: tuple[GrantLedger, uuid.UUID, uuid.UUID]
    ) -> None:
        """Invariant 3 / DOMAIN: approved = min(mission cap still available, rate x eligible costs)."""
        app, mission, sme = ready
        first = submit(app, mission, sme, eur_line("2500"))
        second = submit(app, mission, sme, eur_line("1000"))
        third = submit(app, mission, sme, eur_line("100"))
        assert app.approve_claim(actor=POINTEX, claim_id=first, on=APPROVED_ON) == eur("1750.00")
        assert app.approve_claim(actor=POINTEX, claim_id=second, on=APPROVED_ON) == eur("250.00")
        event = list(app.events.get(second))[-1]
        assert isinstance(event, Claim.Approved)
        assert event.capped_by.startswith("cap per SME of mission JPN-2023")
        with records_nothing(app), pytest.raises(SmeCapReached, match="already reached the cap per SME"):
            app.approve_claim(actor=POINTEX, claim_id=third, on=APPROVED_ON)
        assert app.sme(sme).approved_for(mission) == eur("2000")

    def test_the_cap_over_the_whole_grant_holds_across_missions(self, app: GrantLedger) -> None:
        """Invariant 3, overall: the grant's cap per SME (EUR 60,000 by rule; 1,000 here)."""
        app.sign_grant(**grant_terms(sme_support_cap=eur("1000")))
        usa = open_mission(app, code="USA-2022", rate="1.00")
        jpn = open_mission(app, code="JPN-2023", rate="1.00")
        sme = selected_sme(app, usa)
        app.select_sme(actor=POINTEX, mission_id=jpn, sme_id=sme, on=date(2022, 12, 7))
        assert app.approve_claim(actor=POINTEX, claim_id=submit(app, usa, sme, eur_line("800")), on=APPROVED_ON) == eur(
            "800"
        )
        assert app.approve_claim(actor=POINTEX, claim_id=submit(app, jpn, sme, eur_line("800")), on=APPROVED_ON) == eur(
            "200"
        )
        assert app.sme(sme).approved_total == eur("1000")

    def test_budget_line_overspend_is_refused_with_the_numbers(self, app: GrantLedger) -> None:
        """Invariant 2: committed + paid <= allocated on the FSTP line."""
        sign_alliance(app, fstp="1000.00")
        mission = open_mission(app, rate="1.00")
        a, b = selected_sme(app, mission), selected_sme(app, mission)
        app.approve_claim(actor=POINTEX, claim_id=submit(app, mission, a, eur_line("600")), on=APPROVED_ON)
        claim = submit(app, mission, b, eur_line("500"))
        with (
            records_nothing(app),
            pytest.raises(BudgetExceeded, match=r"remaining FSTP budget of POINTEX is EUR 400\.00.*needs EUR 500\.00"),
        ):
            app.approve_claim(actor=POINTEX, claim_id=claim, on=APPROVED_ON)


class TestRoles:
    def test_officers_act_only_on_their_partners_budget(self, ready: tuple[GrantLedger, uuid.UUID, uuid.UUID]) -> None:
        app, mission, sme = ready
        claim = submit(app, mission, sme, eur_line("100"))
        ntt = officer("NTT")
        for action in (
            lambda: app.approve_claim(actor=ntt, claim_id=claim, on=APPROVED_ON),
            lambda: app.reject_claim(actor=ntt, claim_id=claim, reason="x", on=APPROVED_ON),
            lambda: submit(app, mission, sme, eur_line("1"), partner="NTT"),
            lambda: app.select_sme(actor=ntt, mission_id=mission, sme_id=sme, on=APPROVED_ON),
            lambda: app.record_cost(
                actor=ntt,
                cost_id=uuid.uuid4(),
                partner="POINTEX",
                category="TRAVEL",
                amount=eur("1"),
                document_ref="D",
                description="",
                on=APPROVED_ON,
            ),
        ):
            with records_nothing(app), pytest.raises(NotAllowed, match="only POINTEX's financial officers"):
                action()

    def test_auditors_never_write(self, ready: tuple[GrantLedger, uuid.UUID, uuid.UUID]) -> None:
        app, mission, sme = ready
        claim = submit(app, mission, sme, eur_line("100"))
        with records_nothing(app), pytest.raises(NotAllowed):
            app.approve_claim(actor=AUDITOR, claim_id=claim, on=APPROVED_ON)
        with pytest.raises(NotAllowed):
            app.record_rate(actor=AUDITOR, currency="USD", month="2023-01", rate=Decimal("1.07"))
        with pytest.raises(NotAllowed):
            app.register_sme(
                actor=AUDITOR, sme_id=uuid.uuid4(), legal_name="X", country="IT", identifier="1", on=APPROVED_ON
            )


class TestSmes:
    def test_an_identifier_is_registered_once(self, app: GrantLedger) -> None:
        sign_alliance(app)
        first = uuid.uuid4()
        app.register_sme(
            actor=POINTEX, sme_id=first, legal_name="Acme Srl", country="IT", identifier="IT 0123", on=date(2022, 1, 1)
        )
        with records_nothing(app), pytest.raises(SmeAlreadyRegistered, match=f"Acme Srl \\({first}\\)"):
            app.register_sme(
                actor=officer("NTT"),
                sme_id=uuid.uuid4(),
                legal_name="Acme",
                country="IT",
                identifier="it0123".replace("it", "IT "),
                on=date(2022, 1, 2),
            )
        assert (
            app.register_sme(
                actor=POINTEX,
                sme_id=first,
                legal_name="Acme Srl",
                country="IT",
                identifier="IT 0123",
                on=date(2022, 1, 1),
            )
            == first
        )
        with pytest.raises(InvalidInput, match="ISO 3166"):
            app.register_sme(
                actor=POINTEX,
                sme_id=uuid.uuid4(),
                legal_name="B",
                country="Italy",
                identifier="IT5",
                on=date(2022, 1, 1),
            )


class TestRates:
    def test_rates_are_recorded_once_and_corrected_with_a_reason(self, app: GrantLedger) -> None:
        rate_id = app.record_rate(actor=POINTEX, currency="USD", month="2022-10", rate=Decimal("0.9764"))
        with records_nothing(app):
            assert app.record_rate(actor=POINTEX, currency="USD", month="2022-10", rate=Decimal("0.9764")) == rate_id
        with records_nothing(app), pytest.raises(RateAlreadyRecorded, match=r"already recorded as 0\.9764"):
            app.record_rate(actor=POINTEX, currency="USD", month="2022-10", rate=Decimal("0.98"))
        app.correct_rate(actor=POINTEX, currency="USD", month="2022-10", rate=Decimal("0.9765"), reason="typo")
        assert app.quote("USD", "2022-10").rate == Decimal("0.9765")
        for bad, message in [("EUR", "EUR needs no exchange rate"), ("XYZ", "not supported")]:
            with pytest.raises(InvalidInput, match=message):
                app.record_rate(actor=POINTEX, currency=bad, month="2022-10", rate=Decimal(1))
        with pytest.raises(InvalidInput, match="YYYY-MM"):
            app.record_rate(actor=POINTEX, currency="USD", month="2022-13", rate=Decimal(1))
        with pytest.raises(InvalidInput, match="must be positive"):
            app.record_rate(actor=POINTEX, currency="CAD", month="2022-10", rate=Decimal(0))

    def test_the_preview_gives_the_approval_and_records_nothing(
        self, ready: tuple[GrantLedger, uuid.UUID, uuid.UUID]
    ) -> None:
        """preview_approval: the very figures approve_claim then records (ledger.approval), the
        binding cap named; nothing recorded; only the partner's officers, only while submitted."""
        app, mission, sme = ready
        first = submit(app, mission, sme, eur_line("2500"))
        second = submit(app, mission, sme, eur_line("1000"))
        app.approve_claim(actor=POINTEX, claim_id=first, on=APPROVED_ON)
        with records_nothing(app):
            preview = app.preview_approval(actor=POINTEX, claim_id=second)
        assert (preview.approved, preview.assessment.reimbursement) == (eur("250.00"), eur("700.00"))
        assert preview.capped_by.startswith("cap per SME of mission JPN-2023")
        assert app.approve_claim(actor=POINTEX, claim_id=second, on=APPROVED_ON) == preview.approved
        with pytest.raises(NotAllowed):
            app.preview_approval(actor=officer("NTT"), claim_id=second)
        with pytest.raises(ClaimNotInState):
            app.preview_approval(actor=POINTEX, claim_id=second)

    def test_a_correction_does_not_change_past_approvals(self, ready: tuple[GrantLedger, uuid.UUID, uuid.UUID]) -> None:
        """The rate used is stored on the approval and never recomputed."""
        app, mission, sme = ready
        claim = app.submit_claim(
            actor=POINTEX,
            claim_id=uuid.uuid4(),
            sme_id=sme,
            mission_id=mission,
            on=date(2023, 4, 1),
            lines=[ExpenseLine("TRAVEL", date(2023, 3, 1), Money.of("142350", "JPY"), "J", "x")],
        )
        assert app.approve_claim(actor=POINTEX, claim_id=claim, on=APPROVED_ON) == eur("700.00")
        app.correct_rate(actor=POINTEX, currency="JPY", month="2023-03", rate=Decimal("150"), reason="wrong row")
        assert app.claim(claim).approved == eur("700.00")
        assert fstp(app).committed == eur("700.00")


class TestOwnCosts:
    def test_costs_are_converted_charged_and_corrected_by_a_new_event(self, app: GrantLedger) -> None:
        sign_alliance(app)
        app.record_rate(actor=POINTEX, currency="USD", month="2022-10", rate=Decimal("0.9764"))
        cost = app.record_cost(
            actor=POINTEX,
            cost_id=uuid.uuid4(),
            partner="POINTEX",
            category="TRAVEL",
            amount=Money.of("1000.00", "USD"),
            document_ref="UA-991",
            description="flight to AUSA",
            on=date(2022, 10, 9),
        )
        assert app.budget_line("POINTEX", "TRAVEL").spent == eur("1024.17")  # 1000 / 0.9764
        assert app.correct_cost(
            actor=POINTEX,
            cost_id=cost,
            amount=Money.of("900.00", "USD"),
            reason="refund of a bag fee",
            on=date(2022, 11, 2),
        ) == eur("921.75")
        assert app.budget_line("POINTEX", "TRAVEL").spent == eur("921.75")
        events = list(app.events.get(cost))
        assert events[-1].corrects_version == 1  # type: ignore[attr-defined]
        with pytest.raises(InvalidInput, match="computed \\(INDIRECT\\) or SME support \\(FSTP\\)"):
            app.record_cost(
                actor=POINTEX,
                cost_id=uuid.uuid4(),
                partner="POINTEX",
                category="FSTP",
                amount=eur("1"),
                document_ref="X",
                description="",
                on=date(2022, 10, 9),
            )
        with records_nothing(app), pytest.raises(OutsideActionPeriod):
            app.record_cost(
                actor=POINTEX,
                cost_id=uuid.uuid4(),
                partner="POINTEX",
                category="TRAVEL",
                amount=eur("1"),
                document_ref="Y",
                description="",
                on=date(2021, 8, 31),
            )


class TestHistory:
    def test_any_aggregate_as_it_was_at_a_version(self, ready: tuple[GrantLedger, uuid.UUID, uuid.UUID]) -> None:
        app, mission, sme = ready
        claim = submit(app, mission, sme, eur_line("100"))
        app.approve_claim(actor=POINTEX, claim_id=claim, on=APPROVED_ON)
        assert app.claim(claim, version=1).state == "submitted"
        assert app.claim(claim).state == "approved"
        past = app.aggregate_at(fstp(app).id, 1)
        assert isinstance(past, BudgetLine)
        assert past.committed == eur("0")

    def test_every_event_records_who_and_the_business_date(
        self, ready: tuple[GrantLedger, uuid.UUID, uuid.UUID]
    ) -> None:
        app, mission, sme = ready
        claim = submit(app, mission, sme, eur_line("100"))
        app.reject_claim(actor=POINTEX, claim_id=claim, reason="duplicate of paper claim", on=date(2023, 4, 9))
        event = list(app.events.get(claim))[-1]
        assert isinstance(event, Claim.Rejected)
        assert (event.actor, event.effective_date, event.reason) == (
            POINTEX,
            date(2023, 4, 9),
            "duplicate of paper claim",
        )
        assert event.timestamp.tzinfo is not None

    def test_budget_lines_are_snapshotted_and_load_the_same(self, app: GrantLedger) -> None:
        """A long-lived line loads from a snapshot plus the events after it, equal to a full replay."""
        sign_alliance(app)
        for i in range(60):
            app.transfer_budget(
                actor=COORDINATOR,
                transfer_id=uuid.uuid4(),
                from_partner="NTT",
                from_category="PERSONNEL",
                to_partner="POINTEX",
                to_category="FSTP",
                amount=eur("1.01"),
                decision_ref=f"SC-{i}",
                reason="r",
                on=date(2022, 3, 1),
            )
        line = fstp(app)
        assert line.allocated == eur("20060.60")
        assert app.snapshots is not None
        assert list(app.snapshots.get(line.id, desc=True, limit=1))
        replayed: BudgetLine = app.repository.get(line.id, version=line.version)
        assert replayed == line
