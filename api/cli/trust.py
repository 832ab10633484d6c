"""Commands for auditors' trust: verify the hash chain, export the books, encryption keys."""

from __future__ import annotations

import argparse
import getpass
import sys
from dataclasses import replace
from pathlib import Path

from api.cli.common import context, stuck_projector
from ledger.records import ENV_SNAPSHOT_KEY
from ledger.storage import ENV_CIPHER_KEY
from projections import export
from projections import journal as journal_of
from projections.chain import Anchor, stamp
from projections.close import verify_history
from projections.codes import partner_code
from projections.recompute import check_books
from projections.snapshots import check_snapshots


def cmd_export(args: argparse.Namespace) -> int:
    """Write the books as one XLSX workbook, CSV files (a directory, or a zip when the output
    ends in .zip) or an hledger or beancount journal; with --partner, only that partner's rows."""
    with context(args, read_only=True) as ctx:
        ctx.projector.catch_up()
        with ctx.read_db.reading(snapshot=True) as conn:
            at = stamp(conn)  # the head, in the same snapshot as the exported data
            partner = None if args.partner is None else partner_code(conn, args.partner)
            exporter = export.Exporter(f"cli:{getpass.getuser()}", "command line", partner)
            tables = export.sheets(conn, partner)
            cover = export.cover(conn, at, exporter)
            journal = {"hledger": journal_of.hledger, "beancount": journal_of.beancount}.get(args.format)
            text = None if journal is None else journal_of.stamped(journal(conn, partner), at, partner)
        output = Path(args.output)
        if text is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
            print(f"wrote {output} ({args.format} journal)")
        elif args.format == "csv" and output.suffix.lower() == ".zip":
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_bytes(export.to_zip(tables, at, exporter))
            print(f"wrote {output} ({', '.join(f'{sheet.name}.csv' for sheet in tables)}, manifest.json)")
        elif args.format == "csv":
            paths = export.write_csv(tables, output)
            for path in [*paths, export.write_manifest(at, paths, output, exporter)]:
                print(f"wrote {path}")
        else:
            output.parent.mkdir(parents=True, exist_ok=True)
            tables = [cover, *tables]
            output.write_bytes(export.to_xlsx(tables))
            print(f"wrote {output} ({', '.join(sheet.title or sheet.name for sheet in tables)})")
        print("\n".join(at.lines()))
    return 0


def cmd_key(_args: argparse.Namespace) -> int:
    """Print a new AES-256 key for GRANTLEDGER_CIPHER_KEY (encryption of the events at rest, and
    the snapshots' seals) or GRANTLEDGER_SNAPSHOT_KEY (the snapshots' seals only)."""
    from eventsourcing.cryptography import AESCipher

    print(
        f"keep it secret and safe, outside the database: set {ENV_CIPHER_KEY} to it to encrypt the events "
        f"(without it they cannot be read), or {ENV_SNAPSHOT_KEY} to seal snapshots only",
        file=sys.stderr,
    )
    print(AESCipher.create_key(32))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Recompute the hash chain from the raw stored events and check every snapshot against
    its events; recompute every signed or submitted statement (invariant 10); check every
    supporting document's bytes against its digest; exit 1 at the first disagreement, on any
    bad snapshot, statement or document, or when the history differs from the
    head written down before (--expect-head). With --recompute, also fold the raw events into
    every budget line's figures in memory and compare them with the read models (projections.recompute).

    The projector first seals what is recorded but not sealed yet; if it cannot (it is stuck),
    those events can never be checked, so verify says why and exits 1 whatever it found."""
    anchor = None if args.expect_head is None else Anchor.parse(args.expect_head)
    with context(args, read_only=True) as ctx:
        stuck = stuck_projector(ctx)
        verdict = verify_history(ctx.app, ctx.read_db, expect_head=anchor)
        if stuck is not None:
            verdict = replace(verdict, stuck=stuck)
        print(verdict)
        snapshots = check_snapshots(ctx.app)
        print(snapshots)
        books = check_books(ctx.app, ctx.read_db) if args.recompute else None
        if books is not None:
            print(books)
    return 0 if verdict.ok and snapshots.ok and (books is None or books.ok) else 1
