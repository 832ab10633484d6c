"""Thin queries over the read models: what the API, the web app and the command line show.

By area: the budget's figures, now, as recorded up to a position or as effective on a date
(``budget``); SMEs and missions (``smes``); claims and the audit trail (``claims``). Every
name is here too, so callers read ``from projections import queries as q`` and ``q.<name>``.
"""

from __future__ import annotations

from projections.queries.budget import (
    ZERO,
    AsOf,
    BudgetOverview,
    LineFigures,
    budget_overview,
    position_recorded_by,
    summed,
)
from projections.queries.claims import (
    CLAIM_STATES,
    AuditFilter,
    ClaimDetail,
    ClaimFilter,
    audit_trail,
    claim_detail,
    list_claims,
)
from projections.queries.smes import (
    MissionSummary,
    SmeMissionFigures,
    SmeSummary,
    mission_summaries,
    sme_summaries,
)

__all__ = [
    "CLAIM_STATES",
    "ZERO",
    "AsOf",
    "AuditFilter",
    "BudgetOverview",
    "ClaimDetail",
    "ClaimFilter",
    "LineFigures",
    "MissionSummary",
    "SmeMissionFigures",
    "SmeSummary",
    "audit_trail",
    "budget_overview",
    "claim_detail",
    "list_claims",
    "mission_summaries",
    "position_recorded_by",
    "sme_summaries",
    "summed",
]
