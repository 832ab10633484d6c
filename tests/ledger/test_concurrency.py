"""Concurrency: officers, processes and start-ups racing each other never break an invariant.

Every race here is made as hostile as it can be. Racers start together (a barrier), and a
save gate (tests/ledger/_race.py) holds each racer's FIRST save until all of them have
decided, so all of them decide on the same state and try to save on top of it. Without
optimistic concurrency every one of those saves would succeed (an overspent line, a cap
passed, a receipt funded twice, a claim recorded twice); without the retry in
GrantLedger._write the losers would fail with the store's IntegrityError. The tests count
the refused first saves to prove the race really happened.

ConcurrencyConflict is never expected, so the exact counts leave no room for it: a racer's
save is refused only when another racer committed on the same aggregate since it last read,
and each racer commits at most once, so a racer needs at most one attempt more than there
are successful approvals (7 for the budget line race), which MAX_ATTEMPTS (8) allows.
"""

from __future__ import annotations

import multiprocessing
import threading
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

import pytest

from ledger.application import MAX_ATTEMPTS, GrantLedger
from ledger.budget import BudgetLine
from ledger.claim import Claim, ClaimState, UnknownClaim
from ledger.grant import Grant
from ledger.money import Money, money_sum
from ledger.receipts import ReceiptIndex, receipt_id
from ledger.sme import Sme
from ledger.storage import open_ledger
from tests.builders import eur, eur_line, officer, open_mission, selected_sme, sign_alliance, submit
from tests.ledger._race import (
    APPROVED_ON,
    RACE_TIMEOUT,
    Outcome,
    Report,
    SaveGate,
    approve_in_process,
    race,
    run_processes,
    start_up_in_process,
)

if TYPE_CHECKING:
    from multiprocessing.queues import Queue

    from ledger.claim import ExpenseLine
    from tests.conftest import PostgresSchema

PARTNER = "POINTEX"
RACERS = 8
CLAIM = "500.00"
FSTP_ALLOCATED = "3000.00"  # room for exactly 6 of the 8 claims
RACE_MISSED = "the racers' first saves did not all collide, so this run proved nothing about concurrency"
WHY_NO_CONFLICT = (
    "a racer is refused at most once per approval committed by another racer, so it may need one attempt "
    "more than there are successful approvals; MAX_ATTEMPTS must allow that"
)


@contextmanager
def contenders(url: str, app: GrantLedger, count: int) -> Iterator[list[GrantLedger]]:
    """One application instance per racer, as separate officers' servers would have.

    The in-memory store lives inside one instance, so there the racers must share it.
    """
    if url.startswith("memory"):
        yield [app] * count
        return
    apps: list[GrantLedger] = []
    try:
        for _ in range(count):
            apps.append(open_ledger(url))
        yield apps
    finally:
        for opened in apps:
            opened.close()


def approve(app: GrantLedger, claim_id: UUID, index: int = 0) -> Money:
    """An approval by the index-th officer of the mission's partner."""
    return app.approve_claim(actor=officer(PARTNER, f"officer.pointex.{index}"), claim_id=claim_id, on=APPROVED_ON)


def submit_lines(app: GrantLedger, claim_id: UUID, sme_id: UUID, mission_id: UUID, lines: list[ExpenseLine]) -> UUID:
    """A claim recorded by the partner's officer with a client-chosen id."""
    return app.submit_claim(
        actor=officer(PARTNER), claim_id=claim_id, sme_id=sme_id, mission_id=mission_id, lines=lines, on=APPROVED_ON
    )


def approve_all(apps: Sequence[GrantLedger], claim_ids: Sequence[UUID]) -> tuple[list[Outcome[Money]], SaveGate]:
    """Race one approval per claim, the i-th on the i-th instance, behind a save gate."""
    gate = SaveGate(threading.Barrier(len(claim_ids), timeout=RACE_TIMEOUT))
    tasks = [partial(approve, app, claim_id, i) for i, (app, claim_id) in enumerate(zip(apps, claim_ids, strict=True))]
    with gate.installed(*apps):
        outcomes = race(tasks)
    return outcomes, gate


def kinds(outcomes: Sequence[Outcome[Money]] | Sequence[Outcome[UUID]]) -> Counter[str]:
    return Counter(outcome.kind for outcome in outcomes)


