"""Helpers for the concurrency tests: racing threads, racing processes, and a save gate.

Process targets live here, at module top level, so that the "spawn" start method can
import them in a fresh interpreter. Every wait is bounded: a broken race fails the test
with a message instead of hanging it.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar
from unittest.mock import patch
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from ledger.application import GrantLedger
from ledger.storage import open_ledger
from tests.builders import officer, sign_alliance

if TYPE_CHECKING:
    from multiprocessing.context import SpawnContext
    from multiprocessing.queues import Queue

T = TypeVar("T")

#: Seconds any racer may wait for the others (barriers) or run (joins) before the race is declared broken.
RACE_TIMEOUT = 45.0
#: The business date of the approvals made in the races.
APPROVED_ON = date(2023, 4, 15)


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What one racer got: its result, or the exception it raised."""

    value: T | None = None
    error: BaseException | None = None

    @property
    def kind(self) -> str:
        """'ok', or the class name of the exception (what the tests count)."""
        return "ok" if self.error is None else type(self.error).__name__


def race(tasks: Sequence[Callable[[], T]], *, timeout: float = RACE_TIMEOUT) -> list[Outcome[T]]:
    """Run each task in its own thread, all released at once by a barrier; capture every outcome."""
    start = threading.Barrier(len(tasks), timeout=timeout)
    outcomes: list[Outcome[T] | None] = [None] * len(tasks)

    def run(index: int, task: Callable[[], T]) -> None:
        try:
            start.wait()
            outcomes[index] = Outcome(value=task())
        except Exception as exc:  # captured, and asserted on by the test
            outcomes[index] = Outcome(error=exc)

    threads = [
        threading.Thread(target=run, args=(i, task), name=f"racer-{i}", daemon=True) for i, task in enumerate(tasks)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [thread.name for thread in threads if thread.is_alive()]
    if stuck:
        raise AssertionError(f"racers still running after {timeout} s: {stuck}")
    finished = [outcome for outcome in outcomes if outcome is not None]
    assert len(finished) == len(tasks), "a racer ended without recording its outcome"
    return finished


class SaveGate:
    """Holds each racer's first save until every racer has made its decision.

    All racers then decide on the same state of the ledger and try to save on top of it:
    the worst interleaving for optimistic concurrency, made certain instead of left to
    the scheduler. Exactly one of those first saves can win; the gate counts the others,
    which the store refused (IntegrityError) and the application had to retry.
    """

    def __init__(self, barrier: threading.Barrier) -> None:
        self._barrier = barrier
        self._local = threading.local()
        self._lock = threading.Lock()
        self.first_saves_refused = 0
        self.saves_refused = 0

    @contextmanager
    def installed(self, *apps: GrantLedger) -> Iterator[None]:
        """Gate the saves of these application instances (each distinct instance once)."""
        with ExitStack() as stack:
            for app in {id(app): app for app in apps}.values():
                stack.enter_context(patch.object(app, "save", self._gated(app.save)))
            yield

    def _gated(self, save: Callable[..., Any]) -> Callable[..., Any]:
        def gated(*objs: Any, **kwargs: Any) -> Any:
            first = not getattr(self._local, "saved", False)
            self._local.saved = True
            if first:
                self._barrier.wait()
            try:
                return save(*objs, **kwargs)
            except IntegrityError:
                with self._lock:
                    self.saves_refused += 1
                    self.first_saves_refused += first
                raise

        return gated


class Report(NamedTuple):
    """What a racing process sends back: 'ok' and its result, or an error class name and message."""

    racer: int
    kind: str
    value: str
    first_save_refused: int


def approve_in_process(
    url: str,
    claim_id: str,
    index: int,
    start: threading.Barrier,
    gate: threading.Barrier,
    reports: Queue[Report],
) -> None:
    """Process target: open a ledger, wait for the others, approve one claim, report."""
    save_gate = SaveGate(gate)
    try:
        app = open_ledger(url)
    except Exception as exc:  # reported to, and asserted on by, the test
        reports.put(Report(index, type(exc).__name__, str(exc), 0))
        return
    try:
        with save_gate.installed(app):
            start.wait()
            approved = app.approve_claim(
                actor=officer("POINTEX", f"officer.pointex.{index}"), claim_id=UUID(claim_id), on=APPROVED_ON
            )
        reports.put(Report(index, "ok", str(approved.amount), save_gate.first_saves_refused))
    except Exception as exc:  # reported to, and asserted on by, the test
        reports.put(Report(index, type(exc).__name__, str(exc), save_gate.first_saves_refused))
    finally:
        app.close()


def start_up_in_process(url: str, index: int, start: threading.Barrier, reports: Queue[Report]) -> None:
    """Process target: wait for the others, open the ledger (creating its tables), sign the grant."""
    try:
        start.wait()
        app = open_ledger(url)
        try:
            grant_id = sign_alliance(app)
        finally:
            app.close()
        reports.put(Report(index, "ok", str(grant_id), 0))
    except Exception as exc:  # reported to, and asserted on by, the test
        reports.put(Report(index, type(exc).__name__, str(exc), 0))


def collect(reports: Queue[Report], count: int, *, timeout: float = RACE_TIMEOUT) -> list[Report]:
    """The reports of ``count`` processes, waiting at most ``timeout`` seconds in all."""
    deadline = time.monotonic() + timeout
    received: list[Report] = []
    while len(received) < count:
        try:
            received.append(reports.get(timeout=max(0.1, deadline - time.monotonic())))
        except queue.Empty:
            raise AssertionError(
                f"only {len(received)} of {count} processes reported within {timeout} s: {received}"
            ) from None
    return sorted(received)


def run_processes(
    ctx: SpawnContext,
    target: Callable[..., None],
    argsets: Sequence[tuple[Any, ...]],
    reports: Queue[Report],
    *,
    timeout: float = RACE_TIMEOUT,
) -> list[Report]:
    """Start one process per argument tuple, collect one report from each, then reap them all."""
    started = []
    try:
        for args in argsets:
            process = ctx.Process(target=target, args=args, daemon=True)
            process.start()
            started.append(process)
        return collect(reports, len(argsets), timeout=timeout)
    finally:
        for process in started:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)
