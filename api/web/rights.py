"""Who may use a form, by the ledger's own checks (the use case checks again when it runs):
pages show a form only to those it would accept."""

from __future__ import annotations

from sqlalchemy import Connection

from ledger.actors import Actor, require_officer_of
from ledger.errors import NotAllowed
from projections.queries import MissionSummary, claim_detail, mission_summaries


def recordable(conn: Connection, actor: Actor) -> list[MissionSummary]:
    """The missions this person may record claims on, by the ledger's own rule."""
    missions = []
    for mission in mission_summaries(conn):
        try:
            require_officer_of(actor, mission.partner, f"record claims on mission {mission.code}")
        except NotAllowed:
            continue
        missions.append(mission)
    return missions


def refused_to(conn: Connection, actor: Actor) -> NotAllowed | None:
    """Why this person may not record any claim (None: they may, on some mission)."""
    missions = mission_summaries(conn)
    if not missions:
        return NotAllowed("no mission is open yet, so no claim can be recorded; the coordinator opens missions")
    for mission in missions:
        try:
            require_officer_of(actor, mission.partner, f"record claims on mission {mission.code}")
        except NotAllowed as error:
            refusal = error
            continue
        return None
    return refusal


def may_act_on_claim(conn: Connection, actor: Actor, claim_id: str, action: str) -> NotAllowed | None:
    """Why this person may not ``action`` (e.g. "reject this claim") on a claim: the ledger's
    rule, an officer of the partner charged, checked before anything typed is read, so that
    someone who may not act is told so rather than shown their typing errors. None: they may,
    or the claim is not known here (the use case then says so)."""
    claim = claim_detail(conn, claim_id)
    if claim is None:
        return None
    try:
        require_officer_of(actor, claim.claim.partner, action)
    except NotAllowed as error:
        return error
    return None
