"""Commands that read or feed the books: budget, claims, audit trail, exchange rates, search."""

from __future__ import annotations

import argparse
import contextlib
import csv
import getpass
import io
from collections.abc import Sequence

from rich.table import Table

from api.cli.common import console, context, money
from api.context import LedgerContext
from ledger.actors import Actor
from ledger.errors import InvalidInput, LedgerError
from ledger.money import parse_rate
from ledger.rate_file import NewRate
from ledger.rates import DEFAULT_SOURCE, RateAlreadyRecorded, RateMissing
from projections.codes import claim_state, currency_code, mission_id_of, partner_code, sme_id_of
from projections.queries import (
    AsOf,
    AuditFilter,
    BudgetOverview,
    ClaimFilter,
    LineFigures,
    audit_trail,
    budget_overview,
    list_claims,
    position_recorded_by,
)
from projections.search import search


def as_of_point(args: argparse.Namespace, ctx: LedgerContext) -> AsOf:
    if args.position is not None:
        return AsOf(position=args.position)
    if args.as_of is not None:
        with ctx.read_db.reading() as conn:
            return AsOf(position=position_recorded_by(conn, args.as_of))
    if args.effective is not None:
        return AsOf(effective=args.effective)
    return AsOf()


def cmd_budget(args: argparse.Namespace) -> int:
    """The budget overview: every partner x category line, now or as of a past point."""
    with context(args, read_only=True) as ctx:
        ctx.projector.catch_up()
        as_of = as_of_point(args, ctx)
        with ctx.read_db.reading() as conn:
            partner = None if args.partner is None else partner_code(conn, args.partner)
            overview = budget_overview(conn, as_of)
        if overview is None:
            print("no grant signed (as of that point): nothing to show")
            return 1
        title = f"{overview.code} budget (EUR)"
        if as_of.position is not None:
            title += f" as recorded up to event {as_of.position}"
        if as_of.effective is not None:
            title += f" as effective on {as_of.effective}"
        console().print(budget_table(title, overview, overview.lines if partner is None else overview.partner(partner)))
        print(
            f"total eligible budget EUR {money(overview.total)}; EU cap EUR {money(overview.eu_cap)}; "
            f"EU contribution on costs so far EUR {money(overview.eu_contribution)}"
        )
    return 0


BUDGET_COLUMNS = (
    "partner",
    "category",
    "allocated",
    "pending",
    "committed",
    "paid",
    "own costs",
    "remaining",
    "after pending",
)


def budget_table(title: str, overview: BudgetOverview, lines: tuple[LineFigures, ...]) -> Table:
    """The lines with a subtotal after each partner's, then (for several partners) a subtotal
    per category, and the grand total: each is the sum of its lines."""
    table = Table(title=title)
    for heading in BUDGET_COLUMNS:
        table.add_column(heading, justify="left" if heading in {"partner", "category"} else "right")

    def row(line: LineFigures, partner: str, category: str, *, bold: bool = False) -> None:
        figures = (line.allocated, line.pending, line.committed, line.paid, line.spent, line.remaining)
        cells = (partner, category, *(money(v) for v in figures), money(line.remaining_after_pending))
        table.add_row(*cells, style="bold" if bold else None)

    partners = overview.by_partner(lines)
    for subtotal in partners:
        for line in lines:
            if line.partner == subtotal.partner:
                row(line, line.partner, line.category)
        row(subtotal, subtotal.partner, "subtotal", bold=True)
        table.add_section()
    if len(partners) > 1:  # for one partner its lines are its category subtotals
        for subtotal in overview.by_category(lines):
            row(subtotal, "all partners", subtotal.category, bold=True)
        table.add_section()
    row(overview.totals(lines), "TOTAL", "", bold=True)
    return table


def cli_actor(ctx: LedgerContext) -> Actor:
    """Who the command line acts as when it writes: the local user, as the grant's coordinator."""
    return Actor.coordinator(f"cli:{getpass.getuser()}", ctx.app.grant().coordinator)


def officer_actor(ctx: LedgerContext, partner: str) -> Actor:
    """The local user as a financial officer of ``partner`` (its code, in any case), for the
    commands only a partner's officers may run (the ledger checks it is the right partner)."""
    ctx.projector.catch_up()
    with ctx.read_db.reading() as conn:
        code = partner_code(conn, partner)
    return Actor.officer(f"cli:{getpass.getuser()}", code)


#: The columns of a rates file: these three, and ``source`` if the file gives one.
RATE_COLUMNS = ("currency", "month", "rate")
OPTIONAL_RATE_COLUMNS = ("source",)


