"""Reporting to the EU on the command line: a partner's financial statement (JSON, XLSX or PDF)
and the workflow steps, through api.reporting as the JSON API and the web app go.

Lock and sign act as the local user, an officer of the partner given (as correct-payment does);
send back and submit as the local user, the grant's coordinator (as import-rates does)."""

from __future__ import annotations

import argparse
import importlib
import sys
from datetime import date
from pathlib import Path

from api import reporting
from api.cli.books import cli_actor, officer_actor
from api.cli.common import context, iso_date
from api.context import LedgerContext
from api.reporting_book import statement_workbook
from api.schemas.reporting import StatementPublic
from ledger.errors import InvalidInput
from projections.codes import partner_code

FORMATS = ("json", "xlsx", "pdf")


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    shown = commands.add_parser("statement", help="a partner's financial statement for a reporting period")
    shown.add_argument("--partner", required=True, help="the partner's code, in any case, e.g. NTT")
    shown.add_argument("--period", required=True, type=int, help="the reporting period's number, from 1")
    shown.add_argument("--format", choices=FORMATS, default="json", help="json (printed), xlsx or pdf")
    shown.add_argument("--output", help="the file to write (json: printed when not given)")
    shown.set_defaults(run=cmd_statement)

    for name, step, about in (
        ("statement-lock", "lock", "lock a partner's statement for review (as an officer of the partner)"),
        ("statement-sign", "sign", "sign a partner's locked statement (as an officer of the partner)"),
        ("statement-send-back", "send-back", "send a statement back to its partner (as the coordinator)"),
    ):
        command = commands.add_parser(name, help=about)
        command.add_argument("--partner", required=True, help="the partner's code, in any case, e.g. NTT")
        command.add_argument("--period", required=True, type=int, help="the reporting period's number")
        command.add_argument("--reason", required=step == "send-back", default="", help="why (recorded with the step)")
        command.add_argument("--on", type=iso_date, metavar="DATE", help="business date of the step (default: today)")
        command.set_defaults(run=cmd_step, step=step)

    submit = commands.add_parser("submit-period", help="submit a reporting period once every statement is signed")
    submit.add_argument("--period", required=True, type=int, help="the reporting period's number")
    submit.add_argument("--reason", default="", help="why (recorded with the step)")
    submit.add_argument("--on", type=iso_date, metavar="DATE", help="business date of the submission (default: today)")
    submit.set_defaults(run=cmd_submit)


def _view(ctx: LedgerContext, partner: str, number: int) -> reporting.StatementView:
    ctx.projector.catch_up()
    with ctx.read_db.reading(snapshot=True) as conn:
        return reporting.statement_view(conn, partner_code(conn, partner), number)


def cmd_statement(args: argparse.Namespace) -> int:
    """The statement as GET /reporting/periods/{n}/statements/{partner} gives it, or its download."""
    with context(args, read_only=True) as ctx:
        view = _view(ctx, args.partner, args.period)
        if args.format == "json":
            text = StatementPublic.of(view).model_dump_json(indent=2) + "\n"
            if args.output is None:
                sys.stdout.write(text)
                return 0
            data = text.encode("utf-8")
        else:
            data = _document(ctx, view, args.format)
    partner = view.record.partner
    output = Path(args.output or f"statement-{partner}-period-{args.period}.{args.format}")
    _write(output, data)
    print(f"wrote {output} ({partner}'s statement for period {args.period}, {view.record.state.value})")
    print(f"at event position {view.position}, head seal {view.seal}")
    return 0


def _document(ctx: LedgerContext, view: reporting.StatementView, kind: str) -> bytes:
    if kind == "xlsx":
        with ctx.read_db.reading() as conn:
            return statement_workbook([view], reporting.grant_name(conn))
    try:  # the web app's renderer: the same template as the screen
        renderer = importlib.import_module("api.web.statement_pdf")
    except ImportError:
        raise InvalidInput("the PDF of a statement is not available yet in this release; use --format xlsx") from None
    with ctx.read_db.reading(snapshot=True) as conn:
        pdf: bytes = renderer.render_statement_pdf(conn, view.record.partner, view.record.number)
    return pdf


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _on(args: argparse.Namespace) -> date:
    return args.on if args.on is not None else date.today()


def cmd_step(args: argparse.Namespace) -> int:
    """Lock, sign or send back a statement (POST /reporting/periods/{n}/statements/{partner}/...)."""
    with context(args) as ctx:
        number, on = args.period, _on(args)
        if args.step == "send-back":
            actor = cli_actor(ctx)
            ctx.projector.catch_up()
            with ctx.read_db.reading() as conn:
                partner = partner_code(conn, args.partner)
            reporting.send_back_statement(ctx, actor, partner, number, on, args.reason)
        else:
            actor = officer_actor(ctx, args.partner)
            partner = str(actor.partner)
            if args.step == "lock":
                reporting.lock_statement(ctx, actor, partner, number, on, args.reason)
            else:
                reporting.sign_statement(ctx, actor, partner, number, on, args.reason)
        view = _view(ctx, partner, number)
    record = view.record
    print(f"{partner}'s statement for period {number} is {record.state.value}")
    if record.digest:
        print(f"signed at event position {view.position}, head seal {view.seal}, digest {record.digest}")
    return 0


def cmd_submit(args: argparse.Namespace) -> int:
    """Submit a period (POST /reporting/periods/{n}/submit)."""
    with context(args) as ctx:
        reporting.submit_period(ctx, cli_actor(ctx), args.period, _on(args), args.reason)
        with ctx.read_db.reading() as conn:
            view = reporting.period_view(conn, args.period)
    print(f"period {view.period.number} ({view.period.start} to {view.period.end}) is submitted:")
    for record in view.records:
        print(f"  {record.partner:<12} {record.state.value:<10} digest {record.digest}")
    return 0
