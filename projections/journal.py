"""The whole ledger (or one partner's part of it) as a double-entry journal, for hledger and beancount.

One transaction per money event (its business date, its actor and event position in
metadata). The accounts make a tree whose every parent total means something, and that
`hledger bal --tree` (or `hledger is`, or fava) reads like the budget overview:

    Income:Allocated:<PARTNER>:<CATEGORY>               what the grant allocates to the line (a credit)
    Assets:Remaining:<PARTNER>:<CATEGORY>               allocated - committed - paid - own costs
    Expenses:Used:Committed:<PARTNER>:<CATEGORY>:<SME>  approved for an SME, not paid yet
    Expenses:Used:Paid:<PARTNER>:<CATEGORY>:<SME>       paid to an SME (net of reversals)
    Expenses:Used:OwnCosts:<PARTNER>:<CATEGORY>         the partner's own costs
    Equity:Memo:Pending:<PARTNER>:<CATEGORY>            claims submitted, not decided yet (a memo)
    Equity:Memo:Requested:<SME>                         the same requests, per SME (its counterpart)

An allocation (or a transfer) credits Income:Allocated and debits Assets:Remaining; an
approval moves money from Remaining to Used:Committed, a payment from Committed to Paid
(any shortfall released back to Remaining), a reversal back again, an own cost from
Remaining to Used:OwnCosts. So for every line, and for every partner and the whole grant
above them: allocated = remaining + used, `hledger is` shows allocated as revenue, used as
expenses and remaining as the net. Pending is a memo pair of its own, up on submission and
down on the decision, never below zero, and touches no other tree.

SME accounts are named by the SME's legal name, cleaned to an account name, with the first
characters of its record id (``sme_component``): readable, stable, and never shared by two SMEs.
No free text can add a line, a posting, a comment or a directive: account name components,
descriptions and metadata go through ``projections.escaping`` whatever the read models hold.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
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
ALLOCATED = "Income:Allocated"
REMAINING = "Assets:Remaining"
PENDING = "Equity:Memo:Pending"
REQUESTED = "Equity:Memo:Requested"
#: The tree of each budget-line figure, and the sign of its balance: an account's balance is
#: sign x the figure (allocated is a credit, so hledger and beancount show it negative).
TREES = {
    "allocated": (ALLOCATED, -1),
    "pending": (PENDING, 1),
    "committed": ("Expenses:Used:Committed", 1),
    "paid": ("Expenses:Used:Paid", 1),
    "spent": ("Expenses:Used:OwnCosts", 1),
    "remaining": (REMAINING, 1),
}
#: Figures booked per SME below the line's account.
_PER_SME = frozenset({"committed", "paid"})
_SME_NAME_LENGTH = 40


def line_account(partner: str, category: str, measure: str) -> str:
    """The account of one budget-line figure (with its SME sub-accounts, for committed and paid):
    its balance, sub-accounts included, is ``TREES[measure][1]`` x the figure."""
    return f"{TREES[measure][0]}:{account_component(partner)}:{account_component(category)}"


def signed(measure: str, figure: Decimal) -> Decimal:
    """The balance an account of ``measure`` holds for ``figure``."""
    return figure * TREES[measure][1]


def rollup(balances: dict[str, Decimal]) -> dict[str, Decimal]:
    """Balances of the tools' leaf accounts summed up to their budget line's account (SME
    sub-accounts into their line); accounts of no budget line (Equity:Memo:Requested) left out."""
    lines: dict[str, Decimal] = {}
    for account, amount in balances.items():
        for root, _ in TREES.values():
            if account.startswith(root + ":"):
                rest = account[len(root) + 1 :].split(":")
                line = f"{root}:{rest[0]}:{rest[1]}" if len(rest) >= 2 else account
                lines[line] = lines.get(line, Decimal(0)) + amount
    return {account: amount for account, amount in lines.items() if amount}


def sme_component(legal_name: str, sme_id: str, digits: int = 6) -> str:
    """An SME's account name component: its legal name in capitals, digits and hyphens (accents
    dropped, anything else a hyphen, at most 40 characters), then ``-`` and the first ``digits``
    characters of its record id (``ACME-TEXTILES-SRL-3F9A1C``)."""
    ascii_name = unicodedata.normalize("NFKD", legal_name).encode("ascii", "ignore").decode().upper()
    cleaned = re.sub(r"[^A-Z0-9]+", "-", ascii_name).strip("-")[:_SME_NAME_LENGTH].strip("-") or "SME"
    suffix = re.sub(r"[^0-9A-Za-z]", "", sme_id).upper()[:digits] or "X"
    return f"{cleaned}-{suffix}"


def sme_components(smes: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Each SME id's account component; SMEs whose names and id prefixes would meet get their
    whole id instead, so that no two SMEs ever share an account."""
    pairs = list(smes)
    short = {sme_id: sme_component(name, sme_id) for sme_id, name in pairs}
    taken: dict[str, int] = {}
    for component in short.values():
        taken[component] = taken.get(component, 0) + 1
    return {
        sme_id: component if taken[component] == 1 else sme_component(name, sme_id, digits=64)
        for (sme_id, name), component in zip(pairs, short.values(), strict=True)
    }


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