def claims_of_different_smes(app: GrantLedger, count: int) -> list[UUID]:
    """A grant whose POINTEX FSTP line holds 3,000.00, and ``count`` EUR 500 claims of as many SMEs."""
    sign_alliance(app, fstp=FSTP_ALLOCATED)
    mission = open_mission(app, rate="1.00", cap="10000.00")
    return [submit(app, mission, selected_sme(app, mission), eur_line(CLAIM)) for _ in range(count)]


def assert_fstp_books(app: GrantLedger, approved: dict[UUID, Money], expected_committed: str) -> None:
    """The FSTP line committed exactly the approvals that succeeded: none lost, none extra."""
    line = app.budget_line(PARTNER, "FSTP")
    assert line.committed == eur(expected_committed)
    assert line.committed == money_sum(list(approved.values()))
    assert line.paid == eur("0")
    assert line.committed + line.paid <= line.allocated  # invariant 2
    commitments = [event for event in app.events.get(line.id) if isinstance(event, BudgetLine.Committed)]
    assert {event.claim_id: event.amount for event in commitments} == approved
    assert len(commitments) == len(approved)


def assert_claim_states(app: GrantLedger, approved: Sequence[UUID], refused: Sequence[UUID]) -> None:
    """Approved claims carry their approval; refused ones recorded nothing and are still pending."""
    for claim_id in approved:
        claim = app.claim(claim_id)
        assert claim.state == ClaimState.APPROVED
        assert claim.approved_amount == eur(CLAIM)
    for claim_id in refused:
        assert app.claim(claim_id).state == ClaimState.SUBMITTED


class TestApprovalsRacingOnABudgetLine:
    def test_concurrent_officers_never_overspend_the_fstp_line(self, any_store_url: str, app: GrantLedger) -> None:
        """Eight officers approve eight EUR 500 claims at once against a EUR 3,000 FSTP line:
        exactly six are committed, exactly two are refused as BudgetExceeded, none needs more
        retries than allowed, and the line holds exactly the six approvals (invariant 2)."""
        claim_ids = claims_of_different_smes(app, RACERS)

        with contenders(any_store_url, app, RACERS) as apps:
            outcomes, gate = approve_all(apps, claim_ids)

        assert kinds(outcomes) == Counter({"ok": 6, "BudgetExceeded": 2}), [o.error for o in outcomes]
        approved = {c: o.value for c, o in zip(claim_ids, outcomes, strict=True) if o.value is not None}
        assert all(amount == eur(CLAIM) for amount in approved.values())
        assert_fstp_books(app, approved, expected_committed=FSTP_ALLOCATED)
        refused = [c for c, o in zip(claim_ids, outcomes, strict=True) if o.error is not None]
        assert_claim_states(app, list(approved), refused)
        for claim_id in claim_ids:
            sme = app.sme(app.claim(claim_id).sme_id)
            assert sme.approved_total == (eur(CLAIM) if claim_id in approved else eur("0"))
        assert gate.first_saves_refused == RACERS - 1, RACE_MISSED
        assert len(approved) + 1 <= MAX_ATTEMPTS, WHY_NO_CONFLICT


class TestApprovalsRacingOnAnSmeCap:
    def test_concurrent_approvals_for_one_sme_stop_at_the_mission_cap(
        self, any_store_url: str, app: GrantLedger
    ) -> None:
        """Six officers approve six EUR 500 claims of ONE SME at once on a mission capped at
        EUR 2,000 per SME: exactly four pass, exactly two are refused as SmeCapReached, and
        the SME has exactly EUR 2,000 approved on the mission (invariant 3)."""
        racers = 6
        sign_alliance(app)
        mission = open_mission(app, rate="1.00", cap="2000.00")
        sme_id = selected_sme(app, mission)
        claim_ids = [submit(app, mission, sme_id, eur_line(CLAIM)) for _ in range(racers)]

        with contenders(any_store_url, app, racers) as apps:
            outcomes, gate = approve_all(apps, claim_ids)

        assert kinds(outcomes) == Counter({"ok": 4, "SmeCapReached": 2}), [o.error for o in outcomes]
        approved = {c: o.value for c, o in zip(claim_ids, outcomes, strict=True) if o.value is not None}
        sme = app.sme(sme_id)
        assert sme.approved_for(mission) == eur("2000.00")
        assert sme.approved_total == eur("2000.00")
        supports = [event for event in app.events.get(sme_id) if isinstance(event, Sme.SupportApproved)]
        assert {event.claim_id: event.amount for event in supports} == approved
        assert_fstp_books(app, approved, expected_committed="2000.00")
        refused = [c for c, o in zip(claim_ids, outcomes, strict=True) if o.error is not None]
        assert_claim_states(app, list(approved), refused)
        assert gate.first_saves_refused == racers - 1, RACE_MISSED


