"""The projector in processes that are killed or raced: a crash loses at most the open batch,
and projectors racing on one read database (processes or threads) apply each event exactly once.

The tests run on a SQLite file (read models in a file of their own) and on PostgreSQL (one
throwaway schema holding the events and the read models, as in production). Projectors that
must be killed or raced run as real processes (tests/projections/_projector_worker.py);
every wait on them is bounded, and a process that has not ended by itself is killed in a
``finally``.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from projections.projector import Projector
from projections.replay import rebuild, replay_and_compare, scratch_database
from tests.projections.projecting import (
    WORKER_TIMEOUT,
    Stores,
    assert_applied_once_and_identical,
    assert_budget_is_the_aggregates,
    audit_positions,
    build_history,
    differences,
    notification_ids,
)

REPO = Path(__file__).resolve().parents[2]
WORKER = "tests.projections._projector_worker"


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
