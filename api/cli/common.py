"""Shared pieces of the command line: opening the stores, printing, parsing positions and dates."""

from __future__ import annotations

import argparse
import errno
import os
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

from rich.console import Console

from api.context import LedgerContext, open_context
from api.schemas import MAX_POSITION, parse_iso_date
from ledger.storage import DEFAULT_URL, ENV_URL, NoLedger
from projections.chain import ChainBroken

#: Where scripts/demo keeps the demo (relative to the repository, where it runs).
DEMO_STORE = Path("demo/grantledger.db")
DEMO_URL = f"sqlite:///{DEMO_STORE}"


def money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """The reader went away (`grantledger audit | head`): rich would exit 1 on its own; say
        so to main() instead, which ends every command the same quiet way (exit 141)."""
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, "the reader of the output went away")


def console() -> Console:
    """Rich output; full width when written to a file or a pipe (no terminal to fit)."""
    return _Console() if sys.stdout.isatty() else _Console(width=160)


def context(args: argparse.Namespace, *, create: bool = False, read_only: bool = False) -> LedgerContext:
    """The stores the command line names. Only commands that may start a ledger (demo, token
    create) pass ``create``: the others refuse a URL that holds none, creating nothing; when
    that URL is the default and the demo's store is here, the refusal says how to use it.
    Commands that only read (``read_only``) also refuse read models that do not exist: they
    would otherwise check, or seal from scratch, a read store made by a typo."""
    try:
        return open_context(
            args.database_url, args.read_database_url, must_exist=not create, read_models_must_exist=read_only
        )
    except NoLedger:
        if args.database_url or os.environ.get(ENV_URL) or not DEMO_STORE.is_file():
            raise
        raise NoLedger(
            f"no ledger at {DEFAULT_URL} (the default store); the demo's store is {DEMO_STORE}: "
            f"add --database-url {DEMO_URL} or set {ENV_URL}={DEMO_URL}"
        ) from None


def stuck_projector(ctx: LedgerContext) -> str | None:
    """Bring the read models and the chain up to date; None if that worked, else why the
    projector cannot (the chain is broken, or an event cannot be applied, e.g. because read
    models ahead of the chain already hold its rows)."""
    try:
        ctx.projector.catch_up()
    except ChainBroken as error:
        return str(error)
    except Exception:
        if ctx.projector.failure is None:
            raise
        return f"{ctx.projector.failure.describe()}; the read models stop at event {ctx.read_db.position()}"
    return None


def position(text: str) -> int:
    """An event position on the command line: a whole number from 0 to 2**63 - 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= MAX_POSITION:
        raise argparse.ArgumentTypeError(f"{text} is not an event position (0 to {MAX_POSITION})")
    return value


def iso_date(text: str) -> date:
    """A date on the command line, as in a request body: YYYY-MM-DD and nothing else."""
    try:
        return parse_iso_date(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