class TestPaymentsRacingOnOneClaim:
    def test_concurrent_officers_never_overpay_a_claim(self, any_store_url: str, app: GrantLedger) -> None:
        """Four officers each record EUR 300 paid on ONE claim approved at EUR 700, at once:
        exactly two are recorded, the other two are refused as Overpayment (100 outstanding),
        and the claim and its line hold exactly the two payments (paid <= approved, invariant 4)."""
        racers = 4
        sign_alliance(app)
        mission = open_mission(app, rate="0.70")
        claim_id = submit(app, mission, selected_sme(app, mission), eur_line("1000"))
        approve(app, claim_id)

        def pay(ledger: GrantLedger, index: int) -> UUID:
            return ledger.record_payment(
                actor=officer(PARTNER, f"officer.pointex.{index}"),
                payment_id=uuid.uuid4(),
                claim_id=claim_id,
                amount=eur("300"),
                bank_reference=f"SEPA-{index}",
                on=APPROVED_ON,
            )

        with contenders(any_store_url, app, racers) as apps:
            gate = SaveGate(threading.Barrier(racers, timeout=RACE_TIMEOUT))
            with gate.installed(*apps):
                outcomes = race([partial(pay, ledger, i) for i, ledger in enumerate(apps)])

        assert kinds(outcomes) == Counter({"ok": 2, "Overpayment": 2}), [o.error for o in outcomes]
        claim = app.claim(claim_id)
        assert (claim.state, claim.paid, claim.outstanding) == ("partly_paid", eur("600"), eur("100"))
        assert set(claim.payments) == {str(o.value) for o in outcomes if o.value is not None}
        line = app.budget_line(PARTNER, "FSTP")
        assert (line.committed, line.paid) == (eur("100"), eur("600"))
        assert gate.first_saves_refused == racers - 1, RACE_MISSED


@pytest.mark.postgres
class TestApprovalsRacingInSeveralProcesses:
    def test_processes_never_overspend_the_fstp_line(self, pg_schema: PostgresSchema) -> None:
        """Eight OS processes, each with its own ledger on one PostgreSQL schema, approve eight
        EUR 500 claims at once against a EUR 3,000 FSTP line: exactly six are committed, two
        are refused as BudgetExceeded, and the line holds exactly the six (invariant 2)."""
        app = open_ledger(pg_schema.url)
        try:
            claim_ids = claims_of_different_smes(app, RACERS)
            ctx = multiprocessing.get_context("spawn")
            start = ctx.Barrier(RACERS, timeout=RACE_TIMEOUT)
            gate = ctx.Barrier(RACERS, timeout=RACE_TIMEOUT)
            reports: Queue[Report] = ctx.Queue()
            argsets = [(pg_schema.url, str(c), i, start, gate, reports) for i, c in enumerate(claim_ids)]

            results = run_processes(ctx, approve_in_process, argsets, reports)

            assert Counter(r.kind for r in results) == Counter({"ok": 6, "BudgetExceeded": 2}), results
            approved = {claim_ids[r.racer]: eur(r.value) for r in results if r.kind == "ok"}
            assert_fstp_books(app, approved, expected_committed=FSTP_ALLOCATED)
            refused = [claim_ids[r.racer] for r in results if r.kind != "ok"]
            assert_claim_states(app, list(approved), refused)
            assert sum(r.first_save_refused for r in results) == RACERS - 1, RACE_MISSED
        finally:
            app.close()


