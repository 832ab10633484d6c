"""The registry's tables: budget transfers, exchange rates, SME support and the audit trail."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, or_, select

from projections import queries as q
from projections import tables as t
from projections.export.sheet import Column, Sheet, table

TRANSFERS = (
    Column("transfer_id", "Transfer"),
    Column("effective_date", "Effective date", "date"),
    Column("recorded_at_utc", "Recorded at (UTC)", "time"),
    Column("actor", "Actor"),
    Column("from_partner", "From partner"),
    Column("from_category", "From category"),
    Column("to_partner", "To partner"),
    Column("to_category", "To category"),
    Column("amount_eur", "Amount (EUR)", "eur"),
    Column("decision_ref", "Consortium decision"),
    Column("reason", "Reason"),
)


def transfers(conn: Connection, partner: str | None) -> Sheet:
    """Budget transfers, as the audit trail records them (there is no transfers read model yet)."""
    a = t.audit.c
    query = select(t.audit).where(a.aggregate_type == "Transfer").order_by(a.position)
    rows = []
    for r in conn.execute(query):
        made: dict[str, Any] = json.loads(r.payload)
        if partner is not None and partner not in {made.get("from_partner"), made.get("to_partner")}:
            continue
        amount = made.get("amount")
        rows.append(
            (
                r.aggregate_id,
                r.effective_date,
                r.recorded_at,
                r.actor_id,
                made.get("from_partner"),
                made.get("from_category"),
                made.get("to_partner"),
                made.get("to_category"),
                Decimal(amount["amount"]) if isinstance(amount, dict) else None,
                made.get("decision_ref"),
                r.reason or made.get("reason"),
            )
        )
    return table("transfers", "Transfers", TRANSFERS, rows)


RATES = (
    Column("currency", "Currency"),
    Column("month", "Month"),
    Column("rate", "Rate (units per EUR)", "rate"),
    Column("source", "Source"),
    Column("version", "Version", "int"),
    Column("rate_id", "Rate record"),
)


def rates(conn: Connection) -> Sheet:
    """Every monthly exchange rate recorded (the same for every partner)."""
    r = t.rates.c
    rows = [
        (x.currency, x.month, x.rate, x.source, x.version, x.id)
        for x in conn.execute(select(t.rates).order_by(r.currency, r.month))
    ]
    return table("exchange_rates", "Exchange rates", RATES, rows)


SME_SUPPORT = (
    Column("sme_id", "SME record"),
    Column("legal_name", "SME (legal name)"),
    Column("identifier", "SME identifier"),
    Column("country", "Country"),
    Column("mission", "Mission"),
    Column("cap_eur", "Cap (EUR)", "eur"),
    Column("requested_eur", "Requested (EUR)", "eur"),
    Column("approved_eur", "Approved (EUR)", "eur"),
    Column("paid_eur", "Paid (EUR)", "eur"),
    Column("remaining_cap_eur", "Remaining under the cap (EUR)", "eur"),
)
#: The mission column of an SME's row against the cap per third party over the whole grant.
OVERALL = "all missions (cap per SME)"


def sme_support(conn: Connection, partner: str | None) -> Sheet:
    """Per SME: a row per mission against the mission's cap, then one over every mission
    against the cap per SME (EUR 60,000). For one partner: the SMEs of its missions, with
    their rows of its missions and their overall row (which counts every mission)."""
    mission_partner = dict(conn.execute(select(t.missions.c.id, t.missions.c.partner)).tuples().all())
    rows: list[tuple[Any, ...]] = []
    for s in q.sme_summaries(conn):
        missions = [m for m in s.missions if partner is None or mission_partner.get(m.mission_id) == partner]
        if not missions:
            continue
        head = (s.id, s.legal_name, s.identifier, s.country)
        rows.extend((*head, m.mission_code, m.cap, m.requested, m.approved, m.paid, m.remaining_cap) for m in missions)
        overall = (
            s.overall_cap,
            sum((m.requested for m in s.missions), q.ZERO),
            s.approved,
            sum((m.paid for m in s.missions), q.ZERO),
            s.remaining_overall,
        )
        rows.append((*head, OVERALL, *overall))
    return table("sme_support", "SME support", SME_SUPPORT, rows)


AUDIT = (
    Column("position", "Position", "int"),
    Column("recorded_at_utc", "Recorded at (UTC)", "time"),
    Column("effective_date", "Effective date", "date"),
    Column("actor", "Actor"),
    Column("role", "Role"),
    Column("partner", "Partner"),
    Column("record_type", "Record type"),
    Column("record_id", "Record"),
    Column("version", "Version", "int"),
    Column("event", "Event"),
    Column("reason", "Reason"),
    Column("payload", "Payload (JSON)"),
)


def audit_trail(conn: Connection, partner: str | None) -> Sheet:
    """One row per event (for one partner: its actors' events and those that moved its budget
    lines, such as transfers to or from them), the event's JSON payload last."""
    a, m = t.audit.c, t.movements.c
    query = select(t.audit).order_by(a.position)
    if partner is not None:
        moved = select(m.position).where(m.partner == partner)
        query = query.where(or_(a.partner == partner, a.position.in_(moved)))
    rows = [
        (
            r.position,
            r.recorded_at,
            r.effective_date,
            r.actor_id,
            r.role,
            r.partner or "",
            r.aggregate_type,
            r.aggregate_id,
            r.version,
            r.event_type,
            r.reason,
            json.dumps(json.loads(r.payload), sort_keys=True),
        )
        for r in conn.execute(query)
    ]
    return table("audit_trail", "Audit trail", AUDIT, rows)
