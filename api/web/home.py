"""The home page of each role: what that person looks at first.

- coordinator: the grant at a glance (total, EU cap, EU contribution so far, used and
  remaining per partner), the lines nearly used up, the claims waiting longest for a decision;
- officer: their partner's lines, the claims awaiting their decision, recent payments;
- auditor: the chain's head and the read models' state, recent events, the exports.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.context import LedgerContext
from api.web.reads import books, today
from api.web.render import render
from api.web.rights import recordable
from api.web.session import SessionDep
from ledger.actors import Role
from projections import glance
from projections import queries as q
from projections.chain import stamp

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, session: SessionDep) -> HTMLResponse:
    actor = session.actor
    now = today().date()
    with books(request) as conn:
        overview = q.budget_overview(conn)
        if actor.role == Role.AUDITOR:
            context: LedgerContext = request.app.state.context
            failure = context.projector.failure
            return render(
                request,
                "home_auditor.html",
                head=stamp(conn),
                events=glance.recent_events(conn),
                failure=None if failure is None else failure.describe(),
                overview=overview,
            )
        partner = actor.partner if actor.role == Role.OFFICER else None
        waiting, waiting_count = glance.waiting_longest(conn, partner)
        if actor.role == Role.OFFICER:
            return render(
                request,
                "home_officer.html",
                overview=overview,
                lines=() if overview is None else overview.partner(actor.partner or ""),
                waiting=waiting,
                waiting_count=waiting_count,
                payments=glance.recent_payments(conn, actor.partner),
                names=glance.labels(conn, waiting),
                today=now,
                may_record=bool(recordable(conn, actor)),
            )
        return render(
            request,
            "home_coordinator.html",
            overview=overview,
            partners=() if overview is None else overview.by_partner(),
            totals=None if overview is None else overview.totals(),
            nearly=() if overview is None else glance.nearly_used(overview.lines),
            near_cap=glance.smes_near_cap(conn),
            near_share=glance.NEAR_CAP,
            waiting=waiting,
            waiting_count=waiting_count,
            names=glance.labels(conn, waiting),
            today=now,
        )