def _postings(measure: str, partner: str, category: str, delta: Decimal, sme: str | None) -> list[Posting]:
    """The two postings of one change of a budget-line figure."""
    account = line_account(partner, category, measure)
    remaining = line_account(partner, category, "remaining")
    if measure == "allocated":
        return [Posting(account, -delta), Posting(remaining, delta)]
    if measure == "pending":
        return [Posting(account, delta), Posting(REQUESTED if sme is None else f"{REQUESTED}:{sme}", -delta)]
    used = f"{account}:{sme}" if sme is not None and measure in _PER_SME else account
    return [Posting(used, delta), Posting(remaining, -delta)]


def transactions(conn: Connection, partner: str | None = None) -> Iterator[Transaction]:
    """The journal's transactions in event order (only ``partner``'s budget lines when given),
    from the budget movements and the audit trail."""
    names = sme_components(conn.execute(select(t.smes.c.id, t.smes.c.legal_name)).tuples())
    smes = {claim: names.get(sme) for claim, sme in conn.execute(select(t.claims.c.id, t.claims.c.sme_id)).tuples()}
    claims_of = dict(conn.execute(select(t.payments.c.id, t.payments.c.claim_id)).tuples().all())
    m, a = t.movements.c, t.audit.c
    query = (
        select(m.position, m.effective_date, m.partner, m.category, m.measure, m.delta, a.actor_id, a.event_type)
        .add_columns(a.aggregate_type, a.aggregate_id, a.payload)
        .join(t.audit, a.position == m.position)
        .order_by(m.position, m.seq)
    )
    if partner is not None:
        query = query.where(m.partner == partner)
    current: list[Any] = []
    for row in conn.execute(query):
        if current and current[0].position != row.position:
            yield from _transactions(current, smes, claims_of)
            current = []
        current.append(row)
    if current:
        yield from _transactions(current, smes, claims_of)


def _transactions(rows: list[Any], smes: dict[str, str | None], claims_of: dict[str, str]) -> Iterator[Transaction]:
    """One event's transactions: one per business date its movements carry (a payment's value
    date corrected moves its amounts off the old date and onto the new one: two transactions)."""
    by_day: dict[Any, list[Any]] = {}
    for row in rows:
        by_day.setdefault(row.effective_date, []).append(row)
    for day_rows in by_day.values():
        yield from _transaction(day_rows, smes, claims_of)


def _transaction(rows: list[Any], smes: dict[str, str | None], claims_of: dict[str, str]) -> Iterator[Transaction]:
    """One event's transaction: its postings summed per account (a payment of what was committed
    leaves Remaining unchanged: no posting); none when they all cancel out."""
    first = rows[0]
    payload = json.loads(first.payload)
    if first.aggregate_type == "Claim":
        claim = first.aggregate_id
    elif first.aggregate_type == "Payment":
        claim = payload.get(_CLAIM_FIELD) or claims_of.get(first.aggregate_id)
    else:
        claim = payload.get(_CLAIM_FIELD)
    sme = smes.get(claim) if claim else None
    summed: dict[str, Decimal] = {}
    for row in rows:
        for posting in _postings(row.measure, row.partner, row.category, row.delta, sme):
            summed[posting.account] = summed.get(posting.account, Decimal("0.00")) + posting.amount
    postings = tuple(Posting(account, amount) for account, amount in summed.items() if amount)
    if not postings:
        return
    yield Transaction(
        position=first.position,
        day=first.effective_date,
        pending=any(row.measure == "pending" and row.delta > 0 for row in rows),
        narration=f"{first.aggregate_type} {first.event_type}" + (f" claim {claim}" if claim else ""),
        actor=first.actor_id,
        postings=postings,
    )


def _amount(value: Decimal) -> str:
    return f"{value:.2f} EUR"


def stamped(text: str, at: Stamp, scope: str | None = None) -> str:
    """The journal with comment lines on top naming the head it was made at and, for one
    partner's journal, whose (both tools skip them)."""
    lines = [*at.lines(), *([] if scope is None else [f"only {journal_text(scope)}'s budget lines"])]
    return "".join(f"; {line}\n" for line in lines) + text


def hledger(conn: Connection, partner: str | None = None) -> str:
    """The journal in hledger's format."""
    out = [
        "; GrantLedger journal (hledger). Amounts in EUR; one transaction per money event.",
        "; Income:Allocated = Assets:Remaining + Expenses:Used per line; Equity:Memo holds pending claims.",
        "",
    ]
    for tx in transactions(conn, partner):
        mark = "!" if tx.pending else "*"
        comment = f"position:{tx.position}, actor:{journal_text(tx.actor)}"
        out.append(f"{tx.day.isoformat()} {mark} {journal_text(tx.narration)}  ; {comment}")
        out.extend(f"    {p.account}  {_amount(p.amount)}" for p in tx.postings)
        out.append("")
    return "\n".join(out)


def beancount(conn: Connection, partner: str | None = None) -> str:
    """The journal in beancount's format (with an open directive for every account)."""
    txs = list(transactions(conn, partner))
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
