"""The projector: each event applied to the read models exactly once, whatever happens to it.

The tests run on a SQLite file (read models in a file of their own) and on PostgreSQL (one
throwaway schema holding the events and the read models, as in production). Projectors that
must be killed or raced run as real processes (tests/projections/_projector_worker.py);
every wait on them is bounded, and a process that has not ended by itself is killed in a
``finally``.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError
from psycopg import sql
from sqlalchemy import select

from ledger.application import GrantLedger
from ledger.claim import ExpenseLine, LineDecision
from ledger.money import Money
from ledger.storage import open_ledger
from projections import tables as t
from projections.db import ReadDatabase, read_url_for
from projections.projector import Projector
from projections.queries import AsOf, BudgetOverview, LineFigures, budget_overview, claim_detail
from projections.replay import compare, rebuild, replay_and_compare, scratch_database
from tests.builders import (
    COORDINATOR,
    alliance_budget,
    eur,
    eur_line,
    officer,
    open_mission,
    selected_sme,
    sign_alliance,
    submit,
)
from tests.conftest import PostgresSchema, require_postgres

REPO = Path(__file__).resolve().parents[2]
WORKER = "tests.projections._projector_worker"
#: Seconds any wait on a worker process (or projector thread) may take before the test is declared broken.
WORKER_TIMEOUT = 30.0
#: More than any test's history: list every notification in one call.
ALL = 100_000
PARTNER = "POINTEX"
#: Budget line figures that the BudgetLine aggregate also holds (pending is the read side's own).
AGGREGATE_MEASURES = ("allocated", "committed", "paid", "spent")
LINES = 6 * 7  # partners x categories


# --- stores ------------------------------------------------------------------------------
@dataclass
class Stores:
    """One event store and the read database beside it, paired as production pairs them."""

    event_url: str
    read_url: str
    app: GrantLedger
    db: ReadDatabase


@contextlib.contextmanager
def opened(event_url: str) -> Iterator[Stores]:
    read_url = read_url_for(event_url, environ={})
    app = open_ledger(event_url)
    db = ReadDatabase(read_url)
    try:
        yield Stores(event_url, read_url, app, db)
    finally:
        db.close()
        app.close()


@pytest.fixture(
    params=[pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]
)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    """The ledger and its read models on SQLite files, or in one throwaway PostgreSQL schema."""
    if request.param == "sqlite":
        with opened(f"sqlite:///{tmp_path / 'ledger.db'}") as pair:
            yield pair
        return
    require_postgres()
    schema = PostgresSchema()
    try:
        with opened(schema.url) as pair:
            yield pair
    finally:
        schema.drop()


@pytest.fixture
def pg_stores(pg_schema: PostgresSchema) -> Iterator[Stores]:
    """The ledger and its read models in one throwaway PostgreSQL schema."""
    with opened(pg_schema.url) as pair:
        yield pair


# --- a realistic history ------------------------------------------------------------------
def build_history(app: GrantLedger, *, smes_per_mission: int = 10) -> None:
    """A grant, a budget transfer, two missions, SMEs, claims in EUR and USD, approvals full
    and partial, a rejection, claims left pending or unpaid, payments, a bank return and own
    costs: about 300 events with the default size."""
    sign_alliance(app)
    app.record_rate(actor=officer(PARTNER), currency="USD", month="2023-03", rate=Decimal("1.0987"))
    app.transfer_budget(
        actor=COORDINATOR,
        transfer_id=uuid.uuid4(),
        from_partner="TECHTERA",
        from_category="PERSONNEL",
        to_partner=PARTNER,
        to_category="FSTP",
        amount=eur("5000.00"),
        decision_ref="SC-2022-07",
        reason="more SMEs than planned for Japan",
        on=date(2022, 11, 30),
    )
    payments = []
    for code, partner in (("JPN-2023", PARTNER), ("USA-2022", "NTT")):
        mission = open_mission(app, code=code, partner=partner)
        for n in range(smes_per_mission):
            sme = selected_sme(app, mission, partner=partner)
            lines = [eur_line(f"{600 + 10 * n}.00"), eur_line("250.50", cost_type="ACCOMMODATION")]
            if n % 3 == 0:
                fee = Money.of("480", "USD")
                lines.append(ExpenseLine("REGISTRATION_FEE", date(2023, 3, 10), fee, f"FEE-{uuid.uuid4().hex}", "fee"))
            claim = submit(app, mission, sme, *lines, partner=partner)
            if n == smes_per_mission - 1:
                app.reject_claim(actor=officer(partner), claim_id=claim, reason="no boarding pass", on=date(2023, 4, 9))
                continue
            if n % 4 == 3:
                continue  # left pending
            cut = [LineDecision(2, eur("200.00"), "hotel above the mission's ceiling")] if n % 2 else []
            approved = app.approve_claim(actor=officer(partner), claim_id=claim, decisions=cut, on=date(2023, 4, 10))
            if n % 4 == 2:
                continue  # approved, not yet paid
            payments.append(
                app.record_payment(
                    actor=officer(partner),
                    payment_id=uuid.uuid4(),
                    claim_id=claim,
                    amount=approved,
                    bank_reference=f"SEPA-{uuid.uuid4().hex[:8]}",
                    on=date(2023, 5, 2),
                )
            )
    app.reverse_payment(actor=officer(PARTNER), payment_id=payments[0], reason="IBAN closed", on=date(2023, 5, 9))
    for n in range(4):
        app.record_cost(
            actor=officer("NIDV"),
            cost_id=uuid.uuid4(),
            partner="NIDV",
            category="TRAVEL",
            amount=eur(f"{300 + n}.00"),
            document_ref=f"NIDV-TRAVEL-{n}",
            description="trip to the DSEI Japan show",
            on=date(2023, 3, 20),
        )


def notification_ids(app: GrantLedger) -> list[int]:
    """Every event position in the log, in order (there may be gaps)."""
    return [n.id for n in app.recorder.select_notifications(start=0, limit=ALL, inclusive_of_start=False)]


def audit_positions(db: ReadDatabase) -> list[int]:
    with db.reading() as conn:
        return list(conn.execute(select(t.audit.c.position).order_by(t.audit.c.position)).scalars())


def overview(db: ReadDatabase, as_of: AsOf | None = None) -> BudgetOverview | None:
    with db.reading() as conn:
        return budget_overview(conn, as_of)


def line_of(found: BudgetOverview | None, partner: str, category: str) -> LineFigures:
    assert found is not None, "the grant should be in the read models"
    return next(line for line in found.lines if (line.partner, line.category) == (partner, category))


def differences(live: ReadDatabase, rebuilt: ReadDatabase) -> list[str]:
    return [str(difference) for difference in compare(live, rebuilt)]


def assert_applied_once_and_identical(app: GrantLedger, db: ReadDatabase) -> None:
    """Every event of the log has exactly one audit row, the tracking position is the last
    event, and a rebuild from the first event equals the read models row for row."""
    ids = notification_ids(app)
    assert audit_positions(db) == ids
    assert db.position() == ids[-1]
    with scratch_database(db) as fresh:
        rebuild(app, fresh)
        assert differences(db, fresh) == []


def assert_budget_is_the_aggregates(app: GrantLedger, db: ReadDatabase) -> None:
    """Every budget line's figures in the read models are those of the application's aggregate."""
    found = overview(db)
    assert found is not None
    assert len(found.lines) == LINES
    for line in found.booked():  # as the aggregates book them: indirect costs are computed
        aggregate = app.budget_line(line.partner, line.category)
        for measure in AGGREGATE_MEASURES:
            assert getattr(line, measure) == getattr(aggregate, measure).amount, (line, measure)


# --- projector processes ------------------------------------------------------------------
class Worker:
    """A projector process; a thread reads its stdout into a queue so that every read is bounded."""

    def __init__(
        self, stores: Stores, log_dir: Path, *, batch_size: int, delay: float = 0.0, pause: float = 0.0
    ) -> None:
        self.stderr_path = log_dir / f"worker-{uuid.uuid4().hex[:8]}.err"
        self._stderr = self.stderr_path.open("w")
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.said: list[str] = []
        options = [f"--batch-size={batch_size}", f"--delay={delay}", f"--pause={pause}"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRANTLEDGER_")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", WORKER, stores.event_url, stores.read_url, *options],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stdout: IO[str]) -> None:
        for line in stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def next_line(self, deadline: float) -> str | None:
        """The worker's next line; None once it has closed its stdout (ended)."""
        try:
            line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(
                f"the worker said nothing more within {WORKER_TIMEOUT} s; {self.diagnosis()}"
            ) from None
        if line is not None:
            self.said.append(line)
        return line

    def finish(self) -> list[str]:
        """Wait for the worker to end by itself, successfully; every line it said."""
        deadline = time.monotonic() + WORKER_TIMEOUT
        while self.next_line(deadline) is not None:
            pass
        returncode = self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        assert returncode == 0, self.diagnosis()
        return self.said

    def kill(self) -> list[str]:
        """SIGKILL the worker (if still running); every line it said before dying."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        deadline = time.monotonic() + 5
        while self.next_line(deadline) is not None:
            pass
        return self.said

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()
        self._stderr.close()

    def diagnosis(self) -> str:
        return f"exit code {self.process.poll()}, stderr: {self.stderr_path.read_text()[-3000:]!r}"


def committed_batches(said: Sequence[str]) -> tuple[list[list[int]], list[int]]:
    """From a worker's lines: the positions of each batch it committed, and those it applied
    in a batch that never committed (the open batch of a killed worker)."""
    batches: list[list[int]] = []
    current: list[int] = []
    for line in said:
        word, *numbers = line.split()
        if word == "apply":
            current.append(int(numbers[0]))
        elif word == "commit":
            assert current, line
            assert (current[-1], len(current)) == (int(numbers[0]), int(numbers[1])), (current, line)
            batches.append(current)
            current = []
    return batches, current


# --- the tests ----------------------------------------------------------------------------
class TestCrashInTheMiddleOfABatch:
    """A crash loses at most the open batch, never a committed one, and never half of one."""

    BATCH = 20

    def test_a_killed_projector_loses_only_its_open_batch_and_the_next_run_applies_it_once(
        self, stores: Stores, tmp_path: Path
    ) -> None:
        """A projector process SIGKILLed half way through a batch leaves the read models at its
        last committed batch: a batch boundary below the head, with nothing of the open batch
        visible. A second run catches up; then every event has exactly one audit row, the read
        models equal a fresh rebuild, and every budget figure is the application's own."""
        build_history(stores.app)
        ids = notification_ids(stores.app)
        assert len(ids) > 250, f"the story should be a few hundred events, it is {len(ids)}"

        worker = Worker(stores, tmp_path, batch_size=self.BATCH, delay=0.01)
        try:
            deadline = time.monotonic() + WORKER_TIMEOUT
            committed_once = False
            while True:
                line = worker.next_line(deadline)
                assert line is not None, f"the worker ended before it could be killed: {worker.diagnosis()}"
                word, *numbers = line.split()
                committed_once = committed_once or word == "commit"
                if word == "apply" and committed_once and int(numbers[1]) == self.BATCH // 2:
                    break  # half way through a batch after the first: its transaction is open
            said = worker.kill()
        finally:
            worker.close()
        assert worker.process.returncode == -signal.SIGKILL
        batches, open_batch = committed_batches(said)
        assert open_batch, "the kill did not land inside a batch"

        position = stores.db.position()
        boundaries = ids[self.BATCH - 1 :: self.BATCH]
        assert position == batches[-1][-1]
        assert position in boundaries
        assert position < ids[-1]
        assert open_batch[0] > position
        assert audit_positions(stores.db) == [i for i in ids if i <= position]
        with scratch_database(stores.db) as fresh:
            rebuild(stores.app, fresh, stop=position)
            assert differences(stores.db, fresh) == [], "rows of the killed batch were kept"

        again = Worker(stores, tmp_path, batch_size=self.BATCH)
        try:
            resumed, _ = committed_batches(again.finish())
        finally:
            again.close()

        assert resumed[0][0] == ids[ids.index(position) + 1]
        assert_applied_once_and_identical(stores.app, stores.db)
        assert_budget_is_the_aggregates(stores.app, stores.db)
        report = replay_and_compare(stores.app, stores.db)
        assert report.identical, [str(d) for d in report.differences]
        assert (report.position, report.events) == (ids[-1], len(ids))


