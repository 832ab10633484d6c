"""Commands that correct a record: an exchange rate (and its report), an SME, a payment.

They open the ledger and name their actor as import-rates does (``cli_actor``: the local
user, as the grant's coordinator); a payment is corrected by an officer of its partner, so
``correct-payment`` acts as the local user, an officer of the partner it is given."""

from __future__ import annotations

import argparse
from uuid import UUID

from rich.table import Table

from api.cli.books import cli_actor, officer_actor
from api.cli.common import console, context, iso_date, money
from ledger.errors import InvalidInput, NotFound
from ledger.money import parse_rate
from projections.assessments import RateAssessments, rate_assessments
from projections.codes import currency_code, sme_id_of


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rate = commands.add_parser(
        "correct-rate", help="correct a recorded monthly rate with a reason; lists the claims assessed with the old one"
    )
    rate.add_argument("currency", help="ISO 4217 code, in any case, e.g. JPY")
    rate.add_argument("month", help="YYYY-MM")
    rate.add_argument("rate", help="units of the currency one euro buys, e.g. 144.38")
    rate.add_argument("--source", default="InforEuro", help="where the rate comes from (default InforEuro)")
    rate.add_argument("--reason", required=True, help="why the recorded rate was wrong")
    rate.set_defaults(run=cmd_correct_rate)

    report = commands.add_parser(
        "rate-assessments", help="the claims assessed with an earlier rate of a currency and month"
    )
    report.add_argument("currency", help="ISO 4217 code, in any case, e.g. JPY")
    report.add_argument("month", help="YYYY-MM")
    report.set_defaults(run=cmd_rate_assessments)

    sme = commands.add_parser("correct-sme", help="correct an SME's legal name and country, with a reason")
    sme.add_argument("sme", help="the SME's id or its identifier (VAT or national number)")
    sme.add_argument("--legal-name", required=True)
    sme.add_argument("--country", required=True, help="ISO 3166 alpha-2 code, e.g. IT")
    sme.add_argument("--reason", required=True)
    sme.add_argument("--on", type=iso_date, required=True, metavar="DATE", help="business date of the correction")
    sme.set_defaults(run=cmd_correct_sme)

    payment = commands.add_parser(
        "correct-payment", help="correct a payment's bank reference or value date, with a reason"
    )
    payment.add_argument("payment", help="the payment's id")
    payment.add_argument("--partner", required=True, help="the partner you act for as its officer (the payment's)")
    payment.add_argument("--bank-reference", help="the bank reference as the bank shows it")
    payment.add_argument("--value-date", type=iso_date, metavar="DATE", help="the value date as the bank shows it")
    payment.add_argument("--reason", required=True)
    payment.set_defaults(run=cmd_correct_payment)


def cmd_correct_rate(args: argparse.Namespace) -> int:
    """Correct a rate (the same use case as POST /exchange-rates/{currency}/{month}/correction)."""
    with context(args) as ctx:
        actor = cli_actor(ctx)
        currency = currency_code(args.currency)
        ctx.app.correct_rate(
            actor=actor,
            currency=currency,
            month=args.month,
            rate=parse_rate(args.rate, "rate"),
            source=args.source,
            reason=args.reason,
        )
        ctx.projector.catch_up()
        with ctx.read_db.reading() as conn:
            report = rate_assessments(conn, currency, args.month)
        assert report is not None  # noqa: S101 - the rate was just corrected
        print(f"corrected the {currency} rate for {args.month} to {report.rate} ({report.source})")
        print_report(report)
    return 0


def cmd_rate_assessments(args: argparse.Namespace) -> int:
    """The report of GET /exchange-rates/{currency}/{month}/assessments."""
    with context(args, read_only=True) as ctx:
        ctx.projector.catch_up()
        currency = currency_code(args.currency)
        with ctx.read_db.reading() as conn:
            report = rate_assessments(conn, currency, args.month)
        if report is None:
            raise NotFound(f"no {currency} rate is recorded for {args.month}")
        print_report(report)
    return 0


def print_report(report: RateAssessments) -> None:
    if not report.lines:
        print(f"no claim was assessed with an earlier {report.currency} rate for {report.month}")
        return
    table = Table(title=f"claims assessed with an earlier {report.currency} rate for {report.month}")
    headings = ("claim", "SME", "mission", "state", "basis", "line", "amount", "rate used", "EUR", "EUR now", "diff")
    for heading in headings:
        table.add_column(heading, justify="right" if heading in {"amount", "EUR", "EUR now", "diff"} else "left")
    for line in report.lines:
        table.add_row(
            line.claim_id[:8],
            line.sme_name,
            line.mission_code,
            line.state,
            line.basis,
            str(line.line_no),
            f"{line.currency} {line.amount}",
            f"{line.rate_used} ({line.source_used})",
            money(line.eur),
            money(line.eur_at_rate_now),
            money(line.difference),
        )
    console().print(table)
    print(
        f"{len(report.lines)} lines; at the rate recorded now ({report.rate}) they would give "
        f"EUR {money(report.difference)} more (negative: less); stored conversions are not recomputed"
    )


def cmd_correct_sme(args: argparse.Namespace) -> int:
    """Correct an SME's registration (the same use case as POST /smes/{id}/correction)."""
    with context(args) as ctx:
        actor = cli_actor(ctx)
        ctx.projector.catch_up()
        with ctx.read_db.reading() as conn:
            sme_id = UUID(sme_id_of(conn, args.sme))
        ctx.app.correct_sme_registration(
            actor=actor,
            sme_id=sme_id,
            legal_name=args.legal_name,
            country=args.country,
            reason=args.reason,
            on=args.on,
        )
        ctx.projector.catch_up()
        print(f"corrected SME {sme_id}: {args.legal_name.strip()} ({args.country})")
    return 0


def cmd_correct_payment(args: argparse.Namespace) -> int:
    """Correct a payment record (the same use case as POST /payments/{id}/correction)."""
    try:
        payment_id = UUID(args.payment)
    except ValueError:
        raise InvalidInput(f"{args.payment!r} is not a payment id; write its UUID, as the API shows it") from None
    with context(args) as ctx:
        actor = officer_actor(ctx, args.partner)
        ctx.app.correct_payment(
            actor=actor,
            payment_id=payment_id,
            bank_reference=args.bank_reference,
            value_date=args.value_date,
            reason=args.reason,
        )
        ctx.projector.catch_up()
        print(f"corrected payment {payment_id}")
    return 0
