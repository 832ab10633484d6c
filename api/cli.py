"""The ``grantledger`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ledger.errors import LedgerError
from ledger.storage import ENV_URL, database_url, library_env, open_ledger


def _info(args: argparse.Namespace) -> int:
    url = args.database_url or database_url()
    app = open_ledger(url)
    try:
        module = library_env(url)["PERSISTENCE_MODULE"].rsplit(".", 1)[-1]
        print(f"store: {module} ({url})")
        print(f"events recorded: {app.recorder.max_notification_id() or 0}")
    finally:
        app.close()
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
    commands = parser.add_subparsers(dest="command", required=True)
    info = commands.add_parser("info", help="create the store if needed and say what it holds")
    info.set_defaults(run=_info)
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
