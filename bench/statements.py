"""Section 7: every partner's financial statement for one reporting period, against hledger's
balances of that period (``hledger bal -b START -e END``) on the journal of the same history.

The history is the largest of the run (bench.histories.books: the generated history with
reporting periods set, its read models rebuilt and its journal exported once for the run). Each
side starts a fresh process and is timed around it: ours opens the read models and builds each
partner's statement for the last period the way the JSON API, the command line and the web app
do (api.reporting.statement_view: the figures, the cumulative request over the periods before,
the record and the seal), in one read transaction; hledger parses the journal and sums the
period's postings. Before any time is reported, each partner's costs of the period per category
(own costs spent, FSTP paid) must equal hledger's balance of the matching account over the period.

This module is also the worker's entry point (``python -m bench.statements READ NUMBER``).
"""

from __future__ import annotations

import json
import shutil
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.options import Options
    from bench.report import Figure

SECTION = "7 statements"
#: Issue 16, bar 5: every partner's statement for a period at least 10x faster than hledger's balances of it.
BAR = 10.0
REPEATS, QUICK_REPEATS = 3, 1


def statements(read: Path, number: int) -> dict[str, object]:
    """Every partner's statement for period ``number`` as every entrypoint shows it; each
    partner's costs of the period per journal account, and the requests."""
    from api import reporting
    from projections.db import ReadDatabase
    from projections.journal import line_account
    from projections.statements import COST_MEASURE, added

    db = ReadDatabase(f"sqlite:///{read}", create=False)
    try:
        with db.reading(snapshot=True) as conn:
            views = [reporting.statement_view(conn, partner, number) for partner in reporting.partners(conn)]
    finally:
        db.close()
    costs = {}
    for view in views:
        statement = view.statement
        for category, amount in added(statement.current, *statement.adjustments.values()).items():
            if amount.amount:
                costs[line_account(statement.partner, category.value, COST_MEASURE[category])] = str(amount.amount)
    return {
        "partners": [view.statement.partner for view in views],
        "requested": str(sum((view.statement.figures.requested.amount for view in views), Decimal(0))),
        "costs": costs,
    }


def cost_accounts(partners: list[str]) -> set[str]:
    """The journal accounts a statement's costs come from: each partner's own costs of every
    direct category but FSTP, and its FSTP paid (with the SMEs' sub-accounts rolled up)."""
    from projections.journal import line_account
    from projections.statements import COST_MEASURE, DIRECT

    return {line_account(p, category.value, COST_MEASURE[category]) for p in partners for category in DIRECT}


def run(options: Options) -> list[Figure]:
    from bench.balances import agree, hledger_balances, timed
    from bench.histories import books
    from bench.report import Figure
    from projections import tables as t
    from projections.db import ReadDatabase
    from projections.statements import reporting_terms

    size = options.rebuild_events[-1]
    repeats = QUICK_REPEATS if options.quick else REPEATS
    history = books(options, size)
    db = ReadDatabase(f"sqlite:///{history.read}", create=False)
    try:
        with db.reading() as conn:
            terms = reporting_terms(conn)
            partners = sorted(conn.execute(t.partners.select().with_only_columns(t.partners.c.code)).scalars())
    finally:
        db.close()
    if terms is None or not terms.periods:
        raise RuntimeError(f"{history.store} holds no reporting periods")
    period = terms.periods[-1]
    ours_command = [sys.executable, "-m", "bench.statements", str(history.read), str(period.number)]
    ours_seconds, ours_cpu, output = timed(ours_command, repeats)
    result = json.loads(output)
    if sorted(result["partners"]) != partners:
        raise RuntimeError(f"statements for {result['partners']}, the grant's partners are {partners}")
    ours_costs = {account: Decimal(amount) for account, amount in result["costs"].items()}
    if not ours_costs:
        raise RuntimeError(f"no partner has costs in {period}: nothing to compare")

    shown = f"{len(partners)} partners' statements for {period}, {history.events:,} events"
    hledger = shutil.which("hledger")
    hledger_seconds: float | None = None
    if hledger is None:
        note = f"{shown}; hledger not installed (apt-get install hledger): not compared, no baseline"
    else:
        end = (period.end + timedelta(days=1)).isoformat()  # hledger's end date is exclusive
        dates = ["-b", period.start.isoformat(), "-e", end]
        hledger_seconds, hledger_cpu, output = timed(
            [hledger, "-f", str(history.journal), "bal", *dates, "--flat", "-O", "csv"], repeats
        )
        wanted = cost_accounts(partners)
        theirs = {account: amount for account, amount in hledger_balances(output).items() if account in wanted}
        agree(ours_costs, theirs, "hledger")
        note = (
            f"{shown}, {history.transactions:,} journal transactions; `hledger bal {' '.join(dates)} --flat -O csv`; "
            f"fresh process each, median of {repeats}; equal on {len(ours_costs)} costs per partner and category; "
            f"CPU s: ours {ours_cpu:.2f}, hledger {hledger_cpu:.2f}"
        )
    return [
        Figure(
            section=SECTION,
            name="every partner's statement for a period vs hledger",
            unit="s",
            ours=ours_seconds,
            baseline=hledger_seconds,
            baseline_name="hledger bal -b -e",
            higher_is_better=False,
            bar=BAR,
            note=f"`api.reporting.statement_view` per partner; {note}",
        )
    ]


def main(argv: list[str]) -> int:
    """``READ NUMBER``: every partner's statement for period NUMBER of the read models in READ, as JSON."""
    match argv:
        case [read, number]:
            print(json.dumps(statements(Path(read), int(number))))
            return 0
        case _:
            print(main.__doc__, file=sys.stderr)
            return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
