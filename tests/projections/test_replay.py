"""Replay: `grantledger replay` rebuilds every read model and reports any difference with the live ones."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, update

from api.cli import main
from bench.workload import Workload, copy_history
from ledger.claim import ExpenseLine
from ledger.money import Money
from ledger.storage import open_ledger
from projections import tables as t
from projections.db import ReadDatabase, read_url_for
from projections.projector import Projector
from projections.queries import AsOf, budget_overview
from tests.builders import eur, officer, open_mission, selected_sme, sign_alliance, submit

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


def corrected_history(url: str) -> None:
    """A paid JPY claim, its rate, SME and payment corrected, projected live step by step."""
    app = open_ledger(url)
    db = ReadDatabase(read_url_for(url, environ={}))
    pointex = officer("POINTEX")
    try:
        sign_alliance(app)
        mission = open_mission(app)
        sme = selected_sme(app, mission, name="Tessuti Avanzati S.r.l.")
        app.record_rate(actor=pointex, currency="JPY", month="2023-03", rate=Decimal("142.35"))
        line = ExpenseLine("TRAVEL", date(2023, 3, 1), Money.of("142350", "JPY"), "J1", "")
        claim = submit(app, mission, sme, line)
        app.approve_claim(actor=pointex, claim_id=claim, on=date(2023, 4, 5))
        Projector(app, db).catch_up()
        payment = uuid.uuid4()
        app.record_payment(
            actor=pointex, payment_id=payment, claim_id=claim, amount=eur("700.00"), bank_reference="S-1", on=PAID_ON
        )
        Projector(app, db).catch_up()
        app.correct_rate(actor=pointex, currency="JPY", month="2023-03", rate=Decimal("150"), reason="wrong row")
        app.correct_sme_registration(
            actor=pointex, sme_id=sme, legal_name="Tessuti S.p.A.", country="IT", reason="extract", on=PAID_ON
        )
        Projector(app, db).catch_up()
        app.correct_payment(actor=pointex, payment_id=payment, value_date=CORRECTED_VALUE_DATE, reason="statement")
        Projector(app, db).catch_up()
    finally:
        db.close()
        app.close()


PAID_ON, CORRECTED_VALUE_DATE = date(2023, 4, 20), date(2023, 5, 3)


class TestReplayOfCorrections:
    def test_corrections_rebuild_to_the_live_read_models(
        self, store_url: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Rate, SME and payment corrections projected live, a few events at a time, give the
        same read models as a rebuild from the first event; the payment counts from its
        corrected value date in the books as effective on a date."""
        corrected_history(store_url)
        assert main(["--database-url", store_url, "replay"]) == 0
        assert "identical" in capsys.readouterr().out
        db = ReadDatabase(read_url_for(store_url, environ={}))
        try:
            with db.reading() as conn:
                figures = {}
                for day in (PAID_ON, CORRECTED_VALUE_DATE):
                    overview = budget_overview(conn, AsOf(effective=day))
                    assert overview is not None
                    (fstp,) = [x for x in overview.partner("POINTEX") if x.category == "FSTP"]
                    figures[day] = (fstp.committed, fstp.paid)
                name = conn.execute(select(t.smes.c.legal_name)).scalar_one()
        finally:
            db.close()
        assert figures == {
            PAID_ON: (Decimal("700.00"), Decimal("0.00")),
            CORRECTED_VALUE_DATE: (Decimal("0.00"), Decimal("700.00")),
        }
        assert name == "Tessuti S.p.A."


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
