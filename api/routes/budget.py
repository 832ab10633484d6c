"""The grant agreement, budget transfers and the budget overview (now or as of a past point)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from sqlalchemy import Connection

from api.deps import ActorDep, ContextDep, ReadDep, ReaderDep, SettingsDep
from api.edge import GuardedRoute, allowed
from api.routes._query import in_query
from api.routes._write import then_read
from api.schemas import (
    MAX_POSITION,
    BudgetPublic,
    GrantCreate,
    IsoDate,
    Page,
    TransferCreate,
    TransferPublic,
    Written,
)
from api.views import (
    LatestBody,
    budget_public,
    json_response,
    money,
    new_id,
    not_found,
    transfer_by_id,
    transfer_public,
)
from ledger.actors import Role
from ledger.application import SME_SUPPORT_CAP
from ledger.errors import InvalidInput
from ledger.grant import PartnerInfo
from ledger.money import Money
from projections import codes, lists
from projections import queries as q

router = APIRouter(tags=["budget"], route_class=GuardedRoute)


@router.post("/grant", status_code=201, response_model=Written[BudgetPublic], summary="Sign in the grant agreement")
@allowed(Role.COORDINATOR)
def sign_grant(body: GrantCreate, actor: ActorDep, context: ContextDep, settings: SettingsDep) -> Written[BudgetPublic]:
    """Coordinator only. Opens every partner x category budget line; the lines must sum to the total."""
    context.app.sign_grant(
        actor=actor,
        code=body.code,
        title=body.title,
        total=money(body.total),
        funding_rate=body.funding_rate,
        eu_cap=money(body.eu_cap),
        period_start=body.period_start,
        period_end=body.period_end,
        coordinator=body.coordinator,
        partners=[PartnerInfo(p.code, p.name, p.country) for p in body.partners],
        budget={p: {c: money(m) for c, m in lines.items()} for p, lines in body.budget.items()},
        decision_ref=body.decision_ref,
        on=body.signed_on,
        sme_support_cap=SME_SUPPORT_CAP if body.sme_support_cap is None else money(body.sme_support_cap),
    )
    position, overview = then_read(context, settings.read_your_writes_timeout, _overview)
    return Written(position=position, data=overview)


def _overview(conn: Connection, asked: AsOfQuery | None = None) -> BudgetPublic:
    overview = q.budget_overview(conn, None if asked is None else asked.resolve(conn))
    if overview is None:
        raise _no_grant(asked)
    return budget_public(overview)


def _no_grant(asked: AsOfQuery | None) -> HTTPException:
    """404 when the books asked for hold no grant, saying which dates the question was about:
    ``as_of`` and ``position`` are about when things were recorded, ``effective`` about
    business dates (a demo recorded today holds nothing as recorded by a day of 2023)."""
    if asked is not None and asked.recorded_by is not None:
        return HTTPException(
            404,
            f"nothing had been recorded by the end of {asked.recorded_by} (UTC): the grant agreement was "
            "recorded later. as_of= reads the books as they were recorded by a day; for the books on a "
            f"business date (expense, approval, payment value date) ask effective={asked.recorded_by}",
        )
    if asked is not None and asked.position is not None:
        return HTTPException(
            404,
            f"the grant agreement was recorded after event position {asked.position}; ask for a later "
            "position, or effective=DATE for the books on a business date",
        )
    if asked is not None and asked.effective is not None:
        return HTTPException(
            404, f"the grant agreement had not taken effect on {asked.effective} (a business date); ask a later date"
        )
    return not_found("the grant agreement")


@router.post("/budget/transfers", status_code=201, response_model=Written[TransferPublic], summary="Transfer budget")
@allowed(Role.COORDINATOR)
def transfer_budget(
    body: TransferCreate, request: Request, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[TransferPublic]:
    """Coordinator only: move EUR between two partner x category lines (the total never changes)."""
    amount: Money = money(body.amount)
    transfer_id = context.app.transfer_budget(
        actor=actor,
        transfer_id=new_id(request, actor, body.id),
        from_partner=body.from_partner,
        from_category=body.from_category,
        to_partner=body.to_partner,
        to_category=body.to_category,
        amount=amount,
        decision_ref=body.decision_ref,
        reason=body.reason,
        on=body.on,
    )
    position, data = then_read(
        context, settings.read_your_writes_timeout, lambda conn: transfer_by_id(conn, transfer_id)
    )
    return Written(position=position, data=data)


@router.get("/budget/transfers", response_model=Page[TransferPublic], summary="Budget transfers")
def transfers(
    conn: ReadDep,
    _actor: ActorDep,
    partner: Annotated[
        str | None, Query(max_length=200, description="From or to this partner, e.g. NIDV (any case)")
    ] = None,
    category: Annotated[
        str | None, Query(max_length=200, description="From or to this category, e.g. FSTP (any case)")
    ] = None,
    start: Annotated[IsoDate | None, Query(alias="from", description="Business dates from this day")] = None,
    end: Annotated[IsoDate | None, Query(alias="to", description="Business dates up to this day")] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[TransferPublic]:
    """Transfers with the consortium's decision reference, the latest first. A partner or
    category that does not exist is a 422 naming the valid ones."""
    where = lists.TransferFilter(
        partner=in_query("partner", partner, lambda text: codes.partner_code(conn, text)),
        category=in_query("category", category, codes.category_code),
        start=start,
        end=end,
    )
    rows, count = lists.list_transfers(conn, where, offset=offset, limit=limit)
    return Page(data=[transfer_public(row) for row in rows], count=count)


@router.get("/budget/transfers/{transfer_id}", response_model=TransferPublic, summary="One budget transfer")
def transfer(transfer_id: UUID, conn: ReadDep, _actor: ActorDep) -> TransferPublic:
    return transfer_by_id(conn, transfer_id)


@dataclass(frozen=True)
class AsOfQuery:
    """Which books the query string asks for; a date becomes a position inside the read."""

    recorded_by: date | None = None
    position: int | None = None
    effective: date | None = None

    @property
    def now(self) -> bool:
        return self.recorded_by is None and self.position is None and self.effective is None

    def resolve(self, conn: Connection) -> q.AsOf:
        if self.recorded_by is not None:
            return q.AsOf(position=q.position_recorded_by(conn, self.recorded_by))
        return q.AsOf(position=self.position, effective=self.effective)


async def as_of_params(
    as_of: Annotated[IsoDate | None, Query(description="As recorded by the end of this day (UTC)")] = None,
    position: Annotated[
        int | None, Query(ge=0, le=MAX_POSITION, description="As recorded up to this event position")
    ] = None,
    effective: Annotated[IsoDate | None, Query(description="As effective on this business date")] = None,
) -> AsOfQuery:
    """Checks the query string only (no I/O), so ``async``: no thread-pool hop."""
    given = [v for v in (as_of, position, effective) if v is not None]
    if len(given) > 1:
        raise InvalidInput("give one of as_of, position or effective, not several")
    return AsOfQuery(as_of, position, effective)


AsOfDep = Annotated[AsOfQuery, Depends(as_of_params)]


async def latest_budget(request: Request) -> LatestBody:
    """The overview body last rendered by this app, with the position it was read at."""
    kept: LatestBody = request.app.state.latest_budget
    return kept


@router.get("/budget", response_model=BudgetPublic, summary="Budget overview")
async def budget(read: ReaderDep, as_of: AsOfDep, latest: Annotated[LatestBody, Depends(latest_budget)]) -> Response:
    """Grant totals and every partner x category line: allocated, pending, committed, paid, own
    costs, remaining and remaining after pending; a subtotal per partner and per category and the
    grand total (each the sum of its lines); now, as recorded by a date or position, or as
    effective on a date."""

    def body(conn: Connection, position: int) -> bytes:
        if as_of.now:  # the same read-model position gives the same body: render it once per position
            return latest.get(position, lambda: _overview(conn).model_dump_json().encode())
        return _overview(conn, as_of).model_dump_json().encode()

    return json_response(await read(body))


@router.get("/partners/{code}/budget", response_model=BudgetPublic, summary="One partner's budget")
def partner_budget(
    code: Annotated[str, Path(max_length=200, description="The partner's code, e.g. POINTEX (any case)")],
    conn: ReadDep,
    _actor: ActorDep,
    as_of: AsOfDep,
) -> Response:
    """The same figures for one partner's lines (totals over that partner only). A partner
    that is not in the grant is a 404 naming the partners that are."""
    code = codes.partner_code(conn, code)
    overview = q.budget_overview(conn, as_of.resolve(conn))
    if overview is None:
        raise _no_grant(as_of)
    lines = overview.partner(code)
    if not lines:
        raise not_found(f"partner {code}")
    return json_response(budget_public(overview, lines).model_dump_json().encode())