def rates_text(path: str) -> str:
    """A rates file's text: UTF-8 (with or without a byte-order mark), else refused naming the
    file and the line of the first byte that is not."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise InvalidInput(f"{path}: cannot be read ({error.strerror}); check the path") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InvalidInput(
            f"{path} line {line}: byte {data[error.start]:#04x} is not UTF-8 text; save the file as UTF-8 "
            "(CSV UTF-8) and import it again; nothing was recorded"
        ) from None


def check_rate_header(path: str, header: Sequence[str] | None) -> None:
    """The header names currency, month and rate, optionally source, each once, and nothing else."""
    names = [name.strip() for name in header or []]
    missing = [name for name in RATE_COLUMNS if name not in names]
    unknown = [name for name in names if name not in RATE_COLUMNS + OPTIONAL_RATE_COLUMNS]
    twice = sorted({name for name in names if names.count(name) > 1})
    problems = [
        *([f"no {', '.join(missing)} column"] if missing else []),
        *([f"the unknown column {', '.join(repr(name) for name in unknown)}"] if unknown else []),
        *([f"the column {', '.join(twice)} twice"] if twice else []),
    ]
    if problems:
        raise InvalidInput(
            f"{path} line 1: the header has {'; '.join(problems)}; write the header "
            "currency,month,rate or currency,month,rate,source; nothing was recorded"
        )


def cmd_import_rates(args: argparse.Namespace) -> int:
    """Record monthly rates from a CSV file with columns currency,month,rate[,source].

    Every row is checked first (UTF-8 text, the header's columns and no surplus cell, a decimal
    rate, a known currency, a month at most one ahead, no clash with a rate already recorded);
    one bad row records nothing at all and names its line. The rates are recorded in one save
    (record_rates, as the web app's import), so nothing is half recorded either."""
    with context(args) as ctx:
        actor = cli_actor(ctx)
        reader = csv.reader(io.StringIO(rates_text(args.file), newline=""))
        header = next(reader, None)
        check_rate_header(args.file, header)
        columns = [name.strip() for name in header or []]
        rows: list[NewRate] = []
        for cells in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(columns):
                raise InvalidInput(
                    f"{args.file} line {number}: {len(cells)} cells under a header of {len(columns)} columns; "
                    f"remove the surplus cells ({', '.join(repr(c) for c in cells[len(columns) :])}); "
                    "nothing was recorded"
                )
            row = dict(zip(columns, cells, strict=False))
            currency, month = (row.get("currency") or "").strip(), (row.get("month") or "").strip()
            try:
                rate = parse_rate(row.get("rate") or "", "rate")
                currency = currency_code(currency)  # any case: usd is USD
                ctx.app.check_rate_month(month)
                with contextlib.suppress(RateMissing):
                    known = ctx.app.quote(currency, month)
                    if known.rate != rate:
                        raise RateAlreadyRecorded(
                            f"{currency} {month} is recorded at {known.rate}, the file says {rate}; "
                            "correct a rate with a correction, not an import"
                        )
            except LedgerError as error:
                raise InvalidInput(f"{args.file} line {number}: {error.detail}; nothing was recorded") from None
            rows.append(NewRate(currency, month, rate, (row.get("source") or DEFAULT_SOURCE).strip()))
        if rows:
            ctx.app.record_rates(actor=actor, rates=rows)  # in one save: all or none
        ctx.projector.catch_up()
        print(f"recorded {len(rows)} rates from {args.file}")
    return 0


def cmd_claims(args: argparse.Namespace) -> int:
    """Claims with their state and amounts, filtered."""
    with context(args, read_only=True) as ctx:
        ctx.projector.catch_up()
        with ctx.read_db.reading() as conn:
            where = ClaimFilter(
                state=None if args.state is None else claim_state(args.state),
                mission_id=None if args.mission is None else mission_id_of(conn, args.mission),
                sme_id=None if args.sme is None else sme_id_of(conn, args.sme),
                partner=None if args.partner is None else partner_code(conn, args.partner),
            )
            rows, count = list_claims(conn, where, limit=args.limit)
        table = Table(title=f"claims ({len(rows)} of {count})")
        for heading in ("claim", "partner", "state", "submitted", "requested", "approved", "paid", "reason"):
            table.add_column(heading, justify="right" if heading in {"requested", "approved", "paid"} else "left")
        for r in rows:
            table.add_row(
                r.id[:8],
                r.partner,
                r.state,
                str(r.submitted_on),
                money(r.requested),
                "" if r.approved is None else money(r.approved),
                "" if r.paid is None else money(r.paid),
                r.reason,
            )
        console().print(table)
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    """The audit trail: who did what, when, to which record, and why."""
    with context(args, read_only=True) as ctx:
        ctx.projector.catch_up()
        with ctx.read_db.reading() as conn:
            rows = audit_trail(
                conn,
                AuditFilter(aggregate_id=args.record, actor_id=args.actor, after_position=args.after),
                limit=args.limit,
            )
        table = Table(title="audit trail")
        for heading in ("#", "recorded (UTC)", "effective", "actor", "role", "record", "event", "reason"):
            table.add_column(heading)
        for r in rows:
            table.add_row(
                str(r["position"]),
                f"{r['recorded_at']:%Y-%m-%d %H:%M:%S}",
                str(r["effective_date"]),
                r["actor_id"],
                r["role"],
                f"{r['aggregate_type']} {r['aggregate_id'][:8]} v{r['version']}",
                r["event_type"],
                r["reason"],
            )
        console().print(table)
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    """Claims, SMEs, payments and own costs matching the text, newest first (as GET /search)."""
    with context(args, read_only=True) as ctx:
        ctx.projector.catch_up()
        with ctx.read_db.reading() as conn:
            hits, count = search(conn, args.text, limit=args.limit)
        table = Table(title=f"search {args.text!r} ({len(hits)} of {count})")
        for heading in ("kind", "record", "label", "matched"):
            table.add_column(heading)
        for hit in hits:
            matched = "; ".join(f"{m.field}{f' (line {m.part})' if m.part else ''}: {m.value}" for m in hit.matches)
            table.add_row(hit.kind, hit.record_id, hit.label, matched)
        console().print(table)
    return 0
