"""The books' tables: budget lines, claims, their expense lines, payments and own costs."""

from __future__ import annotations

from sqlalchemy import Connection, select

from projections import queries as q
from projections import tables as t
from projections.export.sheet import Column, Sheet, table

BUDGET = (
    Column("partner", "Partner"),
    Column("category", "Category"),
    Column("allocated", "Allocated (EUR)", "eur"),
    Column("pending", "Pending (EUR)", "eur"),
    Column("committed", "Committed (EUR)", "eur"),
    Column("paid", "Paid (EUR)", "eur"),
    Column("own_costs", "Own costs (EUR)", "eur"),
    Column("remaining", "Remaining (EUR)", "eur"),
    Column("remaining_after_pending", "Remaining after pending (EUR)", "eur"),
)


def budget(conn: Connection, partner: str | None, as_of: q.AsOf) -> Sheet:
    """Every partner x category line (or one partner's), then the TOTAL of those lines."""
    overview = q.budget_overview(conn, as_of)
    lines = () if overview is None else overview.lines if partner is None else overview.partner(partner)
    shown = () if overview is None else (*lines, overview.totals(lines))
    rows = [
        (
            line.partner,
            line.category,
            line.allocated,
            line.pending,
            line.committed,
            line.paid,
            line.spent,
            line.remaining,
            line.remaining_after_pending,
        )
        for line in shown
    ]
    return table("budget", "Budget", BUDGET, rows, totals=frozenset({len(rows) - 1} if rows else ()))


CLAIMS = (
    Column("claim_id", "Claim"),
    Column("sme", "SME (legal name)"),
    Column("sme_identifier", "SME identifier"),
    Column("mission", "Mission"),
    Column("partner", "Partner"),
    Column("submitted_on", "Submitted on", "date"),
    Column("decided_on", "Decided on", "date"),
    Column("state", "State"),
    Column("requested_eur", "Requested (EUR)", "eur"),
    Column("approved_eur", "Approved (EUR)", "eur"),
    Column("paid_eur", "Paid (EUR)", "eur"),
    Column("settled_short_eur", "Settled short (EUR)", "eur"),
    Column("outstanding_eur", "Outstanding (EUR)", "eur"),
    Column("capped_by", "Capped by"),
    Column("reason", "Reason"),
)


def claims(conn: Connection, partner: str | None) -> Sheet:
    c, s, m = t.claims.c, t.smes.c, t.missions.c
    query = (
        select(t.claims, s.legal_name, s.identifier, m.code.label("mission_code"))
        .outerjoin(t.smes, s.id == c.sme_id)
        .outerjoin(t.missions, m.id == c.mission_id)
        .order_by(c.position, c.id)
    )
    if partner is not None:
        query = query.where(c.partner == partner)
    rows = [
        (
            r.id,
            r.legal_name,
            r.identifier,
            r.mission_code,
            r.partner,
            r.submitted_on,
            r.decided_on,
            r.state,
            r.requested,
            r.approved,
            r.paid,
            r.settled_short,
            r.outstanding,
            r.capped_by,
            r.reason,
        )
        for r in conn.execute(query)
    ]
    return table("claims", "Claims", CLAIMS, rows)


CLAIM_LINES = (
    Column("claim_id", "Claim"),
    Column("line_no", "Line", "int"),
    Column("cost_type", "Cost type"),
    Column("expense_date", "Expense date", "date"),
    Column("receipt", "Receipt"),
    Column("description", "Description"),
    Column("currency", "Currency"),
    Column("amount", "Amount (original currency)", "amount"),
    Column("rate", "Rate (per EUR)", "rate"),
    Column("rate_month", "Rate month"),
    Column("rate_source", "Rate source"),
    Column("eur", "Amount (EUR)", "eur"),
    Column("accepted", "Accepted (original currency)", "amount"),
    Column("reason", "Reason"),
)


def claim_lines(conn: Connection, partner: str | None) -> Sheet:
    cl, c = t.claim_lines.c, t.claims.c
    query = select(t.claim_lines).join(t.claims, c.id == cl.claim_id).order_by(c.position, c.id, cl.line_no)
    if partner is not None:
        query = query.where(c.partner == partner)
    rows = [
        (
            r.claim_id,
            r.line_no,
            r.cost_type,
            r.expense_date,
            r.receipt_ref,
            r.description,
            r.currency,
            r.amount,
            r.rate,
            r.rate_month,
            r.rate_source,
            r.eur,
            r.accepted,
            r.reason,
        )
        for r in conn.execute(query)
    ]
    return table("claim_lines", "Claim lines", CLAIM_LINES, rows)


PAYMENTS = (
    Column("payment_id", "Payment"),
    Column("claim_id", "Claim"),
    Column("sme", "SME (legal name)"),
    Column("partner", "Partner"),
    Column("bank_reference", "Bank reference"),
    Column("value_date", "Value date", "date"),
    Column("amount_eur", "Amount (EUR)", "eur"),
    Column("reversed", "Reversed"),
    Column("reversal_reason", "Reversal reason"),
)


def payments(conn: Connection, partner: str | None) -> Sheet:
    p, c, s = t.payments.c, t.claims.c, t.smes.c
    query = (
        select(t.payments, s.legal_name)
        .outerjoin(t.claims, c.id == p.claim_id)
        .outerjoin(t.smes, s.id == c.sme_id)
        .order_by(p.value_date, p.id)
    )
    if partner is not None:
        query = query.where(p.partner == partner)
    rows = [
        (
            r.id,
            r.claim_id,
            r.legal_name,
            r.partner,
            r.bank_reference,
            r.value_date,
            r.amount,
            "yes" if r.reversed else "no",
            r.reversal_reason,
        )
        for r in conn.execute(query)
    ]
    return table("payments", "Payments", PAYMENTS, rows)


COSTS = (
    Column("cost_id", "Cost"),
    Column("partner", "Partner"),
    Column("category", "Category"),
    Column("cost_date", "Cost date", "date"),
    Column("document", "Document"),
    Column("description", "Description"),
    Column("currency", "Currency"),
    Column("amount", "Amount (original currency)", "amount"),
    Column("eur", "Amount (EUR)", "eur"),
)


def costs(conn: Connection, partner: str | None) -> Sheet:
    k = t.costs.c
    query = select(t.costs).order_by(k.cost_date, k.id)
    if partner is not None:
        query = query.where(k.partner == partner)
    rows = [
        (r.id, r.partner, r.category, r.cost_date, r.document_ref, r.description, r.currency, r.amount, r.eur)
        for r in conn.execute(query)
    ]
    return table("own_costs", "Own costs", COSTS, rows)
