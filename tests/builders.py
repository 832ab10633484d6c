"""Small builders for test stories: the EU-ALLIANCE grant, missions, SMEs and claims."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger.actors import Actor
from ledger.application import GrantLedger
from ledger.claim import ExpenseLine
from ledger.grant import PartnerInfo
from ledger.money import Money

PARTNERS = [
    PartnerInfo("TECHTERA", "Techtera", "FR"),
    PartnerInfo("NTT", "Next Technology Tecnotessile", "IT"),
    PartnerInfo("POINTEX", "Citta Studi - Po.in.tex", "IT"),
    PartnerInfo("NIDV", "Netherlands Industries for Defence and Security", "NL"),
    PartnerInfo("SIIT", "Distretto Tecnologico SIIT", "IT"),
    PartnerInfo("SYSTEMATIC", "Systematic Paris-Region", "FR"),
]
PERIOD_START = date(2021, 9, 1)
PERIOD_END = date(2023, 8, 31)

COORDINATOR = Actor.coordinator("claire.coordinator", "TECHTERA")
AUDITOR = Actor.auditor("arthur.auditor")


def officer(partner: str, name: str = "") -> Actor:
    return Actor.officer(name or f"officer.{partner.lower()}", partner)


def eur(amount: str) -> Money:
    return Money.eur(amount)


def alliance_budget(fstp: str = "20000.00") -> dict[str, dict[str, Money]]:
    """Six partners' lines summing to EUR 500,000: the FSTP line of each is ``fstp``."""
    per_partner = Decimal("500000") / 6  # not exact: the last partner takes the remainder
    budget: dict[str, dict[str, Money]] = {}
    allocated = Decimal(0)
    for i, partner in enumerate(PARTNERS):
        share = per_partner.quantize(Decimal("0.01")) if i < len(PARTNERS) - 1 else Decimal("500000") - allocated
        allocated += share
        fstp_amount = Decimal(fstp)
        indirect = Decimal("1000.00")
        travel = Decimal("10000.00")
        personnel = share - fstp_amount - indirect - travel
        budget[partner.code] = {
            "PERSONNEL": eur(str(personnel)),
            "TRAVEL": eur(str(travel)),
            "FSTP": eur(str(fstp_amount)),
            "INDIRECT": eur(str(indirect)),
        }
    return budget


def grant_terms(**changes: Any) -> dict[str, Any]:
    """The EU-ALLIANCE signing's keyword arguments, with ``changes`` applied."""
    terms: dict[str, Any] = {
        "actor": COORDINATOR,
        "code": "EU-ALLIANCE",
        "title": "European Alliance for International Business development",
        "total": eur("500000"),
        "funding_rate": Decimal("0.90"),
        "eu_cap": eur("450000"),
        "period_start": PERIOD_START,
        "period_end": PERIOD_END,
        "coordinator": "TECHTERA",
        "partners": PARTNERS,
        "budget": alliance_budget(),
        "decision_ref": "GA-101038166",
        "on": PERIOD_START,
    }
    return terms | changes


def sign_alliance(app: GrantLedger, fstp: str = "20000.00") -> UUID:
    return app.sign_grant(**grant_terms(budget=alliance_budget(fstp)))


def open_mission(
    app: GrantLedger,
    code: str = "JPN-2023",
    partner: str = "POINTEX",
    rate: str = "0.70",
    cap: str = "2000.00",
    types: tuple[str, ...] = ("TRAVEL", "ACCOMMODATION", "REGISTRATION_FEE", "STAND"),
) -> UUID:
    return app.open_mission(
        actor=COORDINATOR,
        code=code,
        country="JP",
        city="Tokyo",
        start=date(2023, 3, 15),
        end=date(2023, 3, 18),
        responsible_partner=partner,
        reimbursement_rate=Decimal(rate),
        cap_per_sme=eur(cap),
        eligible_cost_types=list(types),
        on=date(2022, 12, 1),
    )


def selected_sme(app: GrantLedger, mission_id: UUID, partner: str = "POINTEX", name: str = "") -> UUID:
    """Register a new SME and select it for the mission."""
    sme_id = uuid.uuid4()
    app.register_sme(
        actor=officer(partner),
        sme_id=sme_id,
        legal_name=name or f"SME {sme_id.hex[:6]} S.r.l.",
        country="IT",
        identifier=f"IT{sme_id.int % 10**11:011d}",
        on=date(2022, 12, 5),
    )
    app.select_sme(actor=officer(partner), mission_id=mission_id, sme_id=sme_id, on=date(2022, 12, 6))
    return sme_id


def eur_line(amount: str, receipt: str = "", cost_type: str = "TRAVEL", day: date = date(2023, 3, 14)) -> ExpenseLine:
    return ExpenseLine(cost_type, day, eur(amount), receipt or f"R-{uuid.uuid4().hex[:10]}", "expense")


def submit(app: GrantLedger, mission_id: UUID, sme_id: UUID, *lines: ExpenseLine, partner: str = "POINTEX") -> UUID:
    return app.submit_claim(
        actor=officer(partner),
        claim_id=uuid.uuid4(),
        sme_id=sme_id,
        mission_id=mission_id,
        lines=list(lines),
        on=date(2023, 4, 1),
    )
