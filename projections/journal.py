"""The whole ledger as a double-entry journal, in hledger and beancount formats.

One transaction per money event (its business date, its actor and event position in
metadata). Each change of a budget-line figure is a posting on that line's account,
balanced by its counterpart:

    Assets:Budget:<PARTNER>:<CATEGORY>:Allocated  <- Equity:Grant (transfers net to zero)
    Assets:Budget:<PARTNER>:<CATEGORY>:Pending    <- Liabilities:Requested:SME-<id>  (flag !)
    Assets:Budget:<PARTNER>:<CATEGORY>:Committed  <- Liabilities:Payable:SME-<id>
    Assets:Budget:<PARTNER>:<CATEGORY>:Paid       <- Assets:Bank:<PARTNER>
    Assets:Budget:<PARTNER>:<CATEGORY>:Spent      <- Assets:Bank:<PARTNER>

so that `hledger bal` or beancount's realization of the journal shows, per account, exactly
the figures of the read models (to the cent, and as of any business date with -e/--end).
A payment moves the SME's payable from committed to paid, so the payable of an SME is
what it is still owed.

No free text can add a line, a posting, a comment or a directive: account name components,
descriptions and metadata go through ``projections.escaping`` (``account_component``,
``journal_text``, ``beancount_string``), whatever the read models hold.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from projections import tables as t
from projections.chain import Stamp
from projections.escaping import account_component, beancount_meta, beancount_string, journal_text

#: Event payload fields that name the claim a budget-line change belongs to.
_CLAIM_FIELD = "claim_id"
GRANT_EQUITY = "Equity:Grant"


def line_account(partner: str, category: str, measure: str) -> str:
    return f"Assets:Budget:{account_component(partner)}:{account_component(category)}:{measure.capitalize()}"


@dataclass(frozen=True)
class Posting:
    account: str
    amount: Decimal


@dataclass(frozen=True)
class Transaction:
    position: int
    day: date
    pending: bool
    narration: str
    actor: str
    postings: tuple[Posting, ...]


def _counterpart(measure: str, partner: str, sme: str | None) -> str:
    if measure == "allocated":
        return GRANT_EQUITY
    if measure in {"paid", "spent"}:
        return f"Assets:Bank:{account_component(partner)}"
    who = f"SME-{account_component(sme)}" if sme else "Unknown"
    return f"Liabilities:{'Requested' if measure == 'pending' else 'Payable'}:{who}"


def transactions(conn: Connection) -> Iterator[Transaction]:
    """The journal's transactions in event order, from the movements and the audit trail."""
    smes = dict(conn.execute(select(t.claims.c.id, t.claims.c.sme_id)).tuples().all())
    m, a = t.movements.c, t.audit.c
    query = (
        select(m.position, m.effective_date, m.partner, m.category, m.measure, m.delta, a.actor_id, a.event_type)
        .add_columns(a.aggregate_type, a.aggregate_id, a.payload)
        .join(t.audit, a.position == m.position)
        .order_by(m.position, m.seq)
    )
    current: list[Any] = []
    for row in conn.execute(query):
        if current and current[0].position != row.position:
            yield _transaction(current, smes)
            current = []
        current.append(row)
    if current:
        yield _transaction(current, smes)


def _transaction(rows: list[Any], smes: dict[str, str]) -> Transaction:
    first = rows[0]
    payload = json.loads(first.payload)
    claim = first.aggregate_id if first.aggregate_type == "Claim" else payload.get(_CLAIM_FIELD)
    sme = smes.get(claim) if claim else None
    postings: list[Posting] = []
    for row in rows:
        postings.append(Posting(line_account(row.partner, row.category, row.measure), row.delta))
        postings.append(Posting(_counterpart(row.measure, row.partner, sme), -row.delta))
    return Transaction(
        position=first.position,
        day=first.effective_date,
        pending=any(row.measure == "pending" and row.delta > 0 for row in rows),
        narration=f"{first.aggregate_type} {first.event_type}" + (f" claim {claim}" if claim else ""),
        actor=first.actor_id,
        postings=tuple(postings),
    )


def _amount(value: Decimal) -> str:
    return f"{value:.2f} EUR"


def stamped(text: str, at: Stamp) -> str:
    """The journal with comment lines on top naming the head it was made at (both tools skip them)."""
    return "".join(f"; {line}\n" for line in at.lines()) + text


def hledger(conn: Connection) -> str:
    """The journal in hledger's format."""
    out = ["; GrantLedger journal (hledger). Amounts in EUR; one transaction per money event.", ""]
    for tx in transactions(conn):
        mark = "!" if tx.pending else "*"
        comment = f"position:{tx.position}, actor:{journal_text(tx.actor)}"
        out.append(f"{tx.day.isoformat()} {mark} {journal_text(tx.narration)}  ; {comment}")
        out.extend(f"    {p.account}  {_amount(p.amount)}" for p in tx.postings)
        out.append("")
    return "\n".join(out)


def beancount(conn: Connection) -> str:
    """The journal in beancount's format (with an open directive for every account)."""
    txs = list(transactions(conn))
    opened: dict[str, date] = {}
    for tx in txs:
        for posting in tx.postings:
            opened[posting.account] = min(opened.get(posting.account, tx.day), tx.day)
    out = ['option "title" "GrantLedger journal"', 'option "operating_currency" "EUR"', ""]
    out.extend(f"{day.isoformat()} open {account} EUR" for account, day in sorted(opened.items()))
    out.append("")
    for tx in txs:
        mark = "!" if tx.pending else "*"
        out.append(f"{tx.day.isoformat()} {mark} {beancount_string(tx.narration)}")
        out.append(beancount_meta("position", str(tx.position)))
        out.append(beancount_meta("actor", tx.actor))
        out.extend(f"  {p.account}  {_amount(p.amount)}" for p in tx.postings)
        out.append("")
    return "\n".join(out)
