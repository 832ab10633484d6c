"""API tokens: create, list, revoke (only a hash is stored)."""

from __future__ import annotations

import argparse
import re
import sys

from rich.table import Table

from api.cli.common import console, context
from api.context import LedgerContext
from api.security import ServiceStore
from ledger.errors import InvalidInput
from ledger.grant import GrantNotSigned

#: A partner code before any grant names its partners.
_CODE = re.compile(r"[A-Z0-9_-]+")


def service_store(ctx: LedgerContext) -> ServiceStore:
    return ServiceStore(ctx.read_db)


def grant_partner(ctx: LedgerContext, partner: str) -> str:
    """The partner a token may act for: one of the signed grant's partners, written as the grant
    writes it. Before a grant is signed (the coordinator's token comes first, to sign it) any
    well-formed code is taken: capital letters, digits, '-' and '_'."""
    try:
        partners = sorted(ctx.app.grant().partners)
    except GrantNotSigned:
        if not _CODE.fullmatch(partner):
            raise InvalidInput(
                f"the partner {partner!r} is not a partner code: write capital letters, digits, '-' and '_', "
                "e.g. POINTEX, as the grant will write it"
            ) from None
        return partner
    if partner in partners:
        return partner
    same = [code for code in partners if code.casefold() == partner.casefold()]
    hint = f"write it as the grant does: {same[0]}" if same else f"the grant's partners are {', '.join(partners)}"
    raise InvalidInput(f"{partner!r} is not a partner of the grant; {hint}")


def cmd_token(args: argparse.Namespace) -> int:
    """Create, list or revoke API tokens (only a hash is stored; a new token is shown once)."""
    action = args.token_command
    with context(args, create=action == "create", read_only=action != "create") as ctx:
        store = service_store(ctx)
        if action == "create":
            partner = None if args.partner is None else grant_partner(ctx, args.partner)
            token = store.create_token(name=args.name, role=args.role, partner=partner)
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
