"""Which loads ask the snapshot table: only those of classes the ledger snapshots.

Claims, missions, receipt indexes and the like are never snapshotted, so loading one reads its
events and nothing else; a budget line or an SME (snapshotted every 50 events) is still loaded
from its sealed snapshot when there is one, and a load of any class (``aggregate_at``) still
asks, since the id may be one of those.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

from ledger.application import GrantLedger
from ledger.budget import BudgetLine
from ledger.records import TrustedSnapshots
from tests.builders import eur_line, open_mission, selected_sme, sign_alliance, submit


@contextmanager
def snapshot_lookups() -> Iterator[list[Any]]:
    """The aggregate ids the snapshot store is asked for, while the block runs."""
    asked: list[Any] = []
    latest = TrustedSnapshots.latest

    def spy(self: TrustedSnapshots, aggregate_id: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(aggregate_id)
        return latest(self, aggregate_id, *args, **kwargs)

    with patch.object(TrustedSnapshots, "latest", spy):
        yield asked


def test_aggregates_never_snapshotted_load_without_asking_for_a_snapshot(app: GrantLedger) -> None:
    sign_alliance(app)
    mission = open_mission(app)
    sme = selected_sme(app, mission)
    claim_id = submit(app, mission, sme, eur_line("100.00", receipt="R-LOAD-1"))
    with snapshot_lookups() as asked:
        claim = app.claim(claim_id)
        assert app.mission(mission).id == mission
        assert app.grant() is not None
    assert claim.id == claim_id
    assert asked == []


def test_snapshotted_aggregates_and_loads_of_any_class_still_ask(app: GrantLedger) -> None:
    sign_alliance(app)
    mission = open_mission(app)
    sme = selected_sme(app, mission)
    claim_id = submit(app, mission, sme, eur_line("100.00", receipt="R-LOAD-2"))
    line = app.budget_line("POINTEX", "FSTP")
    with snapshot_lookups() as asked:
        assert app.budget_line("POINTEX", "FSTP").id == line.id
        assert app.sme(sme).id == sme
        assert app.aggregate_at(claim_id, 1).id == claim_id
    assert asked == [line.id, sme, claim_id]
    assert isinstance(line, BudgetLine)
