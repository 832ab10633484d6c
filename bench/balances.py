"""Section 3: balances from scratch, our rebuild + budget query against hledger and beancount;
and the auditors' independent recompute (``verify --recompute``) against hledger, on the
largest history of the run (the other figures are on the first).

Each side starts a fresh process and is timed around it, so interpreter start-up and imports
count for everyone: ours opens the event store, rebuilds every read model into an empty
SQLite database and reads the budget overview (what ``GET /api/v1/budget`` serves); hledger
runs ``bal`` on the exported journal; beancount loads (parses, books, validates; its pickle
cache off) and realizes the exported journal. The journals are exported, untimed, from the
read models of our first run, and all three must report the same balance for every budget
account before any time is reported. The recompute folds the raw events of the largest
history (bench.histories.books: its read models rebuilt and its journal exported once per
run); its balances and hledger's on that journal must equal that history's budget overview.

This module is also the workers' entry point (``python -m bench.balances ours|recompute|beancount``):
the harness's imports stay inside ``run`` so that a worker imports only what its side needs.
"""

from __future__ import annotations

import csv
import io
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.options import Options
    from bench.report import Figure
    from projections.db import ReadDatabase

SECTION = "3 balances"
BAR = 5.0
#: Issue 16, bar 3: the auditors' recompute at least 3x faster than `hledger bal`.
RECOMPUTE_BAR = 3.0
REPEATS, QUICK_REPEATS = 3, 1
ROOT = Path(__file__).resolve().parent.parent
Balances = dict[str, Decimal]


# --- the workers: each prints its result as JSON, balances as {account: amount} --------------
def ours(store: Path, read: Path) -> dict[str, object]:
    """Rebuild every read model from the event store into an empty database, then query the budget."""
    from ledger.storage import open_ledger
    from projections.db import ReadDatabase
    from projections.replay import rebuild

    app, db = open_ledger(f"sqlite:///{store}"), ReadDatabase(f"sqlite:///{read}")
    try:
        events = rebuild(app, db)
        balances = budget_balances(db)
    finally:
        db.close()
        app.close()
    return {"events": events, "balances": {account: str(amount) for account, amount in balances.items()}}


def budget_balances(db: ReadDatabase) -> Balances:
    """The budget overview's figures (what ``GET /api/v1/budget`` serves) as journal balances."""
    from projections.journal import TREES, line_account, signed
    from projections.queries import budget_overview

    with db.reading() as conn:
        overview = budget_overview(conn)
    if overview is None:
        raise RuntimeError(f"{db.url} holds no signed grant")
    return {
        line_account(line.partner, line.category, measure): signed(measure, getattr(line, measure))
        for line in overview.booked()  # the journal books no computed indirect costs
        for measure in TREES
        if getattr(line, measure)
    }


def recomputed(store: Path) -> dict[str, object]:
    """``grantledger verify --recompute``'s fold: the raw stored events into every budget line's
    figures in memory (no read models, nothing written)."""
    from ledger.storage import open_ledger
    from projections.journal import TREES, line_account, signed
    from projections.recompute import recompute

    app = open_ledger(f"sqlite:///{store}", create=False)
    try:
        result = recompute(app)
    finally:
        app.close()
    balances = {}
    for (partner, category), figures in result.figures.items():
        remaining = figures["allocated"] - figures["committed"] - figures["paid"] - figures["spent"]
        for measure in TREES:
            figure = remaining if measure == "remaining" else figures[measure]
            if figure:
                balances[line_account(partner, category, measure)] = str(signed(measure, figure))
    return {"events": result.events, "balances": balances}


