"""Which claims were assessed with a rate that has since been corrected.

A rate correction never recomputes a stored conversion (docs/domain.md): the claims assessed
before it keep the rate they used. This report lists them for an officer to decide what to
do: every claim line in the currency and month whose stored conversion used another rate
(or source) than the one recorded now. Approved and paid claims are listed by the approval's
lines; submitted claims by the estimate made at submission (rejected and withdrawn claims
are left out: nothing is paid on them). Each line shows what it would give at the rate
recorded now, converted and rounded half up to the cent as any assessment is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Connection, and_, or_, select

from ledger.money import Money
from projections import tables as t

#: Which stored conversion a line of the report comes from.
APPROVAL, ESTIMATE = "approval", "estimate at submission"
_CLOSED = ("rejected", "withdrawn")


@dataclass(frozen=True)
class AssessedLine:
    claim_id: str
    sme_id: str
    sme_name: str
    mission_id: str
    mission_code: str
    partner: str
    state: str
    basis: str
    line_no: int
    expense_date: date
    currency: str
    amount: Decimal
    rate_used: Decimal
    source_used: str
    eur: Decimal
    eur_at_rate_now: Decimal

    @property
    def difference(self) -> Decimal:
        """What the line would give at the rate recorded now, less what it gave."""
        return self.eur_at_rate_now - self.eur


@dataclass(frozen=True)
class RateAssessments:
    currency: str
    month: str
    rate: Decimal
    source: str
    version: int
    lines: tuple[AssessedLine, ...]

    @property
    def difference(self) -> Decimal:
        return sum((line.difference for line in self.lines), Decimal("0.00"))


def rate_assessments(conn: Connection, currency: str, month: str) -> RateAssessments | None:
    """The lines assessed with an earlier rate of ``currency`` for ``month`` (None if no rate
    is recorded for them), in claim submission order."""
    xr = conn.execute(select(t.rates).where(t.rates.c.currency == currency, t.rates.c.month == month)).one_or_none()
    if xr is None:
        return None
    c, line = t.claims.c, t.claim_lines.c
    approved = and_(c.state != "submitted", c.state.not_in(_CLOSED), line.rate_month == month)
    estimated = and_(c.state == "submitted", line.estimate_rate_month == month)
    query = (
        select(t.claim_lines, c.sme_id, c.mission_id, c.partner, c.state, c.submitted_on, t.smes.c.legal_name)
        .add_columns(t.missions.c.code.label("mission_code"))
        .join(t.claims, c.id == line.claim_id)
        .join(t.smes, t.smes.c.id == c.sme_id)
        .join(t.missions, t.missions.c.id == c.mission_id)
        .where(line.currency == currency, or_(approved, estimated))
        .order_by(c.submitted_on, c.id, line.line_no)
    )
    found = []
    for row in conn.execute(query):
        on_estimate = row.state == "submitted"
        rate, source = (row.estimate_rate, row.estimate_rate_source) if on_estimate else (row.rate, row.rate_source)
        if (rate, source) == (xr.rate, xr.source):
            continue  # assessed with the rate recorded now
        amount = row.amount if on_estimate else row.accepted
        found.append(
            AssessedLine(
                claim_id=row.claim_id,
                sme_id=row.sme_id,
                sme_name=row.legal_name,
                mission_id=row.mission_id,
                mission_code=row.mission_code,
                partner=row.partner,
                state=row.state,
                basis=ESTIMATE if on_estimate else APPROVAL,
                line_no=row.line_no,
                expense_date=row.expense_date,
                currency=currency,
                amount=amount,
                rate_used=rate,
                source_used=source,
                eur=row.estimate_eur if on_estimate else row.eur,
                eur_at_rate_now=Money(amount, currency).to_eur(xr.rate).amount,
            )
        )
    return RateAssessments(currency, month, xr.rate, xr.source, xr.version, tuple(found))
