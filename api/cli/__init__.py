"""The ``grantledger`` command line: the parser here, the commands by area in this package."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence

from api.cli.books import cmd_audit, cmd_budget, cmd_claims, cmd_import_rates, cmd_search
from api.cli.claim_fixes import add_parsers as add_claim_fix_parsers
from api.cli.common import iso_date, position
from api.cli.corrections import add_parsers as add_correction_parsers
from api.cli.documents import add_parsers as add_document_parsers
from api.cli.reporting import add_parsers as add_reporting_parsers
from api.cli.service import cmd_demo, cmd_info, cmd_project, cmd_replay, cmd_serve
from api.cli.tokens import EXPIRES_HELP, cmd_token
from api.cli.trust import cmd_export, cmd_key, cmd_verify
from api.cli.users import add_parser as add_user_parser
from ledger.errors import LedgerError
from ledger.storage import ENV_URL
from projections.chain import ChainBroken
from projections.db import ENV_READ_URL


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

    info = commands.add_parser("info", help="say what the stores hold")
    info.set_defaults(run=cmd_info)

    project = commands.add_parser("project", help="apply new events to the read models")
    project.add_argument("--follow", action="store_true", help="keep applying new events until interrupted")
    project.set_defaults(run=cmd_project)

    replay = commands.add_parser(
        "replay",
        help="rebuild every read model from the first event and compare with the live ones (exit 1 on a difference)",
    )
    replay.set_defaults(run=cmd_replay)

    exporter = commands.add_parser("export", help="export the books: a workbook, CSV files or a journal")
    exporter.add_argument("--format", choices=["csv", "xlsx", "hledger", "beancount"], required=True)
    exporter.add_argument(
        "--output", required=True, help="the file to write; for csv a directory, or a file ending in .zip"
    )
    exporter.add_argument("--partner", help="only this partner's rows (any case), e.g. POINTEX")
    exporter.set_defaults(run=cmd_export)

    key = commands.add_parser("key", help="keys for encryption at rest or for sealing snapshots")
    key_commands = key.add_subparsers(dest="key_command", required=True)
    key_commands.add_parser("create", help="print a new AES-256 key (alone on the last line)")
    key.set_defaults(run=cmd_key)

    check = commands.add_parser(
        "verify",
        help="check the stored events against their hash chain, every snapshot, signed statement and supporting "
        "document (exit 1 at the first tampered position or on any bad snapshot, statement or document)",
    )
    check.add_argument(
        "--expect-head",
        metavar="SEAL",
        help="the head written down before, POSITION:SEAL as verify prints it (or the seal alone): "
        "exit 1 unless the history recomputed from the stored events has it",
    )
    check.add_argument(
        "--recompute",
        action="store_true",
        help="also fold the raw stored events in memory into every budget line's figures and compare them "
        "with the read models (nothing is written); exit 1 on any difference",
    )
    check.set_defaults(run=cmd_verify)

    budget = commands.add_parser("budget", help="the budget overview, now or as of a past point")
    when = budget.add_mutually_exclusive_group()
    when.add_argument("--as-of", type=iso_date, metavar="DATE", help="as recorded by the end of DATE (UTC)")
    when.add_argument("--position", type=position, metavar="N", help="as recorded up to event position N")
    when.add_argument("--effective", type=iso_date, metavar="DATE", help="as effective on DATE (business dates)")
    budget.add_argument("--partner", help="only this partner's lines (its code, in any case)")
    budget.set_defaults(run=cmd_budget)

    demo = commands.add_parser("demo", help="load the EU-ALLIANCE demo into an empty store and print tokens")
    demo.add_argument("--reuse", action="store_true", help="keep a store that already holds the demo")
    demo.set_defaults(run=cmd_demo)

    serve = commands.add_parser("serve", help="run the web app (at /) and the HTTP API (docs at /docs)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes (default 1; several run under gunicorn, on Unix)"
    )
    serve.set_defaults(run=cmd_serve)

    token = commands.add_parser("token", help="create, list or revoke API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="create a token; it is printed once, alone on the last line")
    create.add_argument("--role", required=True, choices=["officer", "coordinator", "auditor"])
    create.add_argument("--partner", help="the partner an officer works for (the coordinator's own partner)")
    create.add_argument("--name", required=True, help="who will use it (recorded as the actor of their commands)")
    create.add_argument("--expires", metavar="DATE|DAYS", help=EXPIRES_HELP)
    token_commands.add_parser("list", help="list tokens with their expiry and last use (never the tokens themselves)")
    revoke = token_commands.add_parser("revoke", help="revoke a user's token")
    revoke.add_argument("--name", required=True)
    token.set_defaults(run=cmd_token)
    add_user_parser(commands)

    rates = commands.add_parser("import-rates", help="record monthly exchange rates from a CSV file")
    rates.add_argument("file", help="CSV with a header: currency,month,rate[,source]")
    rates.set_defaults(run=cmd_import_rates)
    add_correction_parsers(commands)

    claims = commands.add_parser("claims", help="list claims")
    claims.add_argument(
        "--state", help="only claims in this state: submitted, approved, partly_paid, paid, rejected, withdrawn"
    )
    claims.add_argument("--partner", help="only claims charged to this partner (its code, in any case)")
    claims.add_argument("--mission", help="only claims under this mission (its id or its code, e.g. JPN-2023)")
    claims.add_argument("--sme", help="only claims of this SME (its id or its identifier, as registered)")
    claims.add_argument("--limit", type=int, default=100)
    claims.set_defaults(run=cmd_claims)

    add_claim_fix_parsers(commands)
    add_document_parsers(commands)
    add_reporting_parsers(commands)
    found = commands.add_parser("search", help="find claims, SMEs, payments and own costs")
    found.add_argument(
        "text", help="an SME's name or identifier, a receipt or bank reference, a description or a EUR amount"
    )
    found.add_argument("--limit", type=int, default=50)
    found.set_defaults(run=cmd_search)

    audit = commands.add_parser("audit", help="show the audit trail")
    audit.add_argument("--record", help="only events of this record (claim, SME, mission... id)")
    audit.add_argument("--actor", help="only events by this user")
    audit.add_argument("--after", type=position, help="only events after this position")
    audit.add_argument("--limit", type=int, default=100)
    audit.set_defaults(run=cmd_audit)
    return parser


#: What a shell reports for a command whose reader went away (killed by SIGPIPE: 128 + 13).
BROKEN_PIPE = 128 + signal.SIGPIPE


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status = int(args.run(args))
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return status
    except BrokenPipeError:
        # `grantledger audit | head`: the reader has all it wanted. End quietly, as a shell
        # tool does, with no traceback; point stdout at nothing so the final flush is silent.
        _silence_stdout()
        return BROKEN_PIPE
    except LedgerError as error:
        print(f"grantledger: {error.title}: {error.detail}", file=sys.stderr)
        return 2
    except ChainBroken as error:
        print(f"grantledger: {error}", file=sys.stderr)
        return 1


def _silence_stdout() -> None:
    try:
        fileno = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test's capture)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fileno)
    os.close(devnull)
