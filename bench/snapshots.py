"""Section 5: loading a budget line aggregate of ~10k events, with and without snapshots.

The line is the FSTP line of one partner, grown by the real workload's claims (submitted,
approved: Committed; paid: Paid; a few payments returned: PaymentReturned), all on one
mission, until the line has the events asked for. The history is built in memory and
copied into a SQLite file with the snapshots the application itself took (one every 50
events), so the store is what a live ledger would hold.

Both loads are ``repository.get`` on the same file with the aggregate cache off: once by
the application as configured, once by the same application with snapshotting disabled,
which replays every event. Both must give an equal aggregate. Every application here shares
one GRANTLEDGER_SNAPSHOT_KEY, so the loader trusts the seals of the snapshots the builder took.
"""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import timedelta
from pathlib import Path

from eventsourcing.cryptography import AESCipher

from bench.options import Options
from bench.report import Figure
from bench.workload import CLAIMS_PER_SME, MISSIONS, Workload, copy_history, officer
from ledger.application import GrantLedger
from ledger.budget import BudgetLine, line_id
from ledger.grant import Category
from ledger.records import ENV_SNAPSHOT_KEY
from ledger.storage import library_env

SECTION = "5 snapshots"
SEED = 2023
#: Events on the loaded line (the issue's 10k; quick: 1k).
LINE_EVENTS, QUICK_LINE_EVENTS = 10_000, 1_000
#: Line events per claim, about: 88% approved (Committed), 85% of those paid (Paid), 3% returned.
LINE_EVENTS_PER_CLAIM = 1.6
REPEATS, QUICK_REPEATS = 21, 11
#: The application's snapshot interval for budget lines.
INTERVAL = GrantLedger.snapshotting_intervals[BudgetLine]
MISSION_NO = 0
#: The key every application of this section seals and checks snapshots with.
SNAPSHOT_KEY = {ENV_SNAPSHOT_KEY: AESCipher.create_key(32)}


def grow_line(app: GrantLedger, events: int) -> uuid.UUID:
    """Submit, decide and pay claims on one mission until its partner's FSTP line has ``events``."""
    workload = Workload(app, seed=SEED)
    missions = workload.setup(int(events / LINE_EVENTS_PER_CLAIM) + 10)
    _, _, _, start, partner, _ = MISSIONS[MISSION_NO]
    line = line_id(partner, Category.FSTP.value)
    sme_id, claims = uuid.UUID(int=0), 0  # a new SME is registered before the first claim
    while app.repository.get(line).version < events:
        if claims % CLAIMS_PER_SME == 0:
            sme_id = workload.new_id()
            number = claims // CLAIMS_PER_SME
            app.register_sme(
                actor=officer(partner),
                sme_id=sme_id,
                legal_name=f"SME {number:06d} S.r.l.",
                country=workload.rng.choice(("IT", "FR", "NL", "DE", "ES", "BE")),
                identifier=f"EU{number:010d}",
                on=start - timedelta(days=60),
            )
            app.select_sme(
                actor=officer(partner), mission_id=missions[MISSION_NO], sme_id=sme_id, on=start - timedelta(days=50)
            )
        workload.claim(MISSION_NO, missions[MISSION_NO], sme_id)
        claims += 1
    return line


def build_store(path: Path, events: int) -> tuple[uuid.UUID, int]:
    """A SQLite store whose FSTP line has ``events`` events, with the application's snapshots
    of that line; returns the line's id and the store's event count."""
    memory = GrantLedger(env=library_env("memory://") | SNAPSHOT_KEY)
    line = grow_line(memory, events)
    store = GrantLedger(env=library_env(f"sqlite:///{path}") | SNAPSHOT_KEY)
    total = copy_history(memory, store)
    if memory.snapshots is None or store.snapshots is None:
        raise RuntimeError("GrantLedger takes snapshots: its snapshot stores must exist")
    store.snapshots.recorder.insert_events(list(memory.snapshots.recorder.select_events(line)))
    store.close()
    return line, total


def loader(path: Path, *, snapshots: bool) -> GrantLedger:
    """The application on ``path`` with the aggregate cache off, with or without its snapshots."""
    env = library_env(f"sqlite:///{path}") | SNAPSHOT_KEY | {GrantLedger.AGGREGATE_CACHE_MAXSIZE: ""}
    if not snapshots:
        env["IS_SNAPSHOTTING_ENABLED"] = "n"
    app = GrantLedger(env=env)
    if app.repository.cache is not None or (app.snapshots is not None) != snapshots:
        raise RuntimeError(f"the loader is not configured as asked (snapshots={snapshots}, cache off)")
    return app


def median_load_ms(app: GrantLedger, line: uuid.UUID, repeats: int) -> tuple[float, BudgetLine]:
    """Median wall time of ``repository.get`` of the line, after one untimed warm-up load."""
    aggregate: BudgetLine = app.repository.get(line)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        aggregate = app.repository.get(line)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), aggregate


def run(options: Options) -> list[Figure]:
    # Half an interval past a snapshot: a typical load replays that many events on top of it.
    events = (QUICK_LINE_EVENTS if options.quick else LINE_EVENTS) + INTERVAL // 2
    repeats = QUICK_REPEATS if options.quick else REPEATS
    path = options.workdir / "snapshots.db"
    path.unlink(missing_ok=True)
    options.say(f"growing a budget line to {events:,} events through the application's commands")
    line, total = build_store(path, events)

    with_snapshots, without_snapshots = loader(path, snapshots=True), loader(path, snapshots=False)
    try:
        ours, fast = median_load_ms(with_snapshots, line, repeats)
        baseline, slow = median_load_ms(without_snapshots, line, repeats)
        assert with_snapshots.snapshots is not None  # noqa: S101 - checked by loader()
        latest = list(with_snapshots.snapshots.get(line, desc=True, limit=1))
    finally:
        with_snapshots.close()
        without_snapshots.close()
    if vars(fast) != vars(slow):
        raise RuntimeError(f"the line loaded with snapshots differs from the one replayed: {fast!r} != {slow!r}")
    if not latest or fast.version - latest[0].originator_version >= INTERVAL:
        raise RuntimeError(f"no recent snapshot of the line (version {fast.version}): the figure would be wrong")

    note = (
        f"{fast.version:,} events on one FSTP line (claims committed and paid, a few payments returned; "
        f"{total:,} in the store): snapshot {latest[0].originator_version:,} + "
        f"{fast.version - latest[0].originator_version} events vs all; median of {repeats}, SQLite"
    )
    return [
        Figure(
            section=SECTION,
            name="load a budget line",
            unit="ms",
            ours=ours,
            baseline=baseline,
            baseline_name="no snapshots",
            higher_is_better=False,
            note=note,
        )
    ]
