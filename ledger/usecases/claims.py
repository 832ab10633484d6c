"""Use cases of SME claims: submit, approve, reject, withdraw, revoke an approval (payments are
in ledger/usecases/payments.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.actors import Actor, require_officer_of
from ledger.approval import Approval, Caps, approval_of
from ledger.claim import (
    Claim,
    ClaimNotInState,
    ClaimState,
    ExpenseLine,
    LineDecision,
    assess,
)
from ledger.documents import Upload
from ledger.errors import InvalidInput
from ledger.grant import (
    Category,
    Grant,
)
from ledger.mission import Mission
from ledger.money import Money
from ledger.sme import Sme, SmeNotSelected
from ledger.usecases.core import Outcome
from ledger.usecases.documents import DocumentCases, placed_on_lines


class ClaimCases(DocumentCases):
    """SME claims, from submission to payment."""

    def submit_claim(
        self,
        *,
        actor: Actor,
        claim_id: UUID,
        sme_id: UUID,
        mission_id: UUID,
        lines: Sequence[ExpenseLine],
        on: date,
        documents: Mapping[int, Sequence[Upload]] | None = None,
    ) -> UUID:
        """Record a claim an SME submitted; it is pending against the mission partner's FSTP line.
        ``documents`` (line number -> files) are attached to its lines in the same save."""
        if not lines:
            raise InvalidInput("a claim needs at least one expense line")
        placed, data = self.prepare_documents(placed_on_lines(documents or {}))
        self._not_future(
            (on, "the submission date"),
            *((line.expense_date, f"line {no}: expense date") for no, line in enumerate(lines, start=1)),
        )

        def decide() -> Outcome[UUID]:
            mission = self.mission(mission_id)
            require_officer_of(actor, mission.responsible_partner, f"record claims on mission {mission.code}")
            existing = self._find(Claim, claim_id)
            if existing is not None:
                same = (existing.sme_id, existing.mission_id, existing.lines, existing.submitted_on) == (
                    sme_id,
                    mission_id,
                    list(lines),
                    on,
                )
                return self._same(existing, "claim", same), []
            grant = self.grant()
            sme = self.sme(sme_id)
            if not sme.is_selected_for(mission_id):
                raise SmeNotSelected(f"{sme.legal_name} is not selected for mission {mission.code}; select it first")
            self._check_lines(grant, mission, lines)
            estimate = assess(lines, {}, self.quote, mission.reimbursement_rate)
            claim = Claim.submit(
                claim_id=self._new_id("claim", claim_id),
                actor=actor,
                sme_id=sme_id,
                mission_id=mission_id,
                partner=mission.responsible_partner,
                lines=list(lines),
                estimate=estimate,
                cap_per_sme=mission.cap_per_sme,
                submitted_on=on,
            )
            indexes = self._declare_receipts(actor, [line.receipt_ref for line in lines], "claim", claim_id, on)
            held = self._attach(actor, claim, "claim", placed, on)
            return claim.id, [claim, *indexes, *held]

        return self._write(decide, data)

    @staticmethod
    def _check_lines(grant: Grant, mission: Mission, lines: Sequence[ExpenseLine]) -> None:
        for no, line in enumerate(lines, start=1):
            mission.require_eligible(line.cost_type, no)
            grant.require_in_period(line.expense_date, f"line {no}: expense date")
            if not line.amount.is_positive:
                raise InvalidInput(f"line {no}: the amount must be positive, got {line.amount}")
            if not line.receipt_ref.strip():
                raise InvalidInput(f"line {no}: the receipt reference is missing")

    def approve_claim(
        self,
        *,
        actor: Actor,
        claim_id: UUID,
        on: date,
        decisions: Sequence[LineDecision] = (),
        reason: str = "",
    ) -> Money:
        """Approve a claim fully or partly; returns the approved EUR amount.

        approved = min(mission rate x accepted EUR costs, what remains of the SME's cap on
        this mission, what remains of its cap over the grant); committed on the FSTP line
        of the mission's responsible partner, which must have room for it.
        """

        self._not_future((on, "the approval date"))

        def decide() -> Outcome[Money]:
            claim = self.claim(claim_id)
            require_officer_of(actor, claim.partner, "approve this claim")
            if claim.state != ClaimState.SUBMITTED:
                raise ClaimNotInState(f"cannot approve claim {claim_id}: it is {claim.state}, not submitted")
            grant = self.grant()
            mission = self.mission(claim.mission_id)
            sme = self.sme(claim.sme_id)
            line = self.budget_line(claim.partner, Category.FSTP.value)
            figures = self._approval(claim, decisions, grant, mission, sme)
            approved, capped_by, assessment = figures.approved, figures.capped_by, figures.assessment
            claim.approve(
                actor=actor, assessment=assessment, approved=approved, capped_by=capped_by, reason=reason, on=on
            )
            line.commit(actor=actor, claim_id=claim_id, amount=approved, on=on)
            sme.approve_support(
                actor=actor,
                claim_id=claim_id,
                mission_id=mission.id,
                amount=approved,
                mission_cap=mission.cap_per_sme,
                overall_cap=grant.sme_support_cap,
                on=on,
            )
            return approved, [claim, line, sme]

        return self._write(decide)

    def preview_approval(self, *, actor: Actor, claim_id: UUID, decisions: Sequence[LineDecision] = ()) -> Approval:
        """What approving a submitted claim with these decisions would give (the accepted EUR
        per line, the reimbursement, the amount approved and the cap that binds it), with the
        refusals the approval itself would raise; nothing is recorded. The partner's FSTP line
        is checked for room when the approval is recorded."""
        claim = self.claim(claim_id)
        require_officer_of(actor, claim.partner, "approve this claim")
        if claim.state != ClaimState.SUBMITTED:
            raise ClaimNotInState(f"cannot approve claim {claim_id}: it is {claim.state}, not submitted")
        return self._approval(claim, decisions, self.grant(), self.mission(claim.mission_id), self.sme(claim.sme_id))

    def _approval(
        self, claim: Claim, decisions: Sequence[LineDecision], grant: Grant, mission: Mission, sme: Sme
    ) -> Approval:
        """The approval's figures (ledger.approval), from the aggregates as loaded for the save."""
        caps = Caps(
            mission_code=mission.code,
            mission_cap=mission.cap_per_sme,
            approved_on_mission=sme.approved_for(mission.id),
            overall_cap=grant.sme_support_cap,
            approved_overall=sme.approved_total,
        )
        return approval_of(claim.lines, decisions, self.quote, mission.reimbursement_rate, caps, sme.legal_name)

    def reject_claim(self, *, actor: Actor, claim_id: UUID, reason: str, on: date) -> None:
        """Reject a submitted claim with a reason; its receipts may be declared again."""
        self._close_claim(actor, claim_id, reason, on, reject=True)

    def withdraw_claim(self, *, actor: Actor, claim_id: UUID, reason: str, on: date) -> None:
        """Withdraw a submitted claim on the SME's request; its receipts may be declared again."""
        self._close_claim(actor, claim_id, reason, on, reject=False)

    def revoke_approval(self, *, actor: Actor, claim_id: UUID, reason: str, on: date, reject: bool = False) -> Money:
        """Take back the approval of a claim with nothing paid: it is submitted again (or, with
        ``reject``, rejected in the same save, its receipts released as a rejection does), its
        commitment released on the FSTP line and its support on the SME's caps. A claim with a
        live payment cannot be revoked: reverse the payment first. Returns the commitment released."""
        self._not_future((on, "the revocation date"))

        def decide() -> Outcome[Money]:
            claim = self.claim(claim_id)
            require_officer_of(actor, claim.partner, "revoke the approval of this claim")
            line = self.budget_line(claim.partner, Category.FSTP.value)
            sme = self.sme(claim.sme_id)
            released, support = claim.revoke_approval(actor=actor, reason=reason, on=on)
            why = f"approval revoked: {reason.strip()}"
            line.release(actor=actor, claim_id=claim.id, amount=released, reason=why, on=on)
            sme.release_support(
                actor=actor, claim_id=claim.id, mission_id=claim.mission_id, amount=support, reason=why, on=on
            )
            changed: list[Aggregate] = [claim, line, sme]
            if reject:
                claim.reject(actor=actor, reason=reason, on=on)
                changed += self._release_receipts(actor, claim, f"claim rejected: {reason}", on)
            return released, changed

        return self._write(decide)

    def _close_claim(self, actor: Actor, claim_id: UUID, reason: str, on: date, *, reject: bool) -> None:
        verb, done = ("reject", "rejected") if reject else ("withdraw", "withdrawn")
        self._not_future((on, f"the {'rejection' if reject else 'withdrawal'} date"))

        def decide() -> Outcome[None]:
            claim = self.claim(claim_id)
            require_officer_of(actor, claim.partner, f"{verb} this claim")
            if reject:
                claim.reject(actor=actor, reason=reason, on=on)
            else:
                claim.withdraw(actor=actor, reason=reason, on=on)
            return None, [claim, *self._release_receipts(actor, claim, f"claim {done}: {reason}", on)]

        self._write(decide)
