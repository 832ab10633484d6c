"""The ``grantledger`` command line."""

from __future__ import annotations

import argparse
import contextlib
import csv
import getpass
import os
import sys
import threading
import time
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.context import LedgerContext, open_context
from api.demo import DEMO_ACTORS, load_demo
from api.schemas import MAX_POSITION
from api.security import ServiceStore
from ledger.actors import Actor
from ledger.errors import InvalidInput, LedgerError
from ledger.money import check_currency, parse_rate
from ledger.rates import DEFAULT_SOURCE, RateAlreadyRecorded, RateMissing
from ledger.storage import ENV_CIPHER_KEY, ENV_URL, database_url, library_env
from projections import export
from projections import journal as journal_of
from projections.chain import verify
from projections.db import ENV_READ_URL
from projections.queries import (
    AsOf,
    AuditFilter,
    ClaimFilter,
    audit_trail,
    budget_overview,
    list_claims,
    position_recorded_by,
)
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


def _store(ctx: LedgerContext) -> ServiceStore:
    return ServiceStore(ctx.read_db)


def _token(args: argparse.Namespace) -> int:
    """Create, list or revoke API tokens (only a hash is stored; a new token is shown once)."""
    with _context(args) as ctx:
        store = _store(ctx)
        action = args.token_command
        if action == "create":
            token = store.create_token(name=args.name, role=args.role, partner=args.partner)
            print(
                f"token for {args.name} ({args.role}{', ' + args.partner if args.partner else ''}); "
                "it is shown only now, keep it safe:",
                file=sys.stderr,
            )
            print(token)
        elif action == "list":
            table = Table(title="API tokens")
            for heading in ("name", "role", "partner", "created", "revoked"):
                table.add_column(heading)
            for info in store.list_tokens():
                table.add_row(
                    info.name,
                    info.role,
                    info.partner or "",
                    f"{info.created_at:%Y-%m-%d %H:%M}",
                    "" if info.revoked_at is None else f"{info.revoked_at:%Y-%m-%d %H:%M}",
                )
            _console().print(table)
        else:
            store.revoke_token(args.name)
            print(f"revoked the token of {args.name}")
    return 0


def _cli_actor(ctx: LedgerContext) -> Actor:
    """Who the command line acts as when it writes: the local user, as the grant's coordinator."""
    return Actor.coordinator(f"cli:{getpass.getuser()}", ctx.app.grant().coordinator)


def _import_rates(args: argparse.Namespace) -> int:
    """Record monthly rates from a CSV file with columns currency,month,rate[,source].

    Every row is checked first (a decimal rate, a known currency, no clash with a rate already
    recorded); one bad row records nothing at all and names its line."""
    with _context(args) as ctx, open(args.file, newline="", encoding="utf-8") as handle:
        actor = _cli_actor(ctx)
        rows: list[tuple[str, str, Decimal, str]] = []
        for number, row in enumerate(csv.DictReader(handle), start=2):
            currency, month = (row.get("currency") or "").strip(), (row.get("month") or "").strip()
            try:
                rate = parse_rate((row.get("rate") or "").strip(), "rate")
                check_currency(currency)
                with contextlib.suppress(RateMissing):
                    known = ctx.app.quote(currency, month)
                    if known.rate != rate:
                        raise RateAlreadyRecorded(
                            f"{currency} {month} is recorded at {known.rate}, the file says {rate}; "
                            "correct a rate with a correction, not an import"
                        )
            except LedgerError as error:
                raise InvalidInput(f"{args.file} line {number}: {error.detail}; nothing was recorded") from None
            rows.append((currency, month, rate, (row.get("source") or DEFAULT_SOURCE).strip()))
        for currency, month, rate, source in rows:
            ctx.app.record_rate(actor=actor, currency=currency, month=month, rate=rate, source=source)
        ctx.projector.catch_up()
        print(f"recorded {len(rows)} rates from {args.file}")
    return 0


