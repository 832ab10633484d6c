"""The ``grantledger`` command line."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.context import LedgerContext, open_context
from ledger.errors import LedgerError
from ledger.storage import ENV_URL, database_url, library_env
from projections.db import ENV_READ_URL
from projections.queries import AsOf, budget_overview, position_recorded_by
from projections.replay import replay_and_compare


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _console() -> Console:
    """Rich output; full width when written to a file or a pipe (no terminal to fit)."""
    return Console() if sys.stdout.isatty() else Console(width=160)


def _context(args: argparse.Namespace) -> LedgerContext:
    return open_context(args.database_url, args.read_database_url)


def _info(args: argparse.Namespace) -> int:
    url = args.database_url or database_url()
    with _context(args) as ctx:
        module = library_env(url)["PERSISTENCE_MODULE"].rsplit(".", 1)[-1]
        print(f"store: {module} ({url})")
        print(f"read models: {ctx.read_db.url}")
        print(f"events recorded: {ctx.app.recorder.max_notification_id() or 0}")
        print(f"events projected: {ctx.read_db.position()}")
    return 0


def _project(args: argparse.Namespace) -> int:
    """Bring the read models up to date, or keep them so with --follow."""
    with _context(args) as ctx:
        applied = ctx.projector.catch_up()
        print(f"applied {applied} events; read models at event {ctx.read_db.position()}")
        if args.follow:
            stopping = threading.Event()
            try:
                ctx.projector.follow(stopping)
            except KeyboardInterrupt:
                stopping.set()
    return 0


def _replay(args: argparse.Namespace) -> int:
    """Rebuild every read model from the first event and compare with the live ones."""
    err = Console(stderr=True)
    with _context(args) as ctx:
        head = ctx.app.recorder.max_notification_id() or 0
        started = time.perf_counter()
        with Progress(
            TextColumn("replaying"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} events/s"),
            TimeElapsedColumn(),
            console=err,
        ) as bar:
            task = bar.add_task("replay", total=head, rate="-")

            def progress(applied: int, position: int) -> None:
                elapsed = max(time.perf_counter() - started, 1e-9)
                bar.update(task, completed=position, rate=f"{applied / elapsed:,.0f}")

            report = replay_and_compare(ctx.app, ctx.read_db, progress=progress)
        elapsed = time.perf_counter() - started
        rate = report.events / elapsed if elapsed else 0.0
        print(
            f"replayed {report.events} events to position {report.position} in {elapsed:.1f} s ({rate:,.0f} events/s)"
        )
        if report.identical:
            print("rebuilt read models are identical to the live ones")
            return 0
        print(f"{len(report.differences)} differences between the live and the rebuilt read models:")
        for difference in report.differences:
            print(f"  {difference}")
        return 1


def _as_of(args: argparse.Namespace, ctx: LedgerContext) -> AsOf:
    if args.position is not None:
        return AsOf(position=args.position)
    if args.as_of is not None:
        with ctx.read_db.reading() as conn:
            return AsOf(position=position_recorded_by(conn, args.as_of))
    if args.effective is not None:
        return AsOf(effective=args.effective)
    return AsOf()


def _budget(args: argparse.Namespace) -> int:
    """The budget overview: every partner x category line, now or as of a past point."""
    with _context(args) as ctx:
        ctx.projector.catch_up()
        as_of = _as_of(args, ctx)
        with ctx.read_db.reading() as conn:
            overview = budget_overview(conn, as_of)
        if overview is None:
            print("no grant signed (as of that point): nothing to show")
            return 1
        title = f"{overview.code} budget (EUR)"
        if as_of.position is not None:
            title += f" as recorded up to event {as_of.position}"
        if as_of.effective is not None:
            title += f" as effective on {as_of.effective}"
        table = Table(title=title)
        for heading in ("partner", "category", "allocated", "pending", "committed", "paid", "own costs", "remaining"):
            table.add_column(heading, justify="left" if heading in {"partner", "category"} else "right")
        lines = overview.lines if args.partner is None else overview.partner(args.partner)
        for line in (*lines, overview.totals(lines)):
            table.add_row(
                line.partner,
                line.category,
                *(_money(v) for v in (line.allocated, line.pending, line.committed, line.paid, line.spent)),
                _money(line.remaining),
            )
        _console().print(table)
        print(
            f"total eligible budget EUR {_money(overview.total)}; EU cap EUR {_money(overview.eu_cap)}; "
            f"EU contribution on costs so far EUR {_money(overview.eu_contribution)}"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grantledger",
        description="Event-sourced budget and reimbursement ledger for EU-funded projects.",
    )
    parser.add_argument(
        "--database-url",
        help=f"where the events live (default: ${ENV_URL}, else sqlite:///grantledger.db)",
    )
    parser.add_argument(
        "--read-database-url",
        help=f"where the read models live (default: ${ENV_READ_URL}, else derived from the event store's URL)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    info = commands.add_parser("info", help="create the stores if needed and say what they hold")
    info.set_defaults(run=_info)

    project = commands.add_parser("project", help="apply new events to the read models")
    project.add_argument("--follow", action="store_true", help="keep applying new events until interrupted")
    project.set_defaults(run=_project)

    replay = commands.add_parser(
        "replay",
        help="rebuild every read model from the first event and compare with the live ones (exit 1 on a difference)",
    )
    replay.set_defaults(run=_replay)

    budget = commands.add_parser("budget", help="the budget overview, now or as of a past point")
    when = budget.add_mutually_exclusive_group()
    when.add_argument("--as-of", type=date.fromisoformat, metavar="DATE", help="as recorded by the end of DATE (UTC)")
    when.add_argument("--position", type=int, metavar="N", help="as recorded up to event position N")
    when.add_argument(
        "--effective", type=date.fromisoformat, metavar="DATE", help="as effective on DATE (business dates)"
    )
    budget.add_argument("--partner", help="only this partner's lines")
    budget.set_defaults(run=_budget)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except LedgerError as error:
        print(f"grantledger: {error.title}: {error.detail}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
