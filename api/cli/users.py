"""Web app users: create (password prompted twice, or read from stdin), list, disable."""

from __future__ import annotations

import argparse
import getpass
import sys

from rich.table import Table

from api.accounts import check_password
from api.cli.common import console, context
from api.cli.tokens import grant_partner, service_store
from ledger.errors import InvalidInput


def read_password(from_stdin: bool) -> str:
    """The new user's password: one line of stdin (for scripts), or typed twice at a prompt."""
    if from_stdin:
        return check_password(sys.stdin.readline().rstrip("\r\n"))
    first = check_password(getpass.getpass("password (at least 12 characters): "))
    if getpass.getpass("the same password again: ") != first:
        raise InvalidInput("the two passwords differ; nothing was recorded, run the command again")
    return first


def cmd_user(args: argparse.Namespace) -> int:
    """Create, list or disable the users who sign in to the web app (only a hash is stored)."""
    action = args.user_command
    with context(args, create=action == "create", read_only=action != "create") as ctx:
        accounts = service_store(ctx).accounts
        if action == "create":
            partner = None if args.partner is None else grant_partner(ctx, args.partner)
            password = read_password(args.password_stdin)
            accounts.create_user(name=args.name, role=args.role, partner=partner, password=password)
            print(f"user {args.name} ({args.role}{', ' + partner if partner else ''}) can now sign in to the web app")
        elif action == "list":
            table = Table(title="Web app users (times in UTC)")
            for heading in ("name", "role", "partner", "created", "disabled"):
                table.add_column(heading)
            for user in accounts.list_users():
                disabled = "" if user.disabled_at is None else f"{user.disabled_at:%Y-%m-%d %H:%M}"
                table.add_row(user.name, user.role, user.partner or "", f"{user.created_at:%Y-%m-%d %H:%M}", disabled)
            console().print(table)
        else:
            accounts.disable_user(args.name)
            print(f"disabled {args.name}; their sessions ended")
    return 0


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = commands.add_parser("user", help="create, list or disable the users who sign in to the web app")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    create = user_commands.add_parser("create", help="create a user; the password is prompted twice")
    create.add_argument("--role", required=True, choices=["officer", "coordinator", "auditor"])
    create.add_argument("--partner", help="the partner an officer works for (the coordinator's own partner)")
    create.add_argument("--name", required=True, help="the user name (recorded as the actor of their commands)")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from the first line of stdin (for scripts)"
    )
    user_commands.add_parser("list", help="list users (never their passwords)")
    disable = user_commands.add_parser("disable", help="disable a user and end their sessions")
    disable.add_argument("--name", required=True)
    user.set_defaults(run=cmd_user)
