"""Approvals racing a lock of their period (invariant 9 under concurrency), on every store: each
approval either lands before the lock, and so is in what the locked statement shows, or is
refused; none lands in the period after it was locked."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date
from functools import partial
from uuid import UUID

from eventsourcing.domain import Snapshot

from ledger.application import GrantLedger
from ledger.budget import BudgetLine
from ledger.money import Money
from ledger.statement import PeriodLocked
from ledger.storage import open_ledger
from tests.builders import (
    COORDINATOR,
    PERIOD_END,
    PERIOD_START,
    eur_line,
    officer,
    open_mission,
    selected_sme,
    sign_alliance,
    submit,
)
from tests.ledger._race import RACE_TIMEOUT, SaveGate, race
from tests.ledger.test_concurrency import claims_of_different_smes, contenders

APPROVALS = 5
SECOND = (date(2022, 9, 1), PERIOD_END)
APPROVED_ON = date(2023, 8, 30)  # in period 2
LOCKED_ON = date(2023, 9, 1)


def approve(app: GrantLedger, claim_id: UUID, index: int) -> Money | None:
    return app.approve_claim(actor=officer("POINTEX", f"officer.pointex.{index}"), claim_id=claim_id, on=APPROVED_ON)


def lock(app: GrantLedger) -> Money | None:
    app.lock_statement(
        actor=officer("POINTEX", "officer.pointex.lock"), partner="POINTEX", number=2, reason="", on=LOCKED_ON
    )
    return None


def test_approvals_racing_a_lock_land_before_it_or_are_refused(any_store_url: str, app: GrantLedger) -> None:
    claims = claims_of_different_smes(app, APPROVALS)
    app.set_reporting_periods(
        actor=COORDINATOR, periods=[(PERIOD_START, date(2022, 8, 31)), SECOND], reason="GA", on=PERIOD_START
    )
    with contenders(any_store_url, app, APPROVALS + 1) as apps:
        gate = SaveGate(threading.Barrier(APPROVALS + 1, timeout=RACE_TIMEOUT))
        tasks = [partial(approve, apps[i], claim, i) for i, claim in enumerate(claims)]
        tasks.append(partial(lock, apps[-1]))
        with gate.installed(*apps):
            outcomes = race(tasks)
    assert outcomes[-1].kind == "ok", outcomes[-1].error
    kinds = Counter(outcome.kind for outcome in outcomes[:-1])
    assert set(kinds) <= {"ok", "PeriodLocked"}, kinds
    assert sum(kinds.values()) == APPROVALS
    if not any_store_url.startswith("memory"):
        assert gate.first_saves_refused >= 1, "the racers' first saves did not collide"
    fresh = open_ledger(any_store_url) if not any_store_url.startswith("memory") else app
    try:
        line_events = list(fresh.events.get(fresh.budget_line("POINTEX", "FSTP").id))
        closed_at = next(i for i, e in enumerate(line_events) if isinstance(e, BudgetLine.PeriodClosed))
        committed = [i for i, e in enumerate(line_events) if isinstance(e, BudgetLine.Committed)]
        assert all(i < closed_at for i in committed), "an approval dated in period 2 landed after its lock"
        assert len(committed) == kinds["ok"]
        for outcome, claim in zip(outcomes[:-1], claims, strict=True):
            assert (fresh.claim(claim).approved is not None) == (outcome.kind == "ok")
            if outcome.kind == "PeriodLocked":
                assert isinstance(outcome.error, PeriodLocked)
                assert "period 2" in str(outcome.error)
    finally:
        if fresh is not app:
            fresh.close()


def test_a_line_with_closed_periods_survives_its_snapshots(memory_app: GrantLedger) -> None:
    """BudgetLine is snapshotted every 50 events: a closed period must load from a snapshot."""
    sign_alliance(memory_app)
    memory_app.set_reporting_periods(
        actor=COORDINATOR, periods=[(PERIOD_START, date(2022, 8, 31)), SECOND], reason="GA", on=PERIOD_START
    )
    mission = open_mission(memory_app, rate="1.00", cap="10000.00")
    memory_app.lock_statement(actor=officer("POINTEX"), partner="POINTEX", number=1, reason="", on=date(2022, 9, 5))
    for _ in range(55):
        claim = submit(memory_app, mission, selected_sme(memory_app, mission), eur_line("1.00"))
        memory_app.approve_claim(actor=officer("POINTEX"), claim_id=claim, on=date(2023, 4, 5))
    line_id = memory_app.budget_line("POINTEX", "FSTP").id
    assert memory_app.snapshots is not None
    snapshots = list(memory_app.snapshots.get(line_id))
    assert snapshots, "no snapshot was taken"
    snapshot = snapshots[-1]
    assert isinstance(snapshot, Snapshot)
    line = snapshot.mutate(None)
    assert isinstance(line, BudgetLine)
    assert [(p.number, p.end) for p in line.closed_periods] == [(1, date(2022, 8, 31))]
    assert list(line.submitted_periods) == []
