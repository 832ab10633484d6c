"""How much of a claim is approved: the assessment of its accepted lines, then the SME's caps.

approved = min(mission rate x accepted EUR costs, what remains of the SME's cap on the mission,
what remains of its cap over the whole grant) (docs/domain.md, "Missions and SME
reimbursement"). Written once here: the approval records it, and the preview an officer sees
before confirming shows the very same figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from ledger.assessment import Assessment, ExpenseLine, LineDecision, QuoteLookup, assess, check_decisions
from ledger.errors import Refused
from ledger.money import Money
from ledger.sme import SmeCapReached


class Binding(StrEnum):
    """Which cap binds the approved amount, if any."""

    NONE = "none"
    MISSION = "mission"
    OVERALL = "overall"


@dataclass(frozen=True, slots=True)
class Caps:
    """The caps an SME's support meets on one claim, with what it already has approved."""

    mission_code: str
    mission_cap: Money
    approved_on_mission: Money
    overall_cap: Money
    approved_overall: Money

    @property
    def mission_room(self) -> Money:
        return self.mission_cap - self.approved_on_mission

    @property
    def overall_room(self) -> Money:
        return self.overall_cap - self.approved_overall


@dataclass(frozen=True, slots=True)
class Approval:
    """What approving a claim with some per-line decisions gives: the assessment (accepted
    EUR per line, the reimbursement), the amount approved and the cap that bound it."""

    assessment: Assessment
    approved: Money
    binding: Binding
    #: The binding cap in words, as the claim records it ("" when none binds).
    capped_by: str
    caps: Caps


def approval_of(
    lines: Sequence[ExpenseLine],
    decisions: Sequence[LineDecision],
    quote_for: QuoteLookup,
    reimbursement_rate: Decimal,
    caps: Caps,
    sme_name: str,
) -> Approval:
    """The approval of ``lines`` with ``decisions`` (lines without one are accepted in full).

    Refused when the decisions are not valid for the lines, when nothing is accepted on any
    line, or when the SME has no room left under the binding cap."""
    assessment = assess(lines, check_decisions(lines, decisions), quote_for, reimbursement_rate)
    if assessment.reimbursement.is_zero:
        raise Refused("nothing is accepted on any line, so there is nothing to approve: reject the claim instead")
    approved, binding, capped_by = assessment.reimbursement, Binding.NONE, ""
    if caps.mission_room < approved:
        approved, binding = caps.mission_room, Binding.MISSION
        capped_by = f"cap per SME of mission {caps.mission_code} ({caps.mission_cap})"
    if caps.overall_room < approved:
        approved, binding = caps.overall_room, Binding.OVERALL
        capped_by = f"cap per SME over the grant ({caps.overall_cap})"
    if not approved.is_positive:
        raise SmeCapReached(
            f"{sme_name} has already reached the {capped_by}: "
            f"this claim's {assessment.reimbursement} cannot be approved. Reject it with that reason"
        )
    return Approval(assessment, approved, binding, capped_by, caps)
