"""One SME's page (who it is, its support per mission against the mission's cap per SME and
overall against the grant's cap per third party, what remains, its claims), the form that
registers an SME (officers and the coordinator) and the one that selects it for a mission
(officers of the mission's responsible partner, for their own missions).

Both post to the same Application methods as the JSON API's (register_sme, select_sme). A new
SME's id is a random one put in the form when the page is drawn, so the same form sent twice
registers one SME; selecting again records nothing. Anyone else sees no form, and a POST of
theirs is the ledger's refusal page.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from api.context import LedgerContext
from api.web.forms import Hints, form_id, record, typed_date
from api.web.reads import books, today
from api.web.render import render
from api.web.session import FormDep, SessionDep, WebRefusal
from ledger.actors import Actor, Role
from projections import codes, glance
from projections import queries as q

router = APIRouter(include_in_schema=False)
CLAIMS_SHOWN = 50
REGISTER_FIELDS = ("legal_name", "identifier", "country", "on")
REGISTER_HINTS: Hints = (("on", "registration date"), ("identifier", "identifier"))
SELECT_FIELDS = ("mission", "on")
SELECT_HINTS: Hints = (("on", "selection date"), ("mission", "mission "))


def may_register(actor: Actor) -> bool:
    """Whether to offer the registration form: officers and the coordinator (the ledger checks again)."""
    return actor.role in (Role.OFFICER, Role.COORDINATOR)


def selectable(actor: Actor, missions: list[q.MissionSummary], sme: q.SmeSummary) -> list[str]:
    """The missions this person may select the SME for, that it is not selected for yet: those
    whose responsible partner is the officer's own (the ledger checks again)."""
    if actor.role != Role.OFFICER:
        return []
    chosen = {m.mission_id for m in sme.missions}
    return [m.code for m in missions if m.partner == actor.partner and m.id not in chosen]


def _register_page(
    request: Request, actor: Actor, status: int, errors: dict[str, str], values: dict[str, str]
) -> Response:
    return render(request, "sme_new.html", status, errors=errors, values=values, may_register=may_register(actor))


@router.get("/smes/new")
def new_sme(request: Request, session: SessionDep) -> Response:
    values = {"on": today().date().isoformat(), "sme_id": str(form_id(""))}
    return _register_page(request, session.actor, 200, {}, values)


@router.post("/smes/new")
def register_sme(request: Request, session: SessionDep, form: FormDep) -> Response:
    actor = session.actor
    sme_id = form_id(form.get("sme_id"))  # the form's random id: sent twice, registered once
    values = {name: form.get(name) for name in REGISTER_FIELDS} | {"sme_id": str(sme_id)}

    def command(context: LedgerContext) -> Any:
        return context.app.register_sme(
            actor=actor,
            sme_id=sme_id,
            legal_name=values["legal_name"],
            country=values["country"].upper(),
            identifier=values["identifier"],
            on=typed_date(values["on"], "on", "the registration date"),
        )

    return record(
        request,
        lambda status, errors: _register_page(request, actor, status, errors, values),
        command,
        lambda registered: f"/smes/{registered}",
        REGISTER_FIELDS,
        REGISTER_HINTS,
    )


def _sme_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise WebRefusal(404, "No such SME", f"{text[:40]!r} is not an SME's id; the list of SMEs links each") from None


def sme_page(
    request: Request, actor: Actor, sme_id: UUID, status: int = 200, errors: dict[str, str] | None = None, **typed: str
) -> HTMLResponse:
    with books(request) as conn:
        found = q.sme_summaries(conn, str(sme_id))
        if not found:
            raise WebRefusal(404, "No such SME", f"SME {sme_id} is not in the ledger (or not yet projected)")
        sme = found[0]
        claims, count = q.list_claims(conn, q.ClaimFilter(sme_id=str(sme_id)), limit=CLAIMS_SHOWN)
        names = glance.labels(conn, claims)
        options = selectable(actor, q.mission_summaries(conn), sme)
    values = {"on": today().date().isoformat(), "mission": "", **typed}
    return render(
        request,
        "sme.html",
        status,
        sme=sme,
        claims=claims,
        claim_count=count,
        names=names,
        options=options,
        errors=errors or {},
        values=values,
    )


@router.get("/smes/{sme}")
def sme(request: Request, session: SessionDep, sme: str) -> HTMLResponse:
    return sme_page(request, session.actor, _sme_id(sme))


@router.post("/smes/{sme}/selections")
def select_sme(request: Request, session: SessionDep, form: FormDep, sme: str) -> Response:
    actor, sme_id = session.actor, _sme_id(sme)
    values = {name: form.get(name) for name in SELECT_FIELDS}

    def command(context: LedgerContext) -> Any:
        with context.read_db.reading() as conn:
            mission_id = codes.mission_id_of(conn, values["mission"] or "(none chosen)")
        on = typed_date(values["on"], "on", "the selection date")
        return context.app.select_sme(actor=actor, mission_id=UUID(mission_id), sme_id=sme_id, on=on)

    return record(
        request,
        lambda status, errors: sme_page(request, actor, sme_id, status, errors, **values),
        command,
        lambda _selected: f"/smes/{sme_id}",
        SELECT_FIELDS,
        SELECT_HINTS,
    )
