"""Missions, the SMEs selected for them, SMEs and monthly exchange rates."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request

from api.deps import ActorDep, ContextDep, ReadDep, SettingsDep
from api.edge import GuardedRoute, allowed
from api.routes._query import in_query
from api.routes._write import then_read
from api.schemas import (
    COUNTRY_ANY_CASE,
    MAX_POSITION,
    MONTH,
    MissionCreate,
    MissionPublic,
    Page,
    RateCreate,
    RatePublic,
    SelectionCreate,
    SmeCreate,
    SmePublic,
    Written,
)
from api.views import mission_public, money, new_id, not_found, rate_public, rate_row_public, sme_public
from ledger.actors import Role
from projections import codes, lists
from projections import queries as q

router = APIRouter(tags=["missions and SMEs"], route_class=GuardedRoute)


def _mission(conn: ReadDep, mission_id: UUID | str) -> MissionPublic:
    found = q.mission_summaries(conn, str(mission_id))
    if not found:
        raise not_found(f"mission {mission_id}")
    return mission_public(found[0])


def _sme(conn: ReadDep, sme_id: UUID | str) -> SmePublic:
    found = q.sme_summaries(conn, str(sme_id))
    if not found:
        raise not_found(f"SME {sme_id}")
    return sme_public(found[0])


@router.post("/missions", status_code=201, response_model=Written[MissionPublic], summary="Open a mission")
@allowed(Role.COORDINATOR)
def open_mission(
    body: MissionCreate, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[MissionPublic]:
    """Coordinator only. A mission's id follows from its code, so opening it again is harmless."""
    mission_id = context.app.open_mission(
        actor=actor,
        code=body.code,
        country=body.country,
        city=body.city,
        start=body.start,
        end=body.end,
        responsible_partner=body.responsible_partner,
        reimbursement_rate=body.reimbursement_rate,
        cap_per_sme=money(body.cap_per_sme),
        eligible_cost_types=body.eligible_cost_types,
        on=body.on,
    )
    position, data = then_read(context, settings.read_your_writes_timeout, lambda conn: _mission(conn, mission_id))
    return Written(position=position, data=data)


@router.get("/missions", response_model=list[MissionPublic], summary="Missions")
def missions(conn: ReadDep, _actor: ActorDep) -> list[MissionPublic]:
    """Every mission with SMEs selected, claims by state, and totals in EUR and per currency."""
    return [mission_public(m) for m in q.mission_summaries(conn)]


@router.get("/missions/{mission_id}", response_model=MissionPublic, summary="One mission")
def mission(
    mission_id: Annotated[
        str, Path(max_length=200, description="The mission's id or its code, e.g. JPN-2023 (any case)")
    ],
    conn: ReadDep,
    _actor: ActorDep,
) -> MissionPublic:
    """A mission named by its id or its code; one that does not exist is a 404 naming the
    missions that do."""
    return _mission(conn, codes.mission_id_of(conn, mission_id))


@router.post(
    "/missions/{mission_id}/selections",
    status_code=201,
    response_model=Written[SmePublic],
    summary="Select an SME for a mission",
)
@allowed(Role.OFFICER)
def select_sme(
    mission_id: UUID, body: SelectionCreate, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[SmePublic]:
    """Officers of the mission's responsible partner only; selecting again records nothing."""
    context.app.select_sme(actor=actor, mission_id=mission_id, sme_id=body.sme_id, on=body.on)
    position, data = then_read(context, settings.read_your_writes_timeout, lambda conn: _sme(conn, body.sme_id))
    return Written(position=position, data=data)


@router.post("/smes", status_code=201, response_model=Written[SmePublic], summary="Register an SME")
@allowed(Role.OFFICER, Role.COORDINATOR)
def register_sme(
    body: SmeCreate, request: Request, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[SmePublic]:
    """Officers and the coordinator. An identifier (VAT or national number) registers once."""
    sme_id = context.app.register_sme(
        actor=actor,
        sme_id=new_id(request, actor, body.id),
        legal_name=body.legal_name,
        country=body.country,
        identifier=body.identifier,
        on=body.on,
    )
    position, data = then_read(context, settings.read_your_writes_timeout, lambda conn: _sme(conn, sme_id))
    return Written(position=position, data=data)


@router.get("/smes", response_model=Page[SmePublic], summary="SMEs")
def smes(
    conn: ReadDep,
    _actor: ActorDep,
    name: Annotated[
        str | None,
        Query(max_length=200, description="Part of the legal name, in any case, with or without accents"),
    ] = None,
    country: Annotated[
        str | None, Query(pattern=COUNTRY_ANY_CASE, description="ISO 3166 alpha-2 code, in any case, e.g. it")
    ] = None,
    mission: Annotated[
        str | None, Query(max_length=200, description="Selected for this mission: its id or its code, e.g. JPN-2023")
    ] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[SmePublic]:
    """SMEs by legal name, each with its support per mission, remaining caps and claims by state,
    one page at a time. A mission that does not exist is a 422 naming the missions."""
    where = lists.SmeFilter(
        name=name,
        country=None if country is None else country.upper(),
        mission_id=in_query("mission", mission, lambda text: codes.mission_id_of(conn, text)),
    )
    found, count = lists.list_smes(conn, where, offset=offset, limit=limit)
    return Page(data=[sme_public(s) for s in found], count=count)


@router.get("/smes/{sme_id}", response_model=SmePublic, summary="One SME")
def sme(
    sme_id: Annotated[
        str, Path(max_length=200, description="The SME's id or its identifier (VAT or national number, as registered)")
    ],
    conn: ReadDep,
    _actor: ActorDep,
) -> SmePublic:
    """An SME named by its id or by its identifier, compared in canonical form (IT 0123-4567
    is it01234567)."""
    return _sme(conn, codes.sme_id_of(conn, sme_id))


@router.get("/exchange-rates", response_model=Page[RatePublic], summary="Monthly exchange rates")
def rates(
    conn: ReadDep,
    _actor: ActorDep,
    currency: Annotated[
        str | None, Query(max_length=40, description="Only this currency, in any case, e.g. jpy")
    ] = None,
    month_from: Annotated[
        str | None, Query(alias="from", pattern=MONTH, description="From this month, YYYY-MM")
    ] = None,
    month_to: Annotated[str | None, Query(alias="to", pattern=MONTH, description="Up to this month, YYYY-MM")] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[RatePublic]:
    """Rates as recorded (or corrected), the latest month first. A currency the ledger does not
    accept is a 422 naming those it does."""
    where = lists.RateFilter(
        currency=in_query("currency", currency, codes.currency_code), month_from=month_from, month_to=month_to
    )
    rows, count = lists.list_rates(conn, where, offset=offset, limit=limit)
    return Page(data=[rate_row_public(row) for row in rows], count=count)


@router.post("/exchange-rates", status_code=201, response_model=Written[RatePublic], summary="Record a monthly rate")
@allowed(Role.OFFICER, Role.COORDINATOR)
def record_rate(body: RateCreate, actor: ActorDep, context: ContextDep, settings: SettingsDep) -> Written[RatePublic]:
    """Officers and the coordinator: units of the currency one euro buys in that month (InforEuro)."""
    context.app.record_rate(actor=actor, currency=body.currency, month=body.month, rate=body.rate, source=body.source)
    position, data = then_read(
        context, settings.read_your_writes_timeout, lambda conn: rate_public(conn, body.currency, body.month)
    )
    return Written(position=position, data=data)