class TestConcurrentStartUp:
    STARTERS = 5

    def start_together(self, url: str) -> list[Report]:
        ctx = multiprocessing.get_context("spawn")
        start = ctx.Barrier(self.STARTERS, timeout=RACE_TIMEOUT)
        reports: Queue[Report] = ctx.Queue()
        argsets = [(url, i, start, reports) for i in range(self.STARTERS)]
        return run_processes(ctx, start_up_in_process, argsets, reports)

    def assert_started_once(self, url: str, reports: Sequence[Report]) -> None:
        """Every process opened the store and signed; the store has one grant and works."""
        assert [r.kind for r in reports] == ["ok"] * self.STARTERS, reports
        assert {r.value for r in reports} == {str(Grant.ID)}
        app = open_ledger(url)
        try:
            assert len(list(app.events.get(Grant.ID))) == 1
            mission = open_mission(app, rate="1.00", cap="2000.00")
            claim_id = submit(app, mission, selected_sme(app, mission), eur_line(CLAIM))
            assert approve(app, claim_id) == eur(CLAIM)
            assert app.budget_line(PARTNER, "FSTP").committed == eur(CLAIM)
        finally:
            app.close()

    @pytest.mark.postgres
    def test_processes_create_a_fresh_postgres_schema_together(self, pg_schema: PostgresSchema) -> None:
        """Five processes open the ledger on the same fresh PostgreSQL schema at the same moment:
        none fails on the schema or table creation, and the store works afterwards."""
        reports = self.start_together(pg_schema.url)
        self.assert_started_once(pg_schema.url, reports)

    def test_processes_create_a_fresh_sqlite_file_together(self, tmp_path: Path) -> None:
        """Five processes open the ledger on the same new SQLite file at the same moment: none
        fails on the table creation (or on 'database is locked'), and the store works afterwards."""
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
        reports = self.start_together(url)
        self.assert_started_once(url, reports)


class TestReceiptsRacing:
    def test_one_receipt_declared_by_two_claims_at_once_is_funded_once(
        self, any_store_url: str, app: GrantLedger
    ) -> None:
        """Two officers submit two different claims declaring the same receipt (spelled
        differently) at the same moment: exactly one is recorded, the other is refused as
        ReceiptAlreadyUsed and records nothing (invariant 5)."""
        sign_alliance(app)
        mission = open_mission(app, rate="1.00", cap="2000.00")
        smes = [selected_sme(app, mission), selected_sme(app, mission)]
        claim_ids = [uuid.uuid4(), uuid.uuid4()]
        references = ["INV 2023/0042", "  inv 2023/0042 "]

        with contenders(any_store_url, app, 2) as apps:
            gate = SaveGate(threading.Barrier(2, timeout=RACE_TIMEOUT))
            tasks = [
                partial(submit_lines, a, c, s, mission, [eur_line(CLAIM, receipt=r)])
                for a, c, s, r in zip(apps, claim_ids, smes, references, strict=True)
            ]
            with gate.installed(*apps):
                outcomes = race(tasks)

        assert kinds(outcomes) == Counter({"ok": 1, "ReceiptAlreadyUsed": 1}), [o.error for o in outcomes]
        winner = next(o.value for o in outcomes if o.value is not None)
        loser = next(c for c in claim_ids if c != winner)
        assert app.claim(winner).state == ClaimState.SUBMITTED
        with pytest.raises(UnknownClaim):
            app.claim(loser)
        index_id = receipt_id(references[0])
        assert receipt_id(references[1]) == index_id
        held: object = app.repository.get(index_id)
        assert isinstance(held, ReceiptIndex)
        assert held.holder_id == winner
        assert len(list(app.events.get(index_id))) == 1
        assert gate.first_saves_refused == 1, RACE_MISSED


class TestIdempotencyRacing:
    def test_the_same_claim_submitted_twice_at_once_is_recorded_once(
        self, any_store_url: str, app: GrantLedger
    ) -> None:
        """Two officers (or one client retrying) submit the SAME claim id with the same content
        at the same moment: both get that id back, and exactly one Claim.Submitted exists."""
        sign_alliance(app)
        mission = open_mission(app, rate="1.00", cap="2000.00")
        sme_id = selected_sme(app, mission)
        claim_id = uuid.uuid4()
        line = eur_line(CLAIM, receipt="HOTEL-TOKYO-0315")

        with contenders(any_store_url, app, 2) as apps:
            gate = SaveGate(threading.Barrier(2, timeout=RACE_TIMEOUT))
            tasks = [partial(submit_lines, a, claim_id, sme_id, mission, [line]) for a in apps]
            with gate.installed(*apps):
                outcomes = race(tasks)

        assert kinds(outcomes) == Counter({"ok": 2}), [o.error for o in outcomes]
        assert [o.value for o in outcomes] == [claim_id, claim_id]
        events = list(app.events.get(claim_id))
        assert len(events) == 1
        assert isinstance(events[0], Claim.Submitted)
        assert len(list(app.events.get(receipt_id("HOTEL-TOKYO-0315")))) == 1
        assert gate.first_saves_refused == 1, RACE_MISSED