def beancount(journal: Path) -> dict[str, object]:
    """beancount's load (without its pickle cache, which would skip the work) and realization."""
    from beancount import loader
    from beancount.core import realization

    loader.initialize(use_cache=False)
    entries, errors, _ = loader.load_file(str(journal))
    if errors:
        raise RuntimeError(f"beancount finds {len(errors)} errors in {journal}, first: {errors[0]}")
    from projections.journal import rollup

    root = realization.realize(entries)  # type: ignore[no-untyped-call]
    leaves = {
        account.account: Decimal(position.units.number)
        for account in realization.iter_children(root)  # type: ignore[no-untyped-call]
        for position in account.balance
        if position.units.number
    }
    return {"balances": {account: str(amount) for account, amount in rollup(leaves).items()}}


# --- the harness ----------------------------------------------------------------------
def timed(command: list[str], repeats: int) -> tuple[float, float, str]:
    """Median wall time and median CPU time (user + system) of ``command`` in a fresh process
    each time, and its last output. The CPU time shows what the work costs on a busy machine."""
    walls, cpus, output = [], [], ""
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)  # noqa: S603
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        if done.returncode:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        output = done.stdout
    return statistics.median(walls), statistics.median(cpus), output


def worker(*args: str) -> list[str]:
    return [sys.executable, "-m", "bench.balances", *args]


def balances_of(output: str) -> Balances:
    return {account: Decimal(amount) for account, amount in json.loads(output)["balances"].items()}


def hledger_balances(output: str) -> Balances:
    """The budget-line accounts of ``hledger bal -O csv --flat`` (SME accounts summed into their line's)."""
    from projections.journal import rollup

    balances = {}
    for account, amount in list(csv.reader(io.StringIO(output)))[1:]:
        value = Decimal(amount.replace("EUR", "").strip() or "0")
        if account != "Total:" and value:
            balances[account] = value
    return rollup(balances)


def agree(ours: Balances, theirs: Balances, tool: str) -> None:
    """Refuse to report times for answers that differ."""
    if ours != theirs:
        wrong = sorted(a for a in ours.keys() | theirs.keys() if ours.get(a) != theirs.get(a))
        shown = "; ".join(f"{a}: ours {ours.get(a)}, {tool} {theirs.get(a)}" for a in wrong[:5])
        raise RuntimeError(f"{tool} disagrees with our budget on {len(wrong)} accounts: {shown}")


def measure_ours(store: Path, reads: list[Path]) -> tuple[float, float, str]:
    """Our side once into each (empty) read database: median wall and CPU time, last output."""
    runs = [timed(worker("ours", str(store), str(read)), 1) for read in reads]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs), runs[-1][2]


def export_journals(read: Path, folder: Path) -> tuple[Path, Path, int]:
    """The hledger and beancount journals of the read models in ``read``, and their transactions."""
    from projections import journal
    from projections.db import ReadDatabase

    hledger_file, beancount_file = folder / "balances.journal", folder / "balances.beancount"
    db = ReadDatabase(f"sqlite:///{read}")
    try:
        with db.reading() as conn:
            hledger_file.write_text(journal.hledger(conn), encoding="utf-8")
            beancount_file.write_text(journal.beancount(conn), encoding="utf-8")
    finally:
        db.close()
    transactions = sum(1 for row in hledger_file.read_text(encoding="utf-8").splitlines() if row[:1].isdigit())
    return hledger_file, beancount_file, transactions