class TestConcurrentProjectors:
    """Projectors racing on one read database take turns: no event is applied twice or missed."""

    WORKERS = 3
    THREADS = 4

    def test_processes_started_together_apply_every_event_exactly_once(self, stores: Stores, tmp_path: Path) -> None:
        """Three projector processes started at once on the same read database all run to the
        end: their committed batches never overlap and together cover the whole log, each
        event has exactly one audit row, and the read models equal a rebuild. The batches come
        from more than one process, or the run proved nothing about concurrency."""
        build_history(stores.app, smes_per_mission=6)
        ids = notification_ids(stores.app)

        workers: list[Worker] = []
        try:
            for _ in range(self.WORKERS):
                workers.append(Worker(stores, tmp_path, batch_size=10, delay=0.001, pause=0.02))
            said = [worker.finish() for worker in workers]
        finally:
            for worker in workers:
                worker.close()

        per_worker = [committed_batches(lines)[0] for lines in said]
        applied = [position for batches in per_worker for batch in batches for position in batch]
        assert sorted(applied) == ids
        assert max(Counter(applied).values()) == 1
        assert sum(1 for batches in per_worker if batches) >= 2, f"one process did all the work: {per_worker}"
        assert_applied_once_and_identical(stores.app, stores.db)
        assert_budget_is_the_aggregates(stores.app, stores.db)

    def test_threads_sharing_a_read_database_apply_every_event_exactly_once(self, stores: Stores) -> None:
        """Four Projector instances in four threads of one process (as several API workers
        would have) take batches at once, pausing briefly between them: the events they report
        applied add up to the log, more than one thread applied some, each event has exactly
        one audit row, and the read models equal a rebuild."""
        build_history(stores.app, smes_per_mission=4)
        counts: list[int] = []
        errors: list[BaseException] = []
        start = threading.Barrier(self.THREADS, timeout=WORKER_TIMEOUT)

        def catch_up() -> None:
            try:
                projector = Projector(stores.app, stores.db, batch_size=7)
                start.wait()
                applied = 0
                while count := projector.run_batch():
                    applied += count
                    time.sleep(0.01)  # as a follower does between looks: others get the lock
                counts.append(applied)
            except Exception as exc:  # asserted on below
                errors.append(exc)

        threads = [threading.Thread(target=catch_up, daemon=True) for _ in range(self.THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WORKER_TIMEOUT)
        assert not any(thread.is_alive() for thread in threads), "a projector thread is stuck"
        assert errors == []
        assert sum(counts) == len(notification_ids(stores.app))
        assert sum(1 for count in counts if count) >= 2, f"one thread did all the work: {counts}"
        assert_applied_once_and_identical(stores.app, stores.db)


class TestGapsAndStops:
    """The projector follows the notification ids it is given, never counts on them being contiguous."""

    @pytest.mark.postgres
    def test_events_after_gaps_in_the_notification_ids_are_applied(self, pg_stores: Stores) -> None:
        """On PostgreSQL a refused save (optimistic concurrency: another writer got there
        first) and a rolled-back insert both use up notification ids, leaving gaps. A projector
        that applied everything before the gaps applies every event after them, each once;
        a stop that falls in a gap stops at the last event before it; the read models then
        equal a rebuild and show the claim approved after the gaps."""
        app, db = pg_stores.app, pg_stores.db
        projector = Projector(app, db, batch_size=5)
        sign_alliance(app)
        mission = open_mission(app)
        sme = selected_sme(app, mission)
        projector.catch_up()
        before_gaps = db.position()

        stale = app.sme(sme)  # an officer's command loads the SME...
        usa = open_mission(app, code="USA-2022")
        app.select_sme(actor=officer(PARTNER), mission_id=usa, sme_id=sme, on=date(2022, 12, 7))  # ...another writes
        stale.select(actor=officer(PARTNER), mission_id=open_mission(app, code="IDN-2023"), on=date(2022, 12, 8))
        with pytest.raises(IntegrityError):
            app.save(stale)  # refused: its insert drew an id from the sequence, then rolled back
        roll_back_an_insert(pg_stores.event_url)
        claim = submit(app, mission, sme, eur_line("900.00"))
        app.approve_claim(actor=officer(PARTNER), claim_id=claim, on=date(2023, 4, 10))

        ids = notification_ids(app)
        gaps = sorted(set(range(ids[0], ids[-1] + 1)) - set(ids))
        assert len(gaps) >= 2, f"no gaps were made: {ids}"
        assert min(gaps) > before_gaps

        projector.catch_up(stop=gaps[-1])
        assert db.position() == max(i for i in ids if i < gaps[-1])
        projector.catch_up()
        assert_applied_once_and_identical(app, db)
        with db.reading() as conn:
            detail = claim_detail(conn, str(claim))
        assert detail is not None
        assert detail.claim.state == "approved"
        assert line_of(overview(db), PARTNER, "FSTP").committed == Decimal("630.00")  # 70% of 900.00

    def test_a_batch_ends_exactly_at_its_stop(self, stores: Stores) -> None:
        """run_batch(stop=P) applies the events after the tracking position up to P and no
        further, however large the batch; a second call at the same stop applies nothing; a
        stop past the head stops at the head. Read models fed in such uneven pieces (one
        ending inside the grant's own save) equal one rebuilt in one go. (SQLite gives back
        the ids of a rolled-back insert, so it has no gaps to show: this is what shows there
        that the projector never counts ids, only follows them.)"""
        build_history(stores.app, smes_per_mission=3)
        ids = notification_ids(stores.app)
        projector = Projector(stores.app, stores.db, batch_size=1000)
        position = 0
        for stop in (ids[0], ids[1], ids[20], ids[len(ids) // 2], ids[-2], ids[-1] + 10):
            expected = [i for i in ids if position < i <= stop]
            assert projector.run_batch(stop=stop) == len(expected)
            assert projector.run_batch(stop=stop) == 0
            position = stores.db.position()
            assert position == expected[-1]
            assert audit_positions(stores.db) == [i for i in ids if i <= position]
        assert position == ids[-1]
        assert_applied_once_and_identical(stores.app, stores.db)


def roll_back_an_insert(event_url: str) -> None:
    """A transaction that inserts an event into the log and rolls back, as a writer that
    crashes before its commit would."""
    insert = sql.SQL(
        "INSERT INTO {}.grantledger_events (originator_id, originator_version, topic, state) "
        "VALUES (%s, 1, 'never:Recorded', '{{}}')"
    ).format(sql.Identifier(event_url.split("schema=")[1]))
    with psycopg.connect(event_url.split("?")[0]) as conn, conn.transaction(force_rollback=True):
        conn.execute(insert, (uuid.uuid4(),))


class TestTimeTravel:
    """The books as they stood at a recorded position, or as effective on a business date."""

    def test_books_as_of_a_position_equal_a_rebuild_stopped_there(self, stores: Stores) -> None:
        """budget_overview(AsOf(position=P)) on the fully projected read models gives, line
        for line, the current figures of read models rebuilt only up to P: before the grant,
        inside the grant's own save (some lines opened, not all), half way, just before the
        last event, and at the head."""
        build_history(stores.app, smes_per_mission=4)
        ids = notification_ids(stores.app)
        Projector(stores.app, stores.db).catch_up()
        for stop in (0, ids[20], ids[len(ids) // 3], ids[len(ids) // 2], ids[-2], ids[-1]):
            as_recorded = overview(stores.db, AsOf(position=stop))
            with scratch_database(stores.db) as fresh:
                rebuild(stores.app, fresh, stop=stop)
                current = overview(fresh)
            if stop == 0:
                assert (as_recorded, current) == (None, None)
                continue
            assert as_recorded is not None
            assert current is not None
            assert as_recorded.lines == current.lines, stop
            assert as_recorded.totals() == current.totals()
        inside_the_grant = overview(stores.db, AsOf(position=ids[20]))
        assert inside_the_grant is not None
        assert 0 < len(inside_the_grant.lines) < LINES, "this stop should cut the grant's own save"

    def test_books_as_effective_on_a_date_follow_business_dates_not_recording_order(self, stores: Stores) -> None:
        """A small story recorded out of business-date order (a claim submitted on 1 April
        recorded before one submitted on 20 March, an approval of 20 April recorded before
        one of 5 April, a payment of 10 May before one of 3 May, a bank return, then a
        transfer effective back in June 2022 and a cost of February 2023): the books as
        effective on each date are exactly the hand-computed figures."""
        app = stores.app
        sign_alliance(app)
        mission = open_mission(app)  # POINTEX, 70%, cap EUR 2,000 per SME
        a, b = selected_sme(app, mission), selected_sme(app, mission)
        claim_a = self.claim(app, mission, a, "1000.00", on=date(2023, 4, 1))  # requests 700.00
        claim_b = self.claim(app, mission, b, "500.00", on=date(2023, 3, 20))  # requests 350.00
        pointex = officer(PARTNER)
        app.approve_claim(actor=pointex, claim_id=claim_a, on=date(2023, 4, 20))
        app.approve_claim(actor=pointex, claim_id=claim_b, on=date(2023, 4, 5))
        self.pay(app, claim_b, "350.00", date(2023, 5, 10))
        paid_a = self.pay(app, claim_a, "700.00", date(2023, 5, 3))
        app.reverse_payment(actor=pointex, payment_id=paid_a, reason="bank return", on=date(2023, 5, 15))
        app.transfer_budget(
            actor=COORDINATOR,
            transfer_id=uuid.uuid4(),
            from_partner="TECHTERA",
            from_category="PERSONNEL",
            to_partner=PARTNER,
            to_category="FSTP",
            amount=eur("1000.00"),
            decision_ref="SC-2022-06",
            reason="decided at the June 2022 steering committee, recorded late",
            on=date(2022, 6, 30),
        )
        app.record_cost(
            actor=officer("NIDV"),
            cost_id=uuid.uuid4(),
            partner="NIDV",
            category="TRAVEL",
            amount=eur("300.00"),
            document_ref="NIDV-2023-02-TRAIN",
            description="train to the Paris preparation meeting",
            on=date(2023, 2, 1),
        )
        Projector(stores.app, stores.db).catch_up()

        assert overview(stores.db, AsOf(effective=date(2021, 8, 31))) is None  # before the grant was signed
        fstp = Decimal(alliance_budget()[PARTNER]["FSTP"].amount)
        personnel = Decimal(alliance_budget()["TECHTERA"]["PERSONNEL"].amount)
        # on: (POINTEX FSTP allocated, pending, committed, paid), TECHTERA PERSONNEL allocated, NIDV TRAVEL spent
        expected = {
            date(2022, 6, 29): ((fstp, "0", "0", "0"), personnel, "0"),
            date(2022, 6, 30): ((fstp + 1000, "0", "0", "0"), personnel - 1000, "0"),
            date(2023, 2, 1): ((fstp + 1000, "0", "0", "0"), personnel - 1000, "300"),
            date(2023, 3, 31): ((fstp + 1000, "350", "0", "0"), personnel - 1000, "300"),
            date(2023, 4, 10): ((fstp + 1000, "700", "350", "0"), personnel - 1000, "300"),
            date(2023, 4, 20): ((fstp + 1000, "0", "1050", "0"), personnel - 1000, "300"),
            date(2023, 5, 5): ((fstp + 1000, "0", "350", "700"), personnel - 1000, "300"),
            date(2023, 5, 12): ((fstp + 1000, "0", "0", "1050"), personnel - 1000, "300"),
            date(2023, 5, 31): ((fstp + 1000, "0", "700", "350"), personnel - 1000, "300"),
        }
        for on, ((allocated, pending, committed, paid), techtera, nidv) in expected.items():
            books = overview(stores.db, AsOf(effective=on))
            line = line_of(books, PARTNER, "FSTP")
            figures = (line.allocated, line.pending, line.committed, line.paid, line.spent)
            assert figures == tuple(Decimal(x) for x in (allocated, pending, committed, paid, "0")), on
            assert line_of(books, "TECHTERA", "PERSONNEL").allocated == techtera, on
            assert line_of(books, "NIDV", "TRAVEL").spent == Decimal(nidv), on
        now, at_the_end = overview(stores.db), overview(stores.db, AsOf(effective=date(2023, 8, 31)))
        assert now is not None
        assert at_the_end is not None
        assert at_the_end.lines == now.lines  # every business date is known by now

    @staticmethod
    def claim(app: GrantLedger, mission: uuid.UUID, sme: uuid.UUID, amount: str, *, on: date) -> uuid.UUID:
        return app.submit_claim(
            actor=officer(PARTNER),
            claim_id=uuid.uuid4(),
            sme_id=sme,
            mission_id=mission,
            lines=[eur_line(amount, day=date(2023, 3, 14))],
            on=on,
        )

    @staticmethod
    def pay(app: GrantLedger, claim_id: uuid.UUID, amount: str, on: date) -> uuid.UUID:
        return app.record_payment(
            actor=officer(PARTNER),
            payment_id=uuid.uuid4(),
            claim_id=claim_id,
            amount=eur(amount),
            bank_reference=f"SEPA-{uuid.uuid4().hex[:8]}",
            on=on,
        )


class TestReadYourWrites:
    """A caller that waits for its own write position reads its own writes."""

    def test_a_reader_that_waits_for_its_write_position_sees_its_write(self, stores: Stores) -> None:
        """After a command, wait_for(app.position_written()) returns only once the read models
        include that command's events: the approval that was not yet visible is then shown,
        both when wait_for has to project it itself and when a following projector thread
        may be applying the same events at the same time."""
        app, db = stores.app, stores.db
        projector = Projector(app, db)
        sign_alliance(app)
        mission = open_mission(app)
        sme = selected_sme(app, mission)
        projector.catch_up()

        claim = submit(app, mission, sme, eur_line("1000.00"))
        approved = app.approve_claim(actor=officer(PARTNER), claim_id=claim, on=date(2023, 4, 10))
        written = app.position_written()
        assert written is not None
        assert db.position() < written, "the write should not be visible yet, or this proves nothing"
        projector.wait_for(written, timeout=10)
        assert db.position() >= written
        self.assert_visible(db, claim, "approved", committed=approved.amount)

        stopping = threading.Event()
        follower = threading.Thread(target=Projector(app, db).follow, args=(stopping, 0.001), daemon=True)
        follower.start()
        try:
            other = submit(app, mission, selected_sme(app, mission), eur_line("500.00"))
            app.approve_claim(actor=officer(PARTNER), claim_id=other, on=date(2023, 4, 11))
            projector.wait_for(app.position_written(), timeout=10)
            self.assert_visible(db, other, "approved", committed=approved.amount + Decimal("350.00"))
        finally:
            stopping.set()
            follower.join(WORKER_TIMEOUT)
        assert not follower.is_alive(), "the following projector did not stop"

        assert open_mission(app) == mission  # repeated: records nothing...
        assert app.position_written() is None
        projector.wait_for(app.position_written())  # ...so there is nothing to wait for
        assert_applied_once_and_identical(app, db)

    def test_a_writer_waiting_on_its_follower_is_answered_when_another_projector_applied_its_events(
        self, stores: Stores, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Each worker of the service follows the log. A writer waits for its own worker's
        follower, which learns the read models' position from its next batch, even when another
        worker's projector applied the writer's events (the batch then applies none): the writer
        does not query the read models itself while it waits."""
        app, db = stores.app, stores.db
        sign_alliance(app)
        mission = open_mission(app)
        sme = selected_sme(app, mission)
        Projector(app, db).catch_up()
        ours = Projector(app, db)
        stopping = threading.Event()
        follower = threading.Thread(target=ours.follow, args=(stopping, 60.0), daemon=True)  # looks only when woken
        follower.start()
        try:
            deadline = time.monotonic() + WORKER_TIMEOUT
            while not ours._following and time.monotonic() < deadline:
                time.sleep(0.01)
            claim = submit(app, mission, sme, eur_line("1000.00"))
            written = app.position_written()
            assert written is not None
            Projector(app, db).catch_up()  # another worker's projector
            asked: list[int] = []
            position = db.position

            def counted() -> int:
                asked.append(1)
                return position()

            monkeypatch.setattr(db, "position", counted)
            ours.wait_for(written, timeout=10)
            assert not asked, "the waiting writer queried the read models' position itself"
        finally:
            stopping.set()
            follower.join(WORKER_TIMEOUT)
        assert not follower.is_alive(), "the following projector did not stop"
        self.assert_visible(db, claim, "submitted", committed=Decimal("0.00"))

    @staticmethod
    def assert_visible(db: ReadDatabase, claim: uuid.UUID, state: str, *, committed: Decimal) -> None:
        with db.reading() as conn:
            detail = claim_detail(conn, str(claim))
            books = budget_overview(conn)
        assert detail is not None
        assert detail.claim.state == state
        assert line_of(books, PARTNER, "FSTP").committed == committed
