"""Missions and SMEs: openings, registrations and their corrections, selections, approved support."""

from __future__ import annotations

from decimal import Decimal

from ledger.mission import Mission
from ledger.sme import Sme
from projections import tables as t
from projections.batch import Batch
from projections.handlers.common import add_to_sme_mission, handles


@handles(Mission.Opened)
def _mission_opened(batch: Batch, e: Mission.Opened) -> None:
    batch.insert(
        t.missions,
        {
            "id": str(e.originator_id),
            "code": e.code,
            "country": e.country,
            "city": e.city,
            "start": e.start,
            "end": e.end,
            "partner": e.responsible_partner,
            "reimbursement_rate": e.reimbursement_rate,
            "cap_per_sme": e.cap_per_sme.amount,
            "cost_types": ",".join(e.eligible_cost_types),
            "opened_on": e.effective_date,
        },
    )


@handles(Sme.Registered)
def _sme_registered(batch: Batch, e: Sme.Registered) -> None:
    batch.insert(
        t.smes,
        {
            "id": str(e.originator_id),
            "legal_name": e.legal_name,
            "country": e.country,
            "identifier": e.identifier,
            "registered_on": e.effective_date,
        },
    )


@handles(Sme.RegistrationCorrected)
def _sme_registration_corrected(batch: Batch, e: Sme.RegistrationCorrected) -> None:
    batch.set(t.smes, {"id": str(e.originator_id)}, legal_name=e.legal_name, country=e.country)


@handles(Sme.Selected)
def _sme_selected(batch: Batch, e: Sme.Selected) -> None:
    zero = Decimal("0.00")
    batch.insert(
        t.sme_missions,
        {
            "sme_id": str(e.originator_id),
            "mission_id": str(e.mission_id),
            "selected_on": e.effective_date,
            "requested": zero,
            "approved": zero,
            "paid": zero,
        },
    )


@handles(Sme.SupportApproved)
def _support_approved(batch: Batch, e: Sme.SupportApproved) -> None:
    add_to_sme_mission(batch, e.originator_id, e.mission_id, "approved", e.amount)


@handles(Sme.SupportReleased)
def _support_released(batch: Batch, e: Sme.SupportReleased) -> None:
    add_to_sme_mission(batch, e.originator_id, e.mission_id, "approved", -e.amount)
