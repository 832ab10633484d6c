"""Supporting documents from the command line: attach files to a claim's line or an own cost, list
a record's documents, download a period's in a zip, list what is still missing, prune orphans.

``attach`` reads the files from disk and hands them to the same use cases as the API
(``Upload(filename, data)``: the ledger reads the type from the bytes), acting as the local user
(``cli:<user>``), a financial officer of the partner the claim or cost is charged to.
"""

from __future__ import annotations

import argparse
import getpass
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from uuid import UUID

from rich.table import Table
from sqlalchemy import Connection, select

from api.cli.common import console, context
from api.context import LedgerContext
from ledger.actors import Actor
from ledger.documents import Upload
from ledger.errors import InvalidInput, NotFound
from ledger.usecases.documents import ORPHAN_GRACE
from projections import tables as t
from projections.codes import SHORT_ID, UnknownCode, partner_code
from projections.document_zip import write_documents_zip
from projections.documents import documents_of, missing_documents, period_bounds, period_documents

#: Orphans (bytes stored by a command that never saved its event) younger than this are kept.
DEFAULT_GRACE_HOURS = ORPHAN_GRACE.total_seconds() / 3600
_ID = "the claim's or cost's id, or its first 8 characters as `grantledger claims` shows them"


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    attach = commands.add_parser(
        "attach", help="attach receipts (PDF, JPEG or PNG files) to a pending claim's line or to an own cost"
    )
    attach.add_argument("holder", metavar="CLAIM_OR_COST_ID", help=_ID)
    attach.add_argument("--line", type=int, metavar="N", help="the claim's line the files support, from 1")
    attach.add_argument("files", nargs="+", metavar="FILE", help="the documents to attach")
    attach.set_defaults(run=cmd_attach)

    documents = commands.add_parser(
        "documents", help="a claim's or cost's documents, a period's in a zip, or the lines still without one"
    )
    documents.add_argument("holder", nargs="?", metavar="CLAIM_OR_COST_ID", help=_ID)
    what = documents.add_mutually_exclusive_group()
    what.add_argument("--period", type=int, metavar="N", help="the documents of reporting period N (with --zip)")
    what.add_argument("--missing", action="store_true", help="claim lines and own costs with no live document")
    what.add_argument(
        "--prune-orphans", action="store_true", help="remove stored bytes no document record names (after a crash)"
    )
    documents.add_argument("--partner", help="only this partner's (its code, in any case)")
    documents.add_argument("--zip", metavar="OUT.zip", help="with --period: the zip file to write")
    documents.add_argument(
        "--older-than",
        type=float,
        default=DEFAULT_GRACE_HOURS,
        metavar="HOURS",
        help=f"with --prune-orphans: only orphans stored this long ago (default {DEFAULT_GRACE_HOURS:g})",
    )
    documents.set_defaults(run=cmd_documents)


@dataclass(frozen=True)
class Holder:
    kind: str  # "claim" or "cost"
    id: UUID
    partner: str


def holder_of(conn: Connection, text: str) -> Holder:
    """The claim or cost a command names, whole or by its first characters (at least 8)."""
    start = text.strip().lower()
    if len(start) < SHORT_ID or any(ch not in "0123456789abcdef-" for ch in start):
        raise UnknownCode(
            f"{text!r} is not a claim or cost id; give the id `grantledger claims` or the list of costs shows "
            f"(its first {SHORT_ID} characters are enough)"
        )
    found: list[Holder] = []
    for kind, table in (("claim", t.claims), ("cost", t.costs)):
        query = select(table.c.id, table.c.partner).where(table.c.id.startswith(start)).limit(3)
        found += [Holder(kind, UUID(row.id), row.partner) for row in conn.execute(query)]
    if len(found) == 1:
        return found[0]
    if found:
        names = ", ".join(f"{h.kind} {h.id}" for h in found)
        raise UnknownCode(f"more than one record starts with {start}: {names}; give more of the id")
    raise UnknownCode(
        f"no claim or cost starting with {start} is in the ledger; the lists of claims and costs show their ids"
    )


def read_uploads(paths: list[str]) -> list[Upload]:
    """The files as uploads (name and bytes), refused naming the first that cannot be read."""
    uploads = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise InvalidInput(f"{path}: cannot be read ({error.strerror}); nothing was attached") from None
        uploads.append(Upload(os.path.basename(path), data))
    return uploads


def _holder(ctx: LedgerContext, text: str) -> Holder:
    ctx.projector.catch_up()
    with ctx.read_db.reading() as conn:
        return holder_of(conn, text)


