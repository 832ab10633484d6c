"""Corrections an officer records from the command line: revoke an approval, settle a claim short.

They call the same Application methods as the HTTP routes, as a financial officer of the
partner named with ``--partner`` (the local user, ``cli:<user>``, as ``import-rates`` names its
actor); the ledger refuses them unless that is the partner the claim is charged to.
"""

from __future__ import annotations

import argparse
from uuid import UUID

from api.cli.books import officer_actor
from api.cli.common import context, iso_date
from api.context import LedgerContext
from ledger.claim import state_label
from projections.codes import claim_id_of


def claim_of(ctx: LedgerContext, text: str) -> UUID:
    """The claim a command names, by its id or its first characters as `grantledger claims` shows them."""
    with ctx.read_db.reading() as conn:
        return UUID(claim_id_of(conn, text))


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    who = "the partner whose financial officer you are: the one the claim is charged to"
    revoke = commands.add_parser(
        "revoke-approval",
        help="revoke the approval of a claim with nothing paid: it is submitted again (or rejected)",
    )
    revoke.add_argument("claim", help="the claim's id, or its first 8 characters as `grantledger claims` shows them")
    revoke.add_argument("--partner", required=True, help=who)
    revoke.add_argument("--reason", required=True, help="why the approval is revoked (recorded, shown to auditors)")
    revoke.add_argument("--reject", action="store_true", help="reject the claim in the same step")
    revoke.add_argument("--on", type=iso_date, metavar="DATE", help="the revocation's date (default: today)")
    revoke.set_defaults(run=cmd_revoke_approval)

    settle = commands.add_parser("settle", help="settle a partly paid claim short: the rest is released, not paid")
    settle.add_argument("claim", help="the claim's id, or its first 8 characters as `grantledger claims` shows them")
    settle.add_argument("--partner", required=True, help=who)
    settle.add_argument("--reason", required=True, help="why the rest will not be paid (e.g. the SME agreed)")
    settle.add_argument("--on", type=iso_date, metavar="DATE", help="the settlement's date (default: today)")
    settle.set_defaults(run=cmd_settle)


def cmd_revoke_approval(args: argparse.Namespace) -> int:
    with context(args) as ctx:
        actor = officer_actor(ctx, args.partner)
        args.claim = claim_of(ctx, args.claim)
        released = ctx.app.revoke_approval(
            actor=actor, claim_id=args.claim, reason=args.reason, on=args.on or ctx.app.today(), reject=args.reject
        )
        ctx.projector.catch_up()
        claim = ctx.app.claim(args.claim)
        print(f"claim {args.claim}: approval revoked, {released} released; it is {state_label(claim.state)}")
    return 0


def cmd_settle(args: argparse.Namespace) -> int:
    with context(args) as ctx:
        actor = officer_actor(ctx, args.partner)
        args.claim = claim_of(ctx, args.claim)
        on = args.on or ctx.app.today()
        released = ctx.app.settle_claim(actor=actor, claim_id=args.claim, reason=args.reason, on=on)
        ctx.projector.catch_up()
        claim = ctx.app.claim(args.claim)
        print(f"claim {args.claim}: settled short, {released} released; {claim.paid} paid of {claim.approved}")
    return 0
