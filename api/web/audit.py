"""Verifying the chain, for auditors: the same verification as ``grantledger verify`` and the
API's ``GET /api/v1/audit/verify`` (projections.close.verify_history: the chain and every signed
statement recomputed; and the snapshot check), started by a person, since it reads every stored
event. ``?expect_head=POSITION:SEAL`` also checks that the
history holds a head written down before."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.context import LedgerContext
from api.web.render import render
from api.web.session import SessionDep
from ledger.actors import Role, require_role
from ledger.errors import InvalidInput
from projections.chain import Anchor
from projections.close import verify_history
from projections.snapshots import check_snapshots

router = APIRouter(include_in_schema=False)


@router.get("/verify")
def verify_chain(
    request: Request, session: SessionDep, expect_head: Annotated[str | None, Query(max_length=200)] = None
) -> HTMLResponse:
    require_role(session.actor, "verify the stored history", Role.AUDITOR)
    try:
        anchor = Anchor.parse(expect_head) if expect_head else None
    except InvalidInput as error:
        return render(request, "verify.html", 422, verdict=None, snapshots=None, error=error.detail, typed=expect_head)
    context: LedgerContext = request.app.state.context
    verdict = verify_history(context.app, context.read_db, expect_head=anchor)
    snapshots = check_snapshots(context.app)
    return render(request, "verify.html", verdict=verdict, snapshots=snapshots, error=None, typed=expect_head or "")
