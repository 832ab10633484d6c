"""Aggregates on their own, without an application or a store: guards and state changes."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from ledger.actors import Actor, require_officer_of
from ledger.budget import BudgetExceeded, BudgetLine, Transfer
from ledger.claim import Assessment, Claim, ClaimNotInState, ConvertedLine, ExpenseLine
from ledger.cost import Cost
from ledger.errors import InvalidInput, NotAllowed, NothingToCorrect
from ledger.grant import Grant, OutsideActionPeriod, eu_contribution, indirect_ceiling
from ledger.mission import Mission
from ledger.money import Money
from ledger.payment import Payment, PaymentAlreadyReversed
from ledger.rates import ExchangeRate
from ledger.receipts import ReceiptAlreadyUsed, ReceiptIndex, receipt_id
from ledger.sme import Sme, SmeCapReached
from tests.builders import PARTNERS, alliance_budget, eur

ACTOR = Actor.officer("olga", "POINTEX")
DAY = date(2023, 4, 1)


def line(allocated: str = "1000") -> BudgetLine:
    return BudgetLine.open(actor=ACTOR, partner="POINTEX", category="FSTP", allocated=eur(allocated), on=DAY)


class TestActor:
    def test_roles_are_checked(self) -> None:
        with pytest.raises(InvalidInput, match="role 'admin' is unknown"):
            Actor("x", "admin")
        with pytest.raises(InvalidInput, match="must belong to a partner"):
            Actor("x", "officer")
        with pytest.raises(InvalidInput, match="must have an id"):
            Actor(" ", "auditor")
        with pytest.raises(NotAllowed, match="officer 'olga' of POINTEX may not pay"):
            require_officer_of(ACTOR, "NTT", "pay")


class TestGrant:
    def sign(self, **overrides: object) -> Grant:
        terms: dict[str, object] = {
            "actor": Actor.coordinator("c"),
            "code": "EU-ALLIANCE",
            "title": "t",
            "total": eur("500000"),
            "funding_rate": Decimal("0.9"),
            "eu_cap": eur("450000"),
            "period_start": date(2021, 9, 1),
            "period_end": date(2023, 8, 31),
            "coordinator": "TECHTERA",
            "partners": PARTNERS,
            "budget": alliance_budget(),
            "indirect_rate": Decimal("0.07"),
            "sme_support_cap": eur("60000"),
            "decision_ref": "GA",
            "signed_on": date(2021, 9, 1),
        }
        terms.update(overrides)
        return Grant.sign(**terms)  # type: ignore[arg-type]

    def test_valid_terms_sign(self) -> None:
        grant = self.sign()
        assert grant.partners["NIDV"].country == "NL"
        grant.require_in_period(date(2023, 8, 31), "expense date")
        with pytest.raises(OutsideActionPeriod, match="2021-08-31 is outside the action period"):
            grant.require_in_period(date(2021, 8, 31), "expense date")

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"partners": []}, "at least one partner"),
            ({"partners": [*PARTNERS, PARTNERS[0]]}, "must be unique"),
            ({"coordinator": "ACME"}, "coordinator ACME is not one of the partners"),
            ({"period_end": date(2021, 9, 1)}, "must end after it starts"),
            ({"eu_cap": eur("500000.01")}, "exceeds the total eligible budget"),
            ({"total": Money.of("500000", "USD")}, "must be a positive EUR amount"),
            ({"funding_rate": Decimal("1.1")}, "between 0 and 1"),
            ({"indirect_rate": Decimal("-0.01")}, "indirect flat rate"),
            ({"budget": {"ACME": {}}}, "partners that are not in the grant: ACME"),
            ({"budget": {"NTT": {"TRAVL": eur("1")}}}, "cost category 'TRAVL' is unknown"),
            ({"budget": {"NTT": {"TRAVEL": eur("-1")}}}, "must be a non-negative EUR amount"),
        ],
    )
    def test_bad_terms_are_refused(self, overrides: dict[str, object], message: str) -> None:
        with pytest.raises(InvalidInput, match=message):
            self.sign(**overrides)

    def test_indirect_ceiling_and_eu_contribution(self) -> None:
        """INDIRECT is 7% of direct costs excluding subcontracting and FSTP; the EU pays min(cap, 90%)."""
        lines = {"PERSONNEL": eur("1000"), "SUBCONTRACTING": eur("500"), "FSTP": eur("700"), "TRAVEL": eur("100")}
        assert indirect_ceiling(lines, Decimal("0.07")) == eur("77.00")
        assert eu_contribution(eur("100000"), Decimal("0.9"), eur("450000")) == eur("90000.00")
        assert eu_contribution(eur("600000"), Decimal("0.9"), eur("450000")) == eur("450000")


class TestBudgetLine:
    def test_commit_pay_and_return(self) -> None:
        """A payment moves what it pays from committed to paid and releases nothing; its
        return moves exactly that back; a release frees a commitment."""
        budget = line("1000")
        claim = uuid.uuid4()
        budget.commit(actor=ACTOR, claim_id=claim, amount=eur("600"), on=DAY)
        with pytest.raises(BudgetExceeded, match=r"remaining FSTP budget of POINTEX is EUR 400\.00"):
            budget.commit(actor=ACTOR, claim_id=uuid.uuid4(), amount=eur("400.01"), on=DAY)
        payment = uuid.uuid4()
        budget.pay(actor=ACTOR, claim_id=claim, payment_id=payment, amount=eur("550"), on=DAY)
        assert (budget.committed, budget.paid) == (eur("50"), eur("550"))
        budget.return_payment(actor=ACTOR, claim_id=claim, payment_id=payment, amount=eur("550"), on=DAY)
        assert (budget.committed, budget.paid, budget.remaining) == (eur("600"), eur("0"), eur("400"))
        budget.release(actor=ACTOR, claim_id=claim, amount=eur("600"), reason="approval revoked: wrong SME", on=DAY)
        assert (budget.committed, budget.remaining) == (eur("0"), eur("1000"))
        assert budget.version == 5  # opened, committed, paid, returned, released: the refusal added nothing

    def test_a_return_is_never_refused(self) -> None:
        """Invariant 2 by construction: a return re-commits what was paid, so committed + paid
        stays as it was, even when the line has since been committed up to its allocation."""
        budget = line("1000")
        claim, payment = uuid.uuid4(), uuid.uuid4()
        budget.commit(actor=ACTOR, claim_id=claim, amount=eur("600"), on=DAY)
        budget.pay(actor=ACTOR, claim_id=claim, payment_id=payment, amount=eur("500"), on=DAY)
        budget.commit(actor=ACTOR, claim_id=uuid.uuid4(), amount=eur("400"), on=DAY)
        budget.return_payment(actor=ACTOR, claim_id=claim, payment_id=payment, amount=eur("500"), on=DAY)
        assert (budget.committed, budget.paid, budget.remaining) == (eur("1000"), eur("0"), eur("0"))

    def test_transfers_never_create_money(self) -> None:
        source, target = (
            line("1000"),
            BudgetLine.open(actor=ACTOR, partner="NTT", category="FSTP", allocated=eur("0"), on=DAY),
        )
        Transfer.make(
            transfer_id=uuid.uuid4(),
            actor=ACTOR,
            source=source,
            target=target,
            amount=eur("250"),
            decision_ref="SC-1",
            reason="",
            on=DAY,
        )
        assert source.allocated + target.allocated == eur("1000")
        for amount, ref, message in [
            (eur("0"), "SC", "positive EUR amount"),
            (eur("1"), " ", "reference of the consortium decision"),
        ]:
            with pytest.raises(InvalidInput, match=message):
                Transfer.make(
                    transfer_id=uuid.uuid4(),
                    actor=ACTOR,
                    source=source,
                    target=target,
                    amount=amount,
                    decision_ref=ref,
                    reason="",
                    on=DAY,
                )
        with pytest.raises(InvalidInput, match="two different lines"):
            Transfer.make(
                transfer_id=uuid.uuid4(),
                actor=ACTOR,
                source=source,
                target=source,
                amount=eur("1"),
                decision_ref="SC",
                reason="",
                on=DAY,
            )

    def test_corrections_cannot_make_own_costs_negative(self) -> None:
        budget = BudgetLine.open(actor=ACTOR, partner="POINTEX", category="TRAVEL", allocated=eur("10"), on=DAY)
        budget.charge_cost(actor=ACTOR, cost_id=uuid.uuid4(), amount=eur("15"), on=DAY)
        assert budget.remaining == eur("-5")  # own costs may exceed the line; they are facts
        with pytest.raises(InvalidInput, match="negative"):
            budget.charge_cost(actor=ACTOR, cost_id=uuid.uuid4(), amount=eur("-16"), on=DAY)


class TestClaim:
    def claim(self) -> Claim:
        lines = [ExpenseLine("TRAVEL", DAY, eur("100"), "R", "x")]
        estimate = Assessment(
            (ConvertedLine(1, eur("100"), Decimal(1), "2023-04", "identity", eur("100"), ""),), eur("100"), eur("70")
        )
        return Claim.submit(
            claim_id=uuid.uuid4(),
            actor=ACTOR,
            sme_id=uuid.uuid4(),
            mission_id=uuid.uuid4(),
            partner="POINTEX",
            lines=lines,
            estimate=estimate,
            cap_per_sme=eur("50"),
            submitted_on=DAY,
        )

    def test_requested_is_capped_and_states_follow_the_lifecycle(self) -> None:
        claim = self.claim()
        assert (claim.state, claim.requested) == ("submitted", eur("50"))
        with pytest.raises(ClaimNotInState, match="only an approved or partly paid claim can be"):
            claim.record_payment(actor=ACTOR, payment_id=uuid.uuid4(), amount=eur("1"), bank_reference="B", on=DAY)
        with pytest.raises(InvalidInput, match="before the claim's submission date"):
            claim.approve(
                actor=ACTOR,
                assessment=Assessment((), eur("0"), eur("0")),
                approved=eur("1"),
                capped_by="",
                reason="",
                on=date(2023, 3, 31),
            )
        with pytest.raises(InvalidInput, match="needs a reason"):
            claim.reject(actor=ACTOR, reason="", on=DAY)
        claim.withdraw(actor=ACTOR, reason="SME asked", on=DAY)
        with pytest.raises(ClaimNotInState, match="it is withdrawn"):
            claim.withdraw(actor=ACTOR, reason="again", on=DAY)

    def test_payments_need_an_approved_claim_a_positive_amount_and_a_reference(self) -> None:
        claim = self.claim()
        claim.approve(
            actor=ACTOR,
            assessment=Assessment((), eur("50"), eur("50")),
            approved=eur("50"),
            capped_by="",
            reason="",
            on=DAY,
        )
        for amount, ref, on, message in [
            (eur("0"), "B", DAY, "positive EUR amount"),
            (eur("10"), " ", DAY, "bank reference"),
            (eur("10"), "B", date(2023, 3, 1), "before the claim's approval date"),
        ]:
            with pytest.raises(InvalidInput, match=message):
                claim.record_payment(actor=ACTOR, payment_id=uuid.uuid4(), amount=amount, bank_reference=ref, on=on)
        payment = uuid.uuid4()
        claim.record_payment(actor=ACTOR, payment_id=payment, amount=eur("50"), bank_reference="B", on=DAY)
        with pytest.raises(ClaimNotInState, match="is not a live payment"):
            claim.reverse_payment(actor=ACTOR, payment_id=uuid.uuid4(), reason="x", on=DAY)
        with pytest.raises(InvalidInput, match="needs a reason"):
            claim.reverse_payment(actor=ACTOR, payment_id=payment, reason=" ", on=DAY)


class TestIndexesAndOthers:
    def test_receipts_are_held_once_and_released_only_by_their_holder(self) -> None:
        holder, other = uuid.uuid4(), uuid.uuid4()
        index = ReceiptIndex.declare_new(actor=ACTOR, reference="INV-1", holder_kind="claim", holder_id=holder, on=DAY)
        assert index.id == receipt_id(" inv-1 ")
        with pytest.raises(ReceiptAlreadyUsed, match="'INV-1' is already declared on claim"):
            index.declare_again(actor=ACTOR, holder_kind="claim", holder_id=other, on=DAY, line="line 1")
        index.release(actor=ACTOR, holder_id=other, reason="not the holder", on=DAY)
        assert index.holder_id == holder
        index.release(actor=ACTOR, holder_id=holder, reason="withdrawn", on=DAY)
        index.declare_again(actor=ACTOR, holder_kind="cost", holder_id=other, on=DAY, line="line 1")
        assert (index.holder_kind, index.holder_id) == ("cost", other)

    def test_sme_caps_guard_every_approval(self) -> None:
        sme = Sme.register(sme_id=uuid.uuid4(), actor=ACTOR, legal_name="Acme", country="IT", identifier="it 1", on=DAY)
        mission = uuid.uuid4()
        sme.select(actor=ACTOR, mission_id=mission, on=DAY)
        sme.select(actor=ACTOR, mission_id=mission, on=DAY)  # selecting twice changes nothing
        assert sme.version == 2
        sme.approve_support(
            actor=ACTOR,
            claim_id=uuid.uuid4(),
            mission_id=mission,
            amount=eur("1500"),
            mission_cap=eur("2000"),
            overall_cap=eur("60000"),
            on=DAY,
        )
        with pytest.raises(SmeCapReached, match=r"exceed the mission's cap per SME of EUR 2,000\.00"):
            sme.approve_support(
                actor=ACTOR,
                claim_id=uuid.uuid4(),
                mission_id=mission,
                amount=eur("500.01"),
                mission_cap=eur("2000"),
                overall_cap=eur("60000"),
                on=DAY,
            )
        with pytest.raises(SmeCapReached, match=r"exceed the cap per SME of EUR 1,600\.00"):
            sme.approve_support(
                actor=ACTOR,
                claim_id=uuid.uuid4(),
                mission_id=mission,
                amount=eur("200"),
                mission_cap=eur("2000"),
                overall_cap=eur("1600"),
                on=DAY,
            )
        for name, country, identifier, message in [
            (" ", "IT", "1", "legal name"),
            ("A", "it", "1", "ISO 3166"),
            ("A", "IT", " ", "VAT"),
        ]:
            with pytest.raises(InvalidInput, match=message):
                Sme.register(
                    sme_id=uuid.uuid4(), actor=ACTOR, legal_name=name, country=country, identifier=identifier, on=DAY
                )

    def test_missions_check_their_terms(self) -> None:
        def open_(**overrides: object) -> Mission:
            terms: dict[str, object] = {
                "actor": ACTOR,
                "code": "USA-2022",
                "country": "US",
                "city": "Washington",
                "start": date(2022, 10, 10),
                "end": date(2022, 10, 12),
                "responsible_partner": "TECHTERA",
                "reimbursement_rate": Decimal("0.7"),
                "cap_per_sme": eur("2000"),
                "eligible_cost_types": ["TRAVEL", "STAND", "TRAVEL"],
                "opened_on": DAY,
            }
            terms.update(overrides)
            return Mission.open(**terms)  # type: ignore[arg-type]

        assert open_().eligible_cost_types == ["STAND", "TRAVEL"]
        cases: list[tuple[dict[str, object], str]] = [
            ({"code": " "}, "needs a code"),
            ({"end": date(2022, 10, 9)}, "ends"),
            ({"cap_per_sme": eur("0")}, "positive EUR"),
            ({"eligible_cost_types": []}, "at least one eligible cost type"),
            ({"eligible_cost_types": ["CATERING"]}, "cost type 'CATERING' is unknown"),
            ({"reimbursement_rate": Decimal("0")}, "must be positive"),
        ]
        for overrides, message in cases:
            with pytest.raises(InvalidInput, match=message):
                open_(**overrides)

    def test_payments_reverse_once(self) -> None:
        payment = Payment.record(
            payment_id=uuid.uuid4(),
            actor=ACTOR,
            claim_id=uuid.uuid4(),
            partner="POINTEX",
            amount=eur("10"),
            bank_reference=" B-1 ",
            value_date=DAY,
        )
        assert payment.bank_reference == "B-1"
        payment.reverse(actor=ACTOR, reason="bank return", on=DAY)
        with pytest.raises(PaymentAlreadyReversed):
            payment.reverse(actor=ACTOR, reason="again", on=DAY)

    def test_costs_are_corrected_at_their_original_rate(self) -> None:
        cost = Cost.record(
            cost_id=uuid.uuid4(),
            actor=ACTOR,
            partner="POINTEX",
            category="TRAVEL",
            amount=Money.of("1000", "USD"),
            eur=eur("1024.17"),
            rate=Decimal("0.9764"),
            rate_month="2022-10",
            rate_source="InforEuro",
            document_ref="D",
            description="",
            cost_date=DAY,
        )
        assert cost.correct(actor=ACTOR, amount=Money.of("0", "USD"), reason="cancelled", on=DAY) == eur("-1024.17")
        for amount, reason, message in [
            (Money.of("0", "USD"), "x", "already"),
            (eur("1"), "x", "keeps the cost's currency USD"),
            (Money.of("-1", "USD"), "x", "cannot be negative"),
            (Money.of("5", "USD"), " ", "needs a reason"),
        ]:
            with pytest.raises(InvalidInput, match=message):
                cost.correct(actor=ACTOR, amount=amount, reason=reason, on=DAY)
        with pytest.raises(InvalidInput, match="positive"):
            Cost.record(
                cost_id=uuid.uuid4(),
                actor=ACTOR,
                partner="P",
                category="TRAVEL",
                amount=eur("0"),
                eur=eur("0"),
                rate=Decimal(1),
                rate_month="2023-01",
                rate_source="identity",
                document_ref="D",
                description="",
                cost_date=DAY,
            )

    def test_rate_corrections_name_what_they_correct(self) -> None:
        xr = ExchangeRate.record(
            actor=ACTOR, currency="IDR", month="2023-02", rate=Decimal("16234.5"), source="InforEuro"
        )
        xr.correct(actor=ACTOR, rate=Decimal("16243.5"), source="InforEuro", reason="digits swapped")
        event = xr.collect_events()[-1]
        assert isinstance(event, ExchangeRate.Corrected)
        assert (event.corrects_version, event.effective_date) == (1, date(2023, 2, 1))
        with pytest.raises(NothingToCorrect, match=r"already 16243\.5 \(InforEuro\)"):
            xr.correct(actor=ACTOR, rate=Decimal("16243.5"), source="InforEuro", reason="again")