def run(options: Options) -> list[Figure]:
    from bench.histories import history_copy
    from bench.report import Figure

    size = options.rebuild_events[0]
    repeats = QUICK_REPEATS if options.quick else REPEATS
    store = history_copy(options, size, "balances").resolve()
    scratch = options.workdir.resolve()
    reads = [scratch / f"balances-read-{n}.db" for n in range(repeats)]

    ours_seconds, ours_cpu, output = measure_ours(store, reads)
    events, ours_balances = json.loads(output)["events"], balances_of(output)
    hledger_file, beancount_file, transactions = export_journals(reads[0], scratch)
    for read in reads[1:]:
        read.unlink()

    beancount_seconds, beancount_cpu, output = timed(worker("beancount", str(beancount_file)), repeats)
    agree(ours_balances, balances_of(output), "beancount")
    hledger = shutil.which("hledger")
    hledger_seconds: float | None = None
    hledger_note = "hledger not installed (apt-get install hledger): not measured"
    if hledger is not None:
        command = [hledger, "-f", str(hledger_file), "bal", "--flat", "-O", "csv"]
        hledger_seconds, hledger_cpu, output = timed(command, repeats)
        agree(ours_balances, hledger_balances(output), "hledger")
        hledger_note = f"`hledger bal --flat -O csv`; CPU s: ours {ours_cpu:.2f}, hledger {hledger_cpu:.2f}"

    common = (
        f"{events:,} events, {transactions:,} journal transactions; fresh process each, median of {repeats}; "
        f"equal on {len(ours_balances)} budget balances"
    )
    beancount_note = f"no pickle cache; CPU s: ours {ours_cpu:.2f}, beancount {beancount_cpu:.2f}"
    return [
        recompute_figure(options, repeats),
        Figure(
            section=SECTION,
            name="balances from scratch vs hledger",
            unit="s",
            ours=ours_seconds,
            baseline=hledger_seconds,
            baseline_name="hledger bal",
            higher_is_better=False,
            bar=BAR,
            note=f"{common}; {hledger_note}",
        ),
        Figure(
            section=SECTION,
            name="balances from scratch vs beancount",
            unit="s",
            ours=ours_seconds,
            baseline=beancount_seconds,
            baseline_name="beancount load+realize",
            higher_is_better=False,
            bar=BAR,
            note=f"{common}; {beancount_note}",
        ),
    ]


def recompute_figure(options: Options, repeats: int) -> Figure:
    """``verify --recompute``'s fold against ``hledger bal`` on the largest history of the run
    (its read models and journal shared with the statements: bench.histories.books). Both must
    give the read models' balance for every budget account before a time is reported."""
    from bench.histories import books
    from bench.report import Figure
    from projections.db import ReadDatabase

    history = books(options, options.rebuild_events[-1])
    db = ReadDatabase(f"sqlite:///{history.read}", create=False)
    try:
        expected = budget_balances(db)
    finally:
        db.close()
    seconds, cpu, output = timed(worker("recompute", str(history.store)), repeats)
    events = json.loads(output)["events"]
    agree(expected, balances_of(output), "verify --recompute")
    hledger = shutil.which("hledger")
    hledger_seconds: float | None = None
    note = (
        f"{history.events:,} events ({events:,} of them folded), {history.transactions:,} journal transactions; "
        f"fresh process each, median of {repeats}"
    )
    if hledger is None:
        note = f"{note}; hledger not installed (apt-get install hledger): not measured"
    else:
        hledger_seconds, hledger_cpu, output = timed(
            [hledger, "-f", str(history.journal), "bal", "--flat", "-O", "csv"], repeats
        )
        agree(expected, hledger_balances(output), "hledger")
        note = f"{note}; equal on {len(expected)} budget balances; CPU s: ours {cpu:.2f}, hledger {hledger_cpu:.2f}"
    return Figure(
        section=SECTION,
        name="independent recompute vs hledger",
        unit="s",
        ours=seconds,
        baseline=hledger_seconds,
        baseline_name="hledger bal",
        higher_is_better=False,
        bar=RECOMPUTE_BAR,
        note=f"`grantledger verify --recompute`'s fold of the raw events; {note}",
    )


def main(argv: list[str]) -> int:
    """``ours STORE READ``, ``recompute STORE`` or ``beancount JOURNAL``: one side's work, its result as JSON."""
    match argv:
        case ["ours", store, read]:
            result = ours(Path(store), Path(read))
        case ["beancount", journal]:
            result = beancount(Path(journal))
        case ["recompute", store]:
            result = recomputed(Path(store))
        case _:
            print(main.__doc__, file=sys.stderr)
            return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
