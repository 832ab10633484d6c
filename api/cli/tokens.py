"""API tokens: create, list, revoke (only a hash is stored)."""

from __future__ import annotations

import argparse
import sys

from rich.table import Table

from api.cli.common import console, context
from api.context import LedgerContext
from api.security import ServiceStore


def service_store(ctx: LedgerContext) -> ServiceStore:
    return ServiceStore(ctx.read_db)


def cmd_token(args: argparse.Namespace) -> int:
    """Create, list or revoke API tokens (only a hash is stored; a new token is shown once)."""
    action = args.token_command
    with context(args, create=action == "create", read_only=action != "create") as ctx:
        store = service_store(ctx)
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
            console().print(table)
        else:
            store.revoke_token(args.name)
            print(f"revoked the token of {args.name}")
    return 0
