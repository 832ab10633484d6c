"""Shared pieces of the command line: opening the stores, printing, parsing positions and dates."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from decimal import Decimal

from rich.console import Console

from api.context import LedgerContext, open_context
from api.schemas import MAX_POSITION, parse_iso_date
from projections.chain import ChainBroken


def money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def console() -> Console:
    """Rich output; full width when written to a file or a pipe (no terminal to fit)."""
    return Console() if sys.stdout.isatty() else Console(width=160)


def context(args: argparse.Namespace, *, create: bool = False, read_only: bool = False) -> LedgerContext:
    """The stores the command line names. Only commands that may start a ledger (demo, token
    create) pass ``create``: the others refuse a URL that holds none, creating nothing.
    Commands that only read (``read_only``) also refuse read models that do not exist: they
    would otherwise check, or seal from scratch, a read store made by a typo."""
    return open_context(
        args.database_url, args.read_database_url, must_exist=not create, read_models_must_exist=read_only
    )


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
