"""check_snapshots: every stored snapshot against its seal and the events it summarises.

Rows are put in the snapshot store through its own recorder (as an attacker with write
access could put any row there), on every store, the in-memory one included.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import StoredEvent

from ledger.application import GrantLedger
from ledger.budget import BudgetLine, line_id
from ledger.records import Seal, SnapshotMapper, TrustedSnapshots, derive
from ledger.storage import open_ledger
from projections.snapshots import census, check_snapshots
from tests.builders import COORDINATOR, eur, sign_alliance

SNAPSHOT_TOPIC = "eventsourcing.domain:Snapshot"


@pytest.fixture
def ledger(any_store_url: str) -> Iterator[GrantLedger]:
    """The grant signed, and POINTEX's FSTP line moved 50 times (snapshotted at version 50)."""
    app = open_ledger(any_store_url)
    sign_alliance(app)
    for i in range(25):  # each transfer is an event on both lines: FSTP reaches version 51
        for source, target in (("FSTP", "TRAVEL"), ("TRAVEL", "FSTP")):
            app.transfer_budget(
                actor=COORDINATOR,
                transfer_id=uuid.uuid4(),
                from_partner="POINTEX",
                from_category=source,
                to_partner="POINTEX",
                to_category=target,
                amount=eur("1.00"),
                decision_ref=f"SC-{i}-{source}",
                reason="r",
                on=app.grant().period_start,
            )
    try:
        yield app
    finally:
        app.close()


def store(app: GrantLedger) -> TrustedSnapshots:
    assert isinstance(app.snapshots, TrustedSnapshots)
    return app.snapshots


def fstp() -> uuid.UUID:
    return line_id("POINTEX", "FSTP")


def put(app: GrantLedger, stored: StoredEvent) -> None:
    store(app).recorder.insert_events([stored])


def genuine(app: GrantLedger, version: int = 50) -> StoredEvent:
    [stored] = store(app).recorder.select_events(fstp(), gt=version - 1, lte=version)
    return stored


def event(app: GrantLedger, version: int) -> StoredEvent:
    """The store's record of the FSTP line's event at ``version``."""
    [stored] = app.events.recorder.select_events(fstp(), gt=version - 1, lte=version)
    return stored


class TestCheckSnapshots:
    def test_genuine_snapshots_are_clean_and_counted(self, ledger: GrantLedger) -> None:
        """Both lines' snapshots at version 50 match their events and are sealed with our key."""
        report = check_snapshots(ledger)
        assert (report.ok, report.checked, report.seals[Seal.OURS]) == (True, 2, 2)
        assert "all 2 snapshots match the events they summarise" in str(report)
        assert census(ledger) == (2, report.seals)

    def test_a_snapshot_for_an_aggregate_without_events_is_bad(self, ledger: GrantLedger) -> None:
        """A forged row under an id that has no events is named, with what it claims to be."""
        nobody = uuid.uuid4()
        forged = genuine(ledger)
        put(ledger, StoredEvent(nobody, 50, forged.topic, forged.state))
        [finding] = check_snapshots(ledger).findings
        assert (finding.aggregate_type, finding.aggregate_id, finding.version) == ("unknown aggregate", nobody, 50)
        assert "seal does not match" in finding.problem
        assert "no event of this aggregate exists (the snapshot claims a BudgetLine)" in finding.problem

    def test_a_snapshot_past_the_last_event_is_bad(self, ledger: GrantLedger) -> None:
        """A row at a version no event reached: named, with the aggregate's last version."""
        put(ledger, StoredEvent(fstp(), 90, SNAPSHOT_TOPIC, genuine(ledger).state))
        [finding] = check_snapshots(ledger).findings
        assert (finding.aggregate_type, finding.version) == ("BudgetLine", 90)
        assert "the aggregate's last event is version 51" in finding.problem

    def test_an_unreadable_row_is_bad(self, ledger: GrantLedger) -> None:
        """Bytes that are no snapshot at all are named as unreadable, not a crash."""
        put(ledger, StoredEvent(fstp(), 51, SNAPSHOT_TOPIC, b"\x00garbage"))
        [finding] = check_snapshots(ledger).findings
        assert finding.version == 51
        assert "it cannot be read" in finding.problem

    @pytest.mark.parametrize("lies", [False, True])
    def test_another_keys_snapshot_is_bad_only_if_it_lies(self, ledger: GrantLedger, lies: bool) -> None:
        """Sealed with another key, a snapshot is never used by the ledger; verify still compares
        it with the events: a true one is fine, one with a raised allocation is named."""
        other = SnapshotMapper(ledger.mapper.transcoder, secret=derive(b"another key", "snapshot-seal/v1"))
        line: BudgetLine = ledger.repository.get(fstp(), version=51)
        if lies:
            line.allocated = eur("99999.00")
        put(ledger, other.sealed(Snapshot.take(line), event(ledger, 51)))
        report = check_snapshots(ledger)
        assert report.seals[Seal.FOREIGN] == 1
        assert [(f.aggregate_id, f.version) for f in report.findings] == ([(fstp(), 51)] if lies else [])
        if lies:
            assert "allocated: EUR 99,999.00 in the snapshot" in report.findings[0].problem
        assert ledger.budget_line("POINTEX", "FSTP").allocated != eur("99999.00")

    def test_a_snapshot_sealed_with_another_stores_event_is_bad(self, ledger: GrantLedger) -> None:
        """Sealed with our key and true to the events, but sealed with another record of the
        event at its version (as another store that shares the key holds it): named, and the
        line loads from its events."""
        line: BudgetLine = ledger.repository.get(fstp(), version=51)
        elsewhere = replace(event(ledger, 51), state=event(ledger, 51).state + b" ")
        put(ledger, store(ledger).mapper.sealed(Snapshot.take(line), elsewhere))
        report = check_snapshots(ledger)
        assert report.seals[Seal.OURS] == 3
        [finding] = report.findings
        assert (finding.aggregate_type, finding.aggregate_id, finding.version) == ("BudgetLine", fstp(), 51)
        assert finding.problem.startswith("it does not summarise this store's event at version 51"), finding.problem
        assert ledger.budget_line("POINTEX", "FSTP") == line
        assert ledger.snapshot_tally.tampered == 1

    def test_the_line_never_loads_a_snapshot_that_lies(self, ledger: GrantLedger) -> None:
        """Whatever lies in the snapshot store, the line loads as its events say."""
        truth: BudgetLine = ledger.repository.get(fstp(), version=51)
        put(ledger, StoredEvent(fstp(), 51, SNAPSHOT_TOPIC, genuine(ledger).state))
        assert ledger.budget_line("POINTEX", "FSTP") == truth
        assert ledger.snapshot_tally.tampered == 1