def _claims(args: argparse.Namespace) -> int:
    """Claims with their state and amounts, filtered."""
    with _context(args) as ctx:
        ctx.projector.catch_up()
        with ctx.read_db.reading() as conn:
            rows, count = list_claims(conn, ClaimFilter(state=args.state, partner=args.partner), limit=args.limit)
        table = Table(title=f"claims ({len(rows)} of {count})")
        for heading in ("claim", "partner", "state", "submitted", "requested", "approved", "paid", "reason"):
            table.add_column(heading, justify="right" if heading in {"requested", "approved", "paid"} else "left")
        for r in rows:
            table.add_row(
                r.id[:8],
                r.partner,
                r.state,
                str(r.submitted_on),
                _money(r.requested),
                "" if r.approved is None else _money(r.approved),
                "" if r.paid is None else _money(r.paid),
                r.reason,
            )
        _console().print(table)
    return 0


def _audit(args: argparse.Namespace) -> int:
    """The audit trail: who did what, when, to which record, and why."""
    with _context(args) as ctx:
        ctx.projector.catch_up()
        with ctx.read_db.reading() as conn:
            rows = audit_trail(
                conn,
                AuditFilter(aggregate_id=args.record, actor_id=args.actor, after_position=args.after),
                limit=args.limit,
            )
        table = Table(title="audit trail")
        for heading in ("#", "recorded (UTC)", "effective", "actor", "role", "record", "event", "reason"):
            table.add_column(heading)
        for r in rows:
            table.add_row(
                str(r["position"]),
                f"{r['recorded_at']:%Y-%m-%d %H:%M:%S}",
                str(r["effective_date"]),
                r["actor_id"],
                r["role"],
                f"{r['aggregate_type']} {r['aggregate_id'][:8]} v{r['version']}",
                r["event_type"],
                r["reason"],
            )
        _console().print(table)
    return 0


def _demo(args: argparse.Namespace) -> int:
    """Load the EU-ALLIANCE demo into an empty store and print tokens to try it with.

    With --reuse, a store that already holds the demo is kept (the demo users get new tokens)."""
    url = args.database_url or database_url()
    with _context(args) as ctx:
        if ctx.app.recorder.max_notification_id() and args.reuse:
            print(f"the demo is already loaded in {url}; issuing new tokens for its users")
        else:
            summary = load_demo(ctx.app)
            for line in summary.lines():
                print(line)
        ctx.projector.catch_up()
        store = _store(ctx)
        known = {info.name for info in store.list_tokens() if info.revoked_at is None}
        print(f"\nevents: {url}\nread models: {ctx.read_db.url}")
        print("tokens (shown once; send as 'Authorization: Bearer <token>'):")
        for actor in DEMO_ACTORS:
            if actor.id in known:
                store.revoke_token(actor.id)
            token = store.create_token(name=actor.id, role=actor.role, partner=actor.partner)
            print(f"  {actor.role:<11} {actor.partner or '':<10} {actor.id:<20} {token}")
    return 0


def _export(args: argparse.Namespace) -> int:
    """Write the audit trail, claims, budget and SME support as CSV files or one XLSX workbook."""
    with _context(args) as ctx:
        ctx.projector.catch_up()
        with ctx.read_db.reading() as conn:
            tables = export.sheets(conn)
            journal = {"hledger": journal_of.hledger, "beancount": journal_of.beancount}.get(args.format)
            text = None if journal is None else journal(conn)
        output = Path(args.output)
        if text is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
            print(f"wrote {output} ({args.format} journal)")
        elif args.format == "csv":
            for path in export.write_csv(tables, output):
                print(f"wrote {path}")
        else:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_bytes(export.to_xlsx(tables))
            print(f"wrote {output} ({', '.join(sheet.name for sheet in tables)})")
    return 0


def _key(_args: argparse.Namespace) -> int:
    """Print a new AES-256 key for GRANTLEDGER_CIPHER_KEY (encryption of the events at rest)."""
    from eventsourcing.cryptography import AESCipher

    print(f"keep it secret and safe: without it the events cannot be read; set {ENV_CIPHER_KEY} to it", file=sys.stderr)
    print(AESCipher.create_key(32))
    return 0


