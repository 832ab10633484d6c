"""Replay: `grantledger replay` rebuilds every read model and reports any difference with the live ones."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import update

from api.cli import main
from bench.workload import Workload, copy_history
from ledger.storage import open_ledger
from projections import tables as t
from projections.db import ReadDatabase, read_url_for
from projections.projector import Projector

REPO = Path(__file__).resolve().parents[2]


def small_history(url: str, claims: int = 40) -> None:
    app = open_ledger(url)
    try:
        Workload(app, seed=7).run(claims)
    finally:
        app.close()


class TestReplayCommand:
    def test_identical_rebuild_exits_zero(self, store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        """On an untouched ledger the rebuilt read models equal the live ones: exit 0, and the
        live models were brought up to date first."""
        small_history(store_url)
        ReadDatabase(read_url_for(store_url, environ={})).close()  # made, empty: replay needs live read models
        assert main(["--database-url", store_url, "replay"]) == 0
        out = capsys.readouterr().out
        assert "identical" in out
        app = open_ledger(store_url)
        db = ReadDatabase(read_url_for(store_url, environ={}))
        try:
            assert db.position() == app.recorder.max_notification_id()
        finally:
            db.close()
            app.close()

    def test_a_changed_live_row_is_reported(self, store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        """A live read model that no longer matches the events (here a paid figure nudged by a
        cent) makes replay exit 1 and name the table, the row and both values."""
        small_history(store_url)
        app = open_ledger(store_url)
        db = ReadDatabase(read_url_for(store_url, environ={}))
        try:
            Projector(app, db).catch_up()
            with db.writing() as conn:
                lines = t.budget_lines.c
                conn.execute(
                    update(t.budget_lines)
                    .where(lines.partner == "POINTEX", lines.category == "FSTP")
                    .values(paid=lines.paid + Decimal("0.01"))
                )
        finally:
            db.close()
            app.close()
        assert main(["--database-url", store_url, "replay"]) == 1
        out = capsys.readouterr().out
        assert "1 differences" in out
        assert "rm_budget_lines ('POINTEX', 'FSTP')" in out
        assert "paid live" in out


MEMORY_PROBE = """
import json, sys
from ledger.storage import open_ledger
from projections.db import ReadDatabase
from projections.replay import rebuild, scratch_database
app = open_ledger(sys.argv[1])
live = ReadDatabase(sys.argv[2])
with scratch_database(live) as fresh:
    events = rebuild(app, fresh, stop=int(sys.argv[3]))
# VmHWM, not ru_maxrss: Linux carries ru_maxrss across fork and exec, so this process would
# report the peak of the test process that started it (which holds the whole history).
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"events": events, "peak_kib": peak}))
"""


@pytest.mark.slow
def test_replay_memory_stays_bounded_at_100k_events(tmp_path: Path) -> None:
    """Rebuilding 100,000 events needs about the memory that rebuilding 10,000 does: the replay
    streams batches instead of holding the history (figures printed for BENCHMARKS.md)."""
    source = open_ledger("memory://")
    workload = Workload(source, seed=11)
    workload.run(10_700)
    events = source.recorder.max_notification_id() or 0
    assert events >= 100_000, f"the workload made only {events} events"
    url = f"sqlite:///{tmp_path / 'big.db'}"
    target = open_ledger(url)
    copy_history(source, target)
    source.close()
    target.close()
    read_url = f"sqlite:///{tmp_path / 'big-read.db'}"
    peaks = {}
    for stop in (10_000, events):
        done = subprocess.run(
            [sys.executable, "-c", MEMORY_PROBE, url, read_url, str(stop)],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
            timeout=600,
        )
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        assert figures["events"] == stop
        peaks[stop] = figures["peak_kib"] / 1024
    growth = peaks[events] - peaks[10_000]
    print(f"replay peak RSS: {peaks[10_000]:.0f} MiB at 10k events, {peaks[events]:.0f} MiB at {events} events")
    assert growth < 40, f"peak memory grew by {growth:.0f} MiB from 10k to {events} events: {peaks}"
