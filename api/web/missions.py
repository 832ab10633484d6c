"""Missions: the list (where, when, the rate and the cap per SME, who organises it, how many
SMEs are selected and the support approved), one mission with its selected SMEs and their
support against the cap per SME, and the form that opens a mission (the coordinator's).

The form posts to the same Application method as the JSON API's (open_mission); a mission's
id follows from its code, so the same form sent twice opens it once. Anyone but the
coordinator sees no form, and a POST of theirs is the ledger's refusal page.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from api.context import LedgerContext
from api.web.forms import Hints, record, typed_date, typed_eur
from api.web.reads import books, today
from api.web.render import environment, render
from api.web.session import Form, FormDep, SessionDep
from api.web.writes import FieldRefusal
from ledger.actors import Actor, Role
from ledger.errors import LedgerError
from ledger.mission import CostType
from ledger.money import parse_decimal_text
from projections import codes, glance
from projections import queries as q
from projections.support import mission_support

router = APIRouter(include_in_schema=False)
COST_TYPES = [kind.value for kind in CostType]
FIELDS = ("code", "country", "city", "start", "end", "responsible_partner", "reimbursement_rate", "cap_per_sme", "on")
#: Which field a refusal of opening a mission concerns, when its message does not name one.
HINTS: Hints = (
    ("end", "ends ("),
    ("end", " end "),
    ("cap_per_sme", "cap per SME"),
    ("cost_types", "cost type"),
    ("reimbursement_rate", "reimbursement rate"),
    ("responsible_partner", "partner "),
    ("start", " start "),
    ("on", "opening date"),
    ("code", "mission "),
)


def percent(rate: Decimal) -> str:
    """A rate as a percentage, exactly: 0.70 is 70%, 0.725 is 72.5%."""
    return f"{(rate * 100).normalize():f}%"


environment.filters["percent"] = percent  # this module's pages (and the SME pages) use it


def may_open(actor: Actor) -> bool:
    """Whether to show the form: the coordinator opens missions (the ledger checks again)."""
    return actor.role == Role.COORDINATOR


@router.get("/missions")
def missions(request: Request, session: SessionDep) -> HTMLResponse:
    with books(request) as conn:
        rows = q.mission_summaries(conn)
    return render(request, "missions.html", missions=rows, may_open=may_open(session.actor))


def _form_page(request: Request, actor: Actor, status: int, errors: dict[str, str], values: dict[str, str]) -> Response:
    with books(request) as conn:
        partners = glance.partner_codes(conn)
    return render(
        request,
        "mission_new.html",
        status,
        errors=errors,
        values=values,
        partners=partners,
        cost_types=COST_TYPES,
        may_open=may_open(actor),
    )


@router.get("/missions/new")
def new_mission(request: Request, session: SessionDep) -> Response:
    values = {"on": today().date().isoformat(), "reimbursement_rate": "0.70", "cap_per_sme": "2000.00"}
    return _form_page(request, session.actor, 200, {}, values)


def _rate(text: str) -> Decimal:
    try:
        return parse_decimal_text(text, "the reimbursement rate")
    except LedgerError as error:
        raise FieldRefusal("reimbursement_rate", error.detail) from None


def _typed(form: Form) -> dict[str, str]:
    values = {name: form.get(name) for name in FIELDS}
    values.update({f"cost_type_{kind}": "on" for kind in COST_TYPES if form.get(f"cost_type_{kind}")})
    return values


@router.post("/missions/new")
def open_mission(request: Request, session: SessionDep, form: FormDep) -> Response:
    actor, values = session.actor, _typed(form)

    def command(context: LedgerContext) -> Any:
        dates: dict[str, date] = {
            name: typed_date(values[name], name, what)
            for name, what in (("start", "the first day"), ("end", "the last day"), ("on", "the opening date"))
        }
        return context.app.open_mission(
            actor=actor,
            code=values["code"],
            country=values["country"].upper(),
            city=values["city"],
            start=dates["start"],
            end=dates["end"],
            responsible_partner=values["responsible_partner"],
            reimbursement_rate=_rate(values["reimbursement_rate"]),
            cap_per_sme=typed_eur(values["cap_per_sme"], "cap_per_sme", "the cap per SME"),
            eligible_cost_types=[kind for kind in COST_TYPES if values.get(f"cost_type_{kind}")],
            on=dates["on"],
        )

    return record(
        request,
        lambda status, errors: _form_page(request, actor, status, errors, values),
        command,
        lambda mission_id: f"/missions/{mission_id}",
        FIELDS,
        HINTS,
    )


@router.get("/missions/{mission}")
def mission(request: Request, _session: SessionDep, mission: str) -> HTMLResponse:
    """A mission named by its id or its code (any case); one that does not exist is a 404 page
    naming the missions that do."""
    with books(request) as conn:
        mission_id = codes.mission_id_of(conn, mission[:200])
        summary = q.mission_summaries(conn, mission_id)[0]
        selected = mission_support(conn, mission_id)
    return render(request, "mission.html", mission=summary, selected=selected)