def _verify(args: argparse.Namespace) -> int:
    """Recompute the hash chain from the raw stored events; exit 1 at the first disagreement."""
    with _context(args) as ctx:
        verdict = verify(ctx.app, ctx.read_db)
        print(verdict)
    return 0 if verdict.intact else 1


def _serve(args: argparse.Namespace) -> int:
    """Run the HTTP service (uvicorn); several workers are safe (each projects under a lock)."""
    import uvicorn

    if args.database_url:
        os.environ[ENV_URL] = args.database_url
    if args.read_database_url:
        os.environ[ENV_READ_URL] = args.read_database_url
    uvicorn.run("api.main:create_app", factory=True, host=args.host, port=args.port, workers=args.workers)
    return 0


def _position(text: str) -> int:
    """An event position on the command line: a whole number from 0 to 2**63 - 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= MAX_POSITION:
        raise argparse.ArgumentTypeError(f"{text} is not an event position (0 to {MAX_POSITION})")
    return value


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

    exporter = commands.add_parser("export", help="export the audit trail, claims, budget and SME support")
    exporter.add_argument("--format", choices=["csv", "xlsx", "hledger", "beancount"], required=True)
    exporter.add_argument("--output", required=True, help="a directory for csv, else the file to write")
    exporter.set_defaults(run=_export)

    key = commands.add_parser("key", help="encryption keys for the events at rest")
    key_commands = key.add_subparsers(dest="key_command", required=True)
    key_commands.add_parser("create", help="print a new AES-256 key (alone on the last line)")
    key.set_defaults(run=_key)

    check = commands.add_parser(
        "verify", help="check the stored events against their hash chain (exit 1 at the first tampered position)"
    )
    check.set_defaults(run=_verify)

    budget = commands.add_parser("budget", help="the budget overview, now or as of a past point")
    when = budget.add_mutually_exclusive_group()
    when.add_argument("--as-of", type=date.fromisoformat, metavar="DATE", help="as recorded by the end of DATE (UTC)")
    when.add_argument("--position", type=_position, metavar="N", help="as recorded up to event position N")
    when.add_argument(
        "--effective", type=date.fromisoformat, metavar="DATE", help="as effective on DATE (business dates)"
    )
    budget.add_argument("--partner", help="only this partner's lines")
    budget.set_defaults(run=_budget)

    demo = commands.add_parser("demo", help="load the EU-ALLIANCE demo into an empty store and print tokens")
    demo.add_argument("--reuse", action="store_true", help="keep a store that already holds the demo")
    demo.set_defaults(run=_demo)

    serve = commands.add_parser("serve", help="run the HTTP API (docs at /docs)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.set_defaults(run=_serve)

    token = commands.add_parser("token", help="create, list or revoke API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="create a token; it is printed once, alone on the last line")
    create.add_argument("--role", required=True, choices=["officer", "coordinator", "auditor"])
    create.add_argument("--partner", help="the partner an officer works for (the coordinator's own partner)")
    create.add_argument("--name", required=True, help="who will use it (recorded as the actor of their commands)")
    token_commands.add_parser("list", help="list tokens (never the tokens themselves)")
    revoke = token_commands.add_parser("revoke", help="revoke a user's token")
    revoke.add_argument("--name", required=True)
    token.set_defaults(run=_token)

    rates = commands.add_parser("import-rates", help="record monthly exchange rates from a CSV file")
    rates.add_argument("file", help="CSV with a header: currency,month,rate[,source]")
    rates.set_defaults(run=_import_rates)

    claims = commands.add_parser("claims", help="list claims")
    claims.add_argument("--state", choices=["submitted", "approved", "paid", "rejected", "withdrawn"])
    claims.add_argument("--partner", help="only claims charged to this partner")
    claims.add_argument("--limit", type=int, default=100)
    claims.set_defaults(run=_claims)

    audit = commands.add_parser("audit", help="show the audit trail")
    audit.add_argument("--record", help="only events of this record (claim, SME, mission... id)")
    audit.add_argument("--actor", help="only events by this user")
    audit.add_argument("--after", type=_position, help="only events after this position")
    audit.add_argument("--limit", type=int, default=100)
    audit.set_defaults(run=_audit)
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
