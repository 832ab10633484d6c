"""API tokens: create, list, revoke (only a hash is stored)."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date, datetime, timedelta

from rich.table import Table

from api.cli.common import console, context
from api.context import LedgerContext
from api.schemas import parse_iso_date
from api.security import ServiceStore, TokenInfo
from ledger.errors import InvalidInput
from ledger.grant import GrantNotSigned

#: A partner code before any grant names its partners.
_CODE = re.compile(r"[A-Z0-9_-]+")
_DAYS = re.compile(r"([0-9]+)d")
EXPIRES_HELP = (
    "the token's last day: a date (YYYY-MM-DD, e.g. 2027-06-30: it works through the end of that day, UTC) "
    "or a number of days from today (e.g. 90d); default: it never expires"
)


def service_store(ctx: LedgerContext) -> ServiceStore:
    return ServiceStore(ctx.read_db)


def last_day(text: str, today: date) -> date:
    """The last day a token works, from --expires: a date, or a number of days from ``today``."""
    days = _DAYS.fullmatch(text.strip())
    if days is not None:
        count = int(days[1])
        if count < 1:
            raise InvalidInput(f"--expires {text}: give at least 1d (the token then works through tomorrow, UTC)")
        try:
            return today + timedelta(days=count)
        except OverflowError:
            raise InvalidInput(f"--expires {text} is too far ahead; give fewer days, e.g. 365d") from None
    try:
        return parse_iso_date(text.strip())
    except ValueError:
        raise InvalidInput(
            f"--expires {text!r} is neither a date nor a number of days; write YYYY-MM-DD "
            "(e.g. 2027-06-30: the token works through the end of that day, UTC) or days from today (e.g. 90d)"
        ) from None


def _expiry(info: TokenInfo, now: datetime) -> str:
    if info.last_day is None:
        return "never"
    return f"{info.last_day} (expired)" if info.expired(now) else str(info.last_day)


def _when(moment: datetime | None, never: str = "") -> str:
    return never if moment is None else f"{moment:%Y-%m-%d %H:%M}"


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
            expires_on = None if args.expires is None else last_day(args.expires, store.clock().date())
            token = store.create_token(name=args.name, role=args.role, partner=partner, expires_on=expires_on)
            until = "it never expires" if expires_on is None else f"it works through {expires_on} (UTC)"
            print(
                f"token for {args.name} ({args.role}{', ' + args.partner if args.partner else ''}); {until}; "
                "it is shown only now, keep it safe:",
                file=sys.stderr,
            )
            print(token)
        elif action == "list":
            now = store.clock()
            table = Table(title="API tokens (times in UTC)")
            for heading in ("name", "role", "partner", "created", "expires", "last used", "revoked"):
                table.add_column(heading)
            for info in store.list_tokens():
                table.add_row(
                    info.name,
                    info.role,
                    info.partner or "",
                    _when(info.created_at),
                    _expiry(info, now),
                    _when(info.last_used_at, "never"),
                    _when(info.revoked_at),
                )
            console().print(table)
        else:
            store.revoke_token(args.name)
            print(f"revoked the token of {args.name}")
    return 0