def cmd_attach(args: argparse.Namespace) -> int:
    uploads = read_uploads(args.files)
    with context(args) as ctx:
        holder = _holder(ctx, args.holder)
        actor = Actor.officer(f"cli:{getpass.getuser()}", holder.partner)
        if holder.kind == "claim":
            if args.line is None:
                raise InvalidInput(f"claim {holder.id}: say which line the files support with --line N (from 1)")
            digests = ctx.app.attach_to_claim(actor=actor, claim_id=holder.id, line=args.line, uploads=uploads)
        else:
            if args.line is not None:
                raise InvalidInput(f"cost {holder.id} has no lines; leave --line out")
            digests = ctx.app.attach_to_cost(actor=actor, cost_id=holder.id, uploads=uploads)
        ctx.projector.catch_up()
    where = f"line {args.line} of claim {holder.id}" if holder.kind == "claim" else f"cost {holder.id}"
    for upload, digest in zip(uploads, digests, strict=False):
        print(f"attached {upload.filename} to {where}: sha256 {digest}")
    return 0


def cmd_documents(args: argparse.Namespace) -> int:
    if args.prune_orphans:
        return _prune(args)
    if args.zip is not None and args.period is None:
        raise InvalidInput("--zip writes a period's documents: give --period N with it")
    with context(args, read_only=True) as ctx:
        ctx.projector.catch_up()
        with ctx.read_db.reading() as conn:
            partner = partner_code(conn, args.partner) if args.partner else None
            if args.missing:
                return _print_missing(conn, partner)
            if args.period is not None:
                return _period_zip(ctx, conn, args.period, partner, args.zip)
            if args.holder is None:
                raise InvalidInput(
                    "name a claim or cost, or give --period N --zip OUT.zip, --missing or --prune-orphans"
                )
            return _print_documents(conn, holder_of(conn, args.holder))


def _size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size:,} B"


def _print_documents(conn: Connection, holder: Holder) -> int:
    rows = documents_of(conn, str(holder.id))
    if not rows:
        print(f"{holder.kind} {holder.id} ({holder.partner}) has no document yet")
        return 0
    table = Table(title=f"documents of {holder.kind} {holder.id} ({holder.partner})")
    for heading in ("line", "file", "type", "size", "sha256", "attached", "by", "state"):
        table.add_column(heading, justify="right" if heading in {"line", "size"} else "left")
    for row in rows:
        state = "live" if row.live else f"superseded: {row.superseded_reason}"
        line = "" if row.line is None else str(row.line)
        cells = (row.filename, row.media_type, _size(row.size), row.sha256, str(row.attached_on), row.attached_by)
        table.add_row(line, *cells, state)
    console().print(table)
    return 0


def _print_missing(conn: Connection, partner: str | None) -> int:
    rows = missing_documents(conn, partner=partner)
    if not rows:
        print("every claim line and own cost has a document")
        return 0
    table = Table(title="claim lines and own costs without a document")
    for heading in ("record", "id", "partner", "line", "receipt", "state", "description"):
        table.add_column(heading)
    for row in rows:
        line = "" if row.line is None else str(row.line)
        table.add_row(
            row.holder_kind, str(row.holder_id), row.partner, line, row.receipt_ref, row.state, row.description
        )
    console().print(table)
    print(f"{len(rows)} without a document")
    return 0


def _period_zip(ctx: LedgerContext, conn: Connection, period: int, partner: str | None, out: str | None) -> int:
    """The period's live documents in a zip at ``out``, written whole or not at all (a document
    missing or altered in the store stops it, naming the document, and leaves no partial file)."""
    if out is None:
        raise InvalidInput("say where to write the period's documents: --zip OUT.zip")
    if period_bounds(conn, period) is None:
        raise NotFound(
            f"reporting period {period} is not set; the web app's reporting page "
            "(or GET /api/v1/reporting/periods) lists the periods"
        )
    rows = [row for row in period_documents(conn, period, partner=partner) if row.live]
    title = f"{partner + ', ' if partner else ''}reporting period {period}"
    partial = Path(out).with_name(Path(out).name + ".part")
    try:
        with open(partial, "wb") as handle:
            write_documents_zip(rows, ctx.app.document_bytes, handle, title=title)
        os.replace(partial, out)
    except OSError as error:
        raise InvalidInput(f"{out}: cannot be written ({error.strerror}); check the path") from None
    finally:
        partial.unlink(missing_ok=True)
    print(f"wrote {len(rows)} documents of {title} to {out} (check them with sha256sum -c MANIFEST.sha256)")
    return 0


def _prune(args: argparse.Namespace) -> int:
    if args.older_than < 0:
        raise InvalidInput("--older-than is a number of hours, 0 or more")
    with context(args) as ctx:
        removed = ctx.app.prune_orphan_documents(timedelta(hours=args.older_than))
    print(f"removed {removed} orphan documents (stored bytes no record names, older than {args.older_than:g} hours)")
    return 0
