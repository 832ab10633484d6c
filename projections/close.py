"""Period close on the read side: each partner's statement per period as its workflow left it
(rm_statements), and invariant 10: a signed or submitted statement, recomputed from the events
up to the position it was signed at, gives the same content, digest and chain seal."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import Connection, select

from ledger.application import GrantLedger
from ledger.statement import StatementState, statement_digest
from projections import tables as t
from projections.chain import Anchor, Verdict, seal_at, verify
from projections.db import ReadDatabase
from projections.document_check import document_problems
from projections.statements import partner_statement, statement_content


@dataclass(frozen=True)
class StatementRow:
    """One partner's statement for one period: its state and who moved it there."""

    partner: str
    number: int
    start: date
    end: date
    state: StatementState
    locked_by: str = ""
    signer: str = ""
    reason: str = ""
    submitted_by: str = ""
    #: Where it was signed: the event position, the chain's seal there, the content's digest.
    position: int = 0
    seal: str = ""
    digest: str = ""
    content: Mapping[str, str] = field(default_factory=dict)
    #: The business date of the last step (None: never locked).
    changed_on: date | None = None


def _periods(conn: Connection) -> dict[int, tuple[date, date]]:
    p = t.reporting_periods.c
    return {row.number: (row.start, row.end) for row in conn.execute(select(p.number, p.start, p.end))}


def _row(stored: object, start: date, end: date) -> StatementRow:
    r = stored._mapping  # type: ignore[attr-defined]
    return StatementRow(
        partner=r["partner"],
        number=r["number"],
        start=start,
        end=end,
        state=StatementState(r["state"]),
        locked_by=r["locked_by"],
        signer=r["signer"],
        reason=r["reason"],
        submitted_by=r["submitted_by"],
        position=int(r["position"]),
        seal=r["seal"],
        digest=r["digest"],
        content=json.loads(r["content"]),
        changed_on=r["changed_on"],
    )


def statement_rows(conn: Connection, number: int) -> list[StatementRow]:
    """Every partner's statement for period ``number``, by partner code (in draft when nothing
    is recorded); empty when there is no such period."""
    span = _periods(conn).get(number)
    if span is None:
        return []
    s = t.statements.c
    stored = {row.partner: row for row in conn.execute(select(t.statements).where(s.number == number))}
    partners = sorted(conn.execute(select(t.partners.c.code)).scalars())
    draft = StatementState.DRAFT
    return [
        _row(stored[partner], *span) if partner in stored else StatementRow(partner, number, *span, draft)
        for partner in partners
    ]


def statement_row(conn: Connection, partner: str, number: int) -> StatementRow | None:
    """Partner ``partner``'s statement for period ``number`` (None: no such partner or period)."""
    return next((row for row in statement_rows(conn, number) if row.partner == partner), None)


def statement_problems(app: GrantLedger, conn: Connection) -> tuple[int, list[str]]:
    """Invariant 10: every signed or submitted statement, as the event store holds it,
    recomputed from the events up to its position; how many were checked, and each figure,
    digest or seal that differs, naming the partner and the period."""
    checked, problems = 0, []
    partners = sorted(conn.execute(select(t.partners.c.code)).scalars())
    for number in sorted(_periods(conn)):
        for partner in partners:
            stored = app.statement(partner, number)
            if stored is None or stored.state not in (StatementState.SIGNED, StatementState.SUBMITTED):
                continue
            checked += 1
            where = f"{partner}'s statement for period {number} ({stored.state}, signed at position {stored.position})"
            recomputed = partner_statement(conn, partner, number, position=stored.position)
            if recomputed is None:
                problems.append(f"{where}: the read models have no such statement to recompute it from")
                continue
            content = statement_content(recomputed)
            for key in sorted(set(content) | set(stored.content)):
                signed, now = stored.content.get(key, "(missing)"), content.get(key, "(missing)")
                if signed != now:
                    problems.append(f"{where}: {key} signed {signed}, recomputed from the events {now}")
            if statement_digest(stored.content) != stored.digest:
                problems.append(f"{where}: its digest {stored.digest} is not the digest of the figures it holds")
            elif statement_digest(content) != stored.digest:
                problems.append(f"{where}: its digest {stored.digest} is not the digest of the recomputed figures")
            try:
                seal = seal_at(conn, stored.position)
            except LookupError as error:
                problems.append(f"{where}: {error}")
                continue
            if seal != stored.seal:
                problems.append(f"{where}: its seal {stored.seal} is not the chain's seal there, {seal}")
    return checked, problems


def verify_history(app: GrantLedger, db: ReadDatabase, *, expect_head: Anchor | None = None) -> Verdict:
    """The hash chain's verdict (projections.chain.verify) with every signed or submitted
    statement recomputed (invariant 10) and every supporting document's bytes checked against
    its digest (projections.document_check): what `grantledger verify` and /audit/verify show."""
    verdict = verify(app, db, expect_head=expect_head)
    with db.reading() as conn:
        checked, problems = statement_problems(app, conn)
    documents, missing = document_problems(app)
    return replace(
        verdict,
        statements=checked,
        statement_problems=tuple(problems),
        documents=documents,
        document_problems=tuple(missing),
    )
