"""Reporting to the EU, the one path every entrypoint takes (the JSON API, the command line,
the web app): the periods with each partner's state, a partner's statement as the ledger holds
it, and the workflow steps (lock, sign, send back, submit) with read-your-writes.

Signing is the one step that needs the read models: the statement's figures are computed at
the log's head (the projector first reaches it), and the ledger records them with that
position, the chain's seal there and the digest of the content. A signed or submitted
statement is always shown as signed: its figures recomputed at its own position
(DOMAIN.md invariant 10), with its seal and digest.

The views read only from the read transaction they are given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Connection, select

from api.context import LedgerContext
from api.routes._write import then_read
from ledger.actors import Actor
from ledger.errors import NotFound
from ledger.money import Money
from ledger.periods import ReportingPeriod
from ledger.reporting import COLUMN_OF, Column
from ledger.statement import StatementState
from projections import tables as t
from projections.chain import READ_MODELS, seal_at
from projections.close import StatementRow, statement_row, statement_rows
from projections.consortium import ConsortiumSummary, FstpRow, consortium_summary, fstp_report
from projections.statements import (
    PartnerStatement,
    ReportingTerms,
    partner_statement,
    reporting_terms,
    statement_content,
)

#: How long a step waits for the read models, unless told (the API passes its setting).
TIMEOUT = 10.0
SIGNED_STATES = frozenset({StatementState.SIGNED, StatementState.SUBMITTED})


class NoSuchPeriod(NotFound):
    title = "No such reporting period"


@dataclass(frozen=True)
class StatementRecord:
    """Where a partner's statement for a period stands in the workflow (draft until its officer
    locks it); once signed, the position, seal and digest it was signed with."""

    partner: str
    number: int
    state: StatementState
    signer: str | None = None
    reason: str = ""
    position: int | None = None
    seal: str | None = None
    digest: str | None = None
    locked_by: str | None = None
    submitted_by: str | None = None

    @property
    def signed(self) -> bool:
        return self.state in SIGNED_STATES


@dataclass(frozen=True)
class StatementView:
    """A partner's statement as every entrypoint shows it: its workflow record, its figures
    (at its signed position once signed, else at the read models' position), the chain's seal
    at that position, and the funding rate of each column."""

    record: StatementRecord
    statement: PartnerStatement
    seal: str

    @property
    def rates(self) -> Mapping[Column, Decimal]:
        return self.statement.rates

    @property
    def position(self) -> int:
        return self.statement.position

    @property
    def adjustments(self) -> list[Adjustment]:
        """The adjustments of earlier periods declared in this statement, by period and column
        (those that are not zero)."""
        return [
            Adjustment(number, COLUMN_OF[category], amount)
            for number, costs in self.statement.adjustments.items()
            for category, amount in costs.items()
            if amount.amount
        ]


@dataclass(frozen=True)
class Adjustment:
    """Costs of column ``column`` dated in the earlier period ``period``, declared here."""

    period: int
    column: Column
    amount: Money


@dataclass(frozen=True)
class PeriodView:
    period: ReportingPeriod
    records: tuple[StatementRecord, ...]

    @property
    def submitted(self) -> bool:
        return bool(self.records) and all(r.state == StatementState.SUBMITTED for r in self.records)


# --- reading ----------------------------------------------------------------------------------
def terms_of(conn: Connection) -> ReportingTerms:
    terms = reporting_terms(conn)
    if terms is None:
        raise NotFound("no grant is signed yet, so there are no reporting periods")
    return terms


def period_of(conn: Connection, number: int) -> ReportingPeriod:
    """Reporting period ``number``, or NoSuchPeriod naming the periods there are."""
    terms = terms_of(conn)
    period = terms.period(number)
    if period is None:
        there = ", ".join(str(p.number) for p in terms.periods) or "none (the coordinator has not set them)"
        raise NoSuchPeriod(f"there is no reporting period {number}; the periods are {there}")
    return period


def grant_name(conn: Connection) -> str:
    """The grant as a statement names it: its code and title."""
    found = conn.execute(select(t.grant.c.code, t.grant.c.title)).one_or_none()
    return "" if found is None else f"{found.code}: {found.title}"


def partners(conn: Connection) -> list[str]:
    return list(conn.execute(select(t.partners.c.code).order_by(t.partners.c.code)).scalars())


def record_of(row: StatementRow) -> StatementRecord:
    return StatementRecord(
        partner=row.partner,
        number=row.number,
        state=row.state,
        signer=row.signer or None,
        reason=row.reason,
        position=row.position or None,
        seal=row.seal or None,
        digest=row.digest or None,
        locked_by=row.locked_by or None,
        submitted_by=row.submitted_by or None,
    )


def records_of(conn: Connection, number: int) -> tuple[StatementRecord, ...]:
    """Every partner's statement record for period ``number``, by partner code (rm_statements)."""
    return tuple(record_of(row) for row in statement_rows(conn, number))


def record_in(conn: Connection, partner: str, number: int) -> StatementRecord:
    """The statement's place in the workflow, as the read models show it (draft: nothing yet)."""
    row = statement_row(conn, partner, number)
    return StatementRecord(partner, number, StatementState.DRAFT) if row is None else record_of(row)


def statement_record(context: LedgerContext, partner: str, number: int) -> StatementRecord:
    """``record_in`` for a caller without a read transaction of its own."""
    with context.read_db.reading() as conn:
        return record_in(conn, partner, number)


def periods_view(conn: Connection) -> list[PeriodView]:
    """Every reporting period with each partner's statement state."""
    return [period_view(conn, period.number) for period in terms_of(conn).periods]


def period_view(conn: Connection, number: int) -> PeriodView:
    """Reporting period ``number`` with each partner's statement state."""
    period = period_of(conn, number)
    return PeriodView(period, records_of(conn, number))


def statement_view(conn: Connection, partner: str, number: int) -> StatementView:
    """Partner ``partner``'s statement for period ``number`` (the partner's code as the grant
    writes it): as signed once signed, else as recorded up to the read models' position."""
    period_of(conn, number)
    record = record_in(conn, partner, number)
    position = record.position if record.signed and record.position is not None else _read_position(conn)
    statement = partner_statement(conn, partner, number, position=position)
    assert statement is not None  # noqa: S101 - the period exists
    seal = record.seal if record.signed and record.seal is not None else seal_at(conn, position)
    return StatementView(record, statement, seal)


@dataclass(frozen=True)
class SummaryView:
    """The consortium summary of a period at the read models' position (its seal there), with
    each partner's statement record (state, digest once signed)."""

    summary: ConsortiumSummary
    seal: str
    records: tuple[StatementRecord, ...]

    @property
    def position(self) -> int:
        return self.summary.position


@dataclass(frozen=True)
class FstpView:
    """The FSTP report of a period at the read models' position, with the chain's seal there."""

    period: ReportingPeriod
    rows: list[FstpRow]
    position: int
    seal: str


def summary_view(conn: Connection, number: int) -> SummaryView:
    """Period ``number``: every partner's statement side by side, the totals and the EU cap."""
    period_of(conn, number)
    position = _read_position(conn)
    summary = consortium_summary(conn, number, position=position)
    assert summary is not None  # noqa: S101 - the period exists
    records = records_of(conn, number)
    return SummaryView(summary, seal_at(conn, position), records)


def fstp_view(conn: Connection, number: int) -> FstpView:
    """The third parties supported in period ``number`` (every partner's)."""
    period = period_of(conn, number)
    position = _read_position(conn)
    rows = fstp_report(conn, number, position=position)
    assert rows is not None  # noqa: S101 - the period exists
    return FstpView(period, rows, position, seal_at(conn, position))


def _read_position(conn: Connection) -> int:
    """The read models' position in ``conn``'s transaction."""
    tracked = t.tracking.c
    found = conn.execute(select(tracked.position).where(tracked.name == READ_MODELS)).scalar_one_or_none()
    return int(found or 0)


# --- the workflow -----------------------------------------------------------------------------
def _recorded(context: LedgerContext, timeout: float) -> int:
    """Read-your-writes after a step: the position the read models reached for it."""
    position, _ = then_read(context, timeout, lambda _conn: None)
    return position


def lock_statement(
    context: LedgerContext,
    actor: Actor,
    partner: str,
    number: int,
    on: date,
    reason: str = "",
    *,
    timeout: float = TIMEOUT,
) -> int:
    """The partner's officer locks its statement for review; returns the position read."""
    context.app.lock_statement(actor=actor, partner=partner, number=number, reason=reason, on=on)
    return _recorded(context, timeout)


def sign_statement(
    context: LedgerContext,
    actor: Actor,
    partner: str,
    number: int,
    on: date,
    reason: str = "",
    *,
    timeout: float = TIMEOUT,
) -> str:
    """The partner's officer signs its locked statement: its figures at the log's head (the
    projector reaches it first), with the chain's seal there; returns the digest recorded."""
    head = context.app.recorder.max_notification_id() or 0
    context.projector.wait_for(head, timeout=timeout)
    with context.read_db.reading(snapshot=True) as conn:
        position = _read_position(conn)
        statement = partner_statement(conn, partner, number, position=position)
        if statement is None:
            period_of(conn, number)  # says which periods there are
            raise NoSuchPeriod(f"there is no reporting period {number}")
        content = statement_content(statement)
        seal = seal_at(conn, position)
    digest = context.app.sign_statement(
        actor=actor, partner=partner, number=number, content=content, position=position, seal=seal, on=on, reason=reason
    )
    _recorded(context, timeout)
    return digest


def send_back_statement(
    context: LedgerContext, actor: Actor, partner: str, number: int, on: date, reason: str, *, timeout: float = TIMEOUT
) -> int:
    """The coordinator sends a locked or signed statement back to its partner, with a reason."""
    context.app.send_back_statement(actor=actor, partner=partner, number=number, reason=reason, on=on)
    return _recorded(context, timeout)


def submit_period(
    context: LedgerContext, actor: Actor, number: int, on: date, reason: str = "", *, timeout: float = TIMEOUT
) -> int:
    """The coordinator submits the period once every partner's statement is signed."""
    context.app.submit_period(actor=actor, number=number, on=on, reason=reason)
    return _recorded(context, timeout)
