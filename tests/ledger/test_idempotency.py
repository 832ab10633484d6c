"""Creating commands are idempotent by their client-chosen id; races end in a clear conflict."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from ledger.application import MAX_ATTEMPTS, GrantLedger
from ledger.errors import ConcurrencyConflict, IdempotencyConflict
from ledger.grant import GrantAlreadySigned
from ledger.money import Money
from tests.builders import (
    COORDINATOR,
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
from tests.ledger.test_application import records_nothing

POINTEX = officer("POINTEX")


def repeat_then_vary(
    app: GrantLedger, command: Callable[..., Any], same: dict[str, Any], varied: dict[str, Any]
) -> None:
    """The same command twice records once and returns the same result; varied content is refused."""
    first = command(**same)
    with records_nothing(app):
        assert command(**same) == first
    with records_nothing(app), pytest.raises(IdempotencyConflict, match="different content"):
        command(**{**same, **varied})


class TestRepeats:
    def test_missions(self, memory_app: GrantLedger) -> None:
        """A mission's code is its identity: the same opening twice is one mission."""
        sign_alliance(memory_app)
        terms: dict[str, Any] = {
            "actor": COORDINATOR,
            "code": "CAN-2023",
            "country": "CA",
            "city": "Ottawa",
            "start": date(2023, 6, 5),
            "end": date(2023, 6, 8),
            "responsible_partner": "NIDV",
            "reimbursement_rate": Decimal("0.7"),
            "cap_per_sme": eur("2000"),
            "eligible_cost_types": ["TRAVEL", "STAND"],
            "on": date(2023, 1, 10),
        }
        repeat_then_vary(memory_app, memory_app.open_mission, terms, {"cap_per_sme": eur("2500")})
        for varied in ({"city": "Montreal"}, {"country": "US"}):
            with records_nothing(memory_app), pytest.raises(IdempotencyConflict):
                memory_app.open_mission(**{**terms, **varied})

    def test_payments(self, memory_app: GrantLedger) -> None:
        sign_alliance(memory_app)
        mission = open_mission(memory_app)
        claim = submit(memory_app, mission, selected_sme(memory_app, mission), eur_line("100"))
        memory_app.approve_claim(actor=POINTEX, claim_id=claim, on=date(2023, 4, 5))
        terms = {
            "actor": POINTEX,
            "payment_id": uuid.uuid4(),
            "claim_id": claim,
            "amount": eur("70"),
            "bank_reference": "SEPA-1",
            "on": date(2023, 4, 9),
        }
        repeat_then_vary(memory_app, memory_app.record_payment, terms, {"bank_reference": "SEPA-2"})

    def test_costs(self, memory_app: GrantLedger) -> None:
        sign_alliance(memory_app)
        terms = {
            "actor": POINTEX,
            "cost_id": uuid.uuid4(),
            "partner": "POINTEX",
            "category": "PERSONNEL",
            "amount": eur("3500"),
            "document_ref": "PAY-2022-10",
            "description": "October salary share",
            "on": date(2022, 10, 31),
        }
        repeat_then_vary(memory_app, memory_app.record_cost, terms, {"amount": Money.eur("3600")})

    def test_smes(self, memory_app: GrantLedger) -> None:
        sign_alliance(memory_app)
        terms = {
            "actor": POINTEX,
            "sme_id": uuid.uuid4(),
            "legal_name": "Tessiltech Srl",
            "country": "IT",
            "identifier": "IT01234567890",
            "on": date(2022, 5, 1),
        }
        repeat_then_vary(memory_app, memory_app.register_sme, terms, {"legal_name": "Tessiltech S.p.A."})

    def test_the_grant(self, memory_app: GrantLedger) -> None:
        first = sign_alliance(memory_app)
        with records_nothing(memory_app):
            assert sign_alliance(memory_app) == first
        with records_nothing(memory_app), pytest.raises(GrantAlreadySigned):
            memory_app.sign_grant(**grant_terms(eu_cap=eur("400000")))

    def test_the_grant_with_other_budget_lines_or_terms_is_refused(self, memory_app: GrantLedger) -> None:
        """Signing again with the same totals but other lines, title or period is not a repeat:
        it is refused, and the budget changes only by transfers."""
        sign_alliance(memory_app)
        budget = alliance_budget()
        budget["TECHTERA"]["PERSONNEL"] = budget["TECHTERA"]["PERSONNEL"] - eur("10000")
        budget["TECHTERA"]["TRAVEL"] = budget["TECHTERA"]["TRAVEL"] + eur("10000")
        same = grant_terms()
        with records_nothing(memory_app):
            memory_app.sign_grant(**same)  # exactly the first signing: a harmless repeat
        for varied in ({"budget": budget}, {"title": "Another title"}, {"period_end": date(2023, 12, 31)}):
            with records_nothing(memory_app), pytest.raises(GrantAlreadySigned, match="other terms"):
                memory_app.sign_grant(**{**same, **varied})
        assert memory_app.budget_line("TECHTERA", "TRAVEL").allocated == eur("10000.00")

    def test_an_id_used_by_another_kind_of_record_is_refused(self, memory_app: GrantLedger) -> None:
        sign_alliance(memory_app)
        mission = open_mission(memory_app)
        sme = selected_sme(memory_app, mission)
        with records_nothing(memory_app), pytest.raises(IdempotencyConflict, match="already used by a Sme"):
            memory_app.record_cost(
                actor=POINTEX,
                cost_id=sme,
                partner="POINTEX",
                category="TRAVEL",
                amount=eur("1"),
                document_ref="D-1",
                description="",
                on=date(2022, 10, 1),
            )


class TestConflicts:
    def test_a_save_that_keeps_conflicting_ends_in_a_clear_conflict_and_records_nothing(
        self, memory_app: GrantLedger, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """After MAX_ATTEMPTS reloads the command gives up with ConcurrencyConflict."""
        sign_alliance(memory_app)
        attempts: list[int] = []

        def always_conflicting(*_: object, **__: object) -> None:
            attempts.append(1)
            raise IntegrityError("simulated concurrent writer")

        monkeypatch.setattr(memory_app, "save", always_conflicting)
        with records_nothing(memory_app), pytest.raises(ConcurrencyConflict, match="Reload and try again"):
            memory_app.record_rate(actor=POINTEX, currency="USD", month="2023-01", rate=Decimal("1.07"))
        assert len(attempts) == MAX_ATTEMPTS

    def test_a_conflict_that_clears_is_retried_after_reloading(
        self, memory_app: GrantLedger, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """One lost race is invisible to the user: the command reloads, decides again and succeeds."""
        sign_alliance(memory_app)
        real_save = memory_app.save
        calls: list[int] = []

        def conflict_once(*aggregates: Any, **kwargs: Any) -> Any:
            calls.append(1)
            if len(calls) == 1:
                raise IntegrityError("simulated concurrent writer")
            return real_save(*aggregates, **kwargs)

        monkeypatch.setattr(memory_app, "save", conflict_once)
        memory_app.transfer_budget(
            actor=COORDINATOR,
            transfer_id=uuid.uuid4(),
            from_partner="NTT",
            from_category="PERSONNEL",
            to_partner="POINTEX",
            to_category="FSTP",
            amount=eur("10"),
            decision_ref="SC",
            reason="r",
            on=date(2022, 1, 1),
        )
        assert len(calls) == 2
        assert memory_app.budget_line("POINTEX", "FSTP").allocated == eur("20010")
