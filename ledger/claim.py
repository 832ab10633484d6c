"""SME reimbursement claims: submitted -> approved (fully or partly) -> partly paid -> paid, or
rejected, or withdrawn. Corrections are events too: a payment reversed (a bank return), the
rest of a partly paid claim settled short, an approval revoked.

At every step a claim keeps ``approved = committed + paid + settled short`` (docs/domain.md):
what is neither paid nor settled short stays committed on the partner's FSTP line. The
assessment of its lines (conversion to EUR, per-line decisions) is in ledger/assessment.py, whose
names are importable from here as before.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger import claim_payments
from ledger.actors import Actor
from ledger.assessment import Assessment as Assessment
from ledger.assessment import ConvertedLine as ConvertedLine
from ledger.assessment import ExpenseLine as ExpenseLine
from ledger.assessment import LineDecision as LineDecision
from ledger.assessment import QuoteLookup as QuoteLookup
from ledger.assessment import assess as assess
from ledger.assessment import check_decisions as check_decisions
from ledger.base import LedgerAggregate
from ledger.claim_dates import PaymentDates, not_before_last_change, note_change
from ledger.claim_state import ClaimNotInState as ClaimNotInState
from ledger.claim_state import ClaimState as ClaimState
from ledger.claim_state import Overpayment as Overpayment
from ledger.claim_state import UnknownClaim as UnknownClaim
from ledger.claim_state import state_label as state_label
from ledger.documents import AttachedDocument, DocumentHolder, SupersededDocument
from ledger.errors import InvalidInput
from ledger.money import EUR, Money
from ledger.text import clean_optional, clean_text
from ledger.words import article


def _after_payments(claim: Claim) -> None:
    """A claim's state from its figures: paid once nothing is outstanding, partly paid while
    something is paid and something outstanding, approved while nothing is paid."""
    if claim.outstanding.is_zero:
        claim.state = ClaimState.PAID.value
    elif claim.paid.is_positive:
        claim.state = ClaimState.PARTLY_PAID.value
    else:
        claim.state = ClaimState.APPROVED.value


def _unapproved(claim: Claim) -> None:
    claim.approved = None
    claim.paid = Money.zero(EUR)
    claim.settled_short = Money.zero(EUR)
    claim.support_released = Money.zero(EUR)
    claim.payments = {}


class Claim(DocumentHolder, LedgerAggregate):
    class Submitted(LedgerAggregate.Created):
        sme_id: UUID
        mission_id: UUID
        partner: str
        lines: list[ExpenseLine]
        estimate: list[ConvertedLine]
        requested: Money

        def apply(self, claim: Claim) -> None:
            claim.sme_id = self.sme_id
            claim.mission_id = self.mission_id
            claim.partner = self.partner
            claim.lines = list(self.lines)
            claim.submitted_on = self.effective_date
            claim.requested = self.requested
            claim.state = ClaimState.SUBMITTED.value
            _unapproved(claim)
            claim.payment_dates = {}
            note_change(claim, "its submission", self.effective_date)

    class Approved(LedgerAggregate.Event):
        lines: list[ConvertedLine]
        eligible_eur: Money
        reimbursement: Money
        approved: Money
        capped_by: str
        reason: str

        def apply(self, claim: Claim) -> None:
            _unapproved(claim)
            claim.state = ClaimState.APPROVED.value
            claim.approved = self.approved
            claim.approved_on = self.effective_date
            note_change(claim, "its approval", self.effective_date)

    class Rejected(LedgerAggregate.Event):
        reason: str

        def apply(self, claim: Claim) -> None:
            claim.state = ClaimState.REJECTED.value
            note_change(claim, "its rejection", self.effective_date)

    class Withdrawn(LedgerAggregate.Event):
        reason: str

        def apply(self, claim: Claim) -> None:
            claim.state = ClaimState.WITHDRAWN.value
            note_change(claim, "its withdrawal", self.effective_date)

    class ReimbursementPaid(LedgerAggregate.Event):
        """One payment of the claim. ``closes`` (only on payments recorded before partial
        payments, version 1) means it closed the claim: what it left unpaid was settled short."""

        class_version = 2
        payment_id: UUID
        amount: Money
        bank_reference: str
        closes: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["closes"] = True

        def apply(self, claim: Claim) -> None:
            claim.paid = claim.paid + self.amount
            claim.payments[str(self.payment_id)] = self.amount
            if self.closes:
                claim.settled_short = claim.approved_amount - claim.paid
            _after_payments(claim)
            before = PaymentDates(claim.approved_on, claim.last_on, claim.last_change)
            note_change(claim, "a payment made", self.effective_date)
            claim.payment_dates[str(self.payment_id)] = before

    class PaymentReversed(LedgerAggregate.Event):
        """A bank return undoes one payment and commits again what it paid. ``recommits_all``
        (only on reversals recorded before partial payments, version 1) means the whole approved
        amount was committed again: nothing stays settled short."""

        class_version = 2
        payment_id: UUID
        amount: Money
        reason: str
        recommits_all: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["recommits_all"] = True

        def apply(self, claim: Claim) -> None:
            claim.paid = claim.paid - self.amount
            claim.payments.pop(str(self.payment_id), None)
            if self.recommits_all:
                claim.settled_short = Money.zero(EUR)
            _after_payments(claim)
            note_change(claim, "a payment reversed", self.effective_date)

    class SettledShort(LedgerAggregate.Event):
        """The rest of a partly paid claim will not be paid: released, with the reason."""

        amount: Money
        reason: str

        def apply(self, claim: Claim) -> None:
            claim.settled_short = claim.settled_short + self.amount
            claim.support_released = claim.support_released + self.amount
            claim.state = ClaimState.PAID.value
            note_change(claim, "the rest settled short", self.effective_date)

    class ApprovalRevoked(LedgerAggregate.Event):
        """An approval taken back: the claim is submitted again; ``released`` is the
        commitment it freed on the FSTP line."""

        reason: str
        released: Money

        def apply(self, claim: Claim) -> None:
            _unapproved(claim)
            claim.state = ClaimState.SUBMITTED.value
            note_change(claim, "its approval revoked", self.effective_date)

    class DocumentAttached(AttachedDocument):
        """A supporting document attached to one of its lines (ledger/documents.py)."""

    class DocumentSuperseded(SupersededDocument):
        """One of its documents superseded, with why."""

    if TYPE_CHECKING:
        sme_id: UUID
        mission_id: UUID
        partner: str
        lines: list[ExpenseLine]
        submitted_on: date
        requested: Money
        state: str
        approved: Money | None
        approved_on: date
        #: Paid net of reversals.
        paid: Money
        settled_short: Money
        #: What settling short gave back to the SME's caps (payments settled short before
        #: partial payments existed released the budget only).
        support_released: Money
        #: The live (unreversed) payments: id -> amount, and id -> value date.
        payments: dict[str, Money]
        #: The claim's latest business date and what happened then (ledger/claim_dates.py).
        last_on: date
        last_change: str
        #: Every payment ever recorded (live or reversed, of this approval or an earlier one):
        #: its place in the claim's story, which bounds a correction of its value date.
        payment_dates: dict[str, PaymentDates]

    @classmethod
    def submit(
        cls,
        *,
        claim_id: UUID,
        actor: Actor,
        sme_id: UUID,
        mission_id: UUID,
        partner: str,
        lines: list[ExpenseLine],
        estimate: Assessment,
        cap_per_sme: Money,
        submitted_on: date,
    ) -> Claim:
        for no, line in enumerate(lines, start=1):
            if line.expense_date > submitted_on:
                raise InvalidInput(
                    f"line {no}: expense date {line.expense_date} is after the claim's submission date "
                    f"{submitted_on}; an SME claims costs it already had"
                )
        return cls._create(
            cls.Submitted,
            id=claim_id,
            actor=actor,
            effective_date=submitted_on,
            sme_id=sme_id,
            mission_id=mission_id,
            partner=partner,
            lines=lines,
            estimate=list(estimate.lines),
            requested=min(estimate.reimbursement, cap_per_sme),
        )

    @property
    def approved_amount(self) -> Money:
        """The approved EUR amount of an approved, partly paid or paid claim."""
        if self.approved is None:
            raise ClaimNotInState(f"claim {self.id} is {state_label(self.state)}: it has no approved amount")
        return self.approved

    @property
    def outstanding(self) -> Money:
        """What is still committed: approved - paid - settled short."""
        return self.approved_amount - self.paid - self.settled_short

    @property
    def support_held(self) -> Money:
        """What this claim holds of the SME's caps."""
        return self.approved_amount - self.support_released

    def describe_payments(self) -> str:
        return ", ".join(f"{pid} ({amount})" for pid, amount in self.payments.items())

    def _require(self, state: ClaimState, action: str) -> None:
        if self.state != state.value:
            raise ClaimNotInState(
                f"cannot {action} claim {self.id}: it is {state_label(self.state)}, "
                f"and only {article(state_label(state.value))} claim can be"
            )

    def _not_before_submission(self, on: date, decision: str) -> None:
        if on < self.submitted_on:
            raise InvalidInput(
                f"{decision} date {on} is before the claim's submission date {self.submitted_on}; "
                "a claim is decided after it is submitted"
            )

    def _not_before_approval(self, on: date, what: str, done: str) -> None:
        if on < self.approved_on:
            raise InvalidInput(
                f"{what} {on} is before the claim's approval date {self.approved_on}; "
                f"a claim is {done} after it is approved"
            )

    def approve(
        self,
        *,
        actor: Actor,
        assessment: Assessment,
        approved: Money,
        capped_by: str,
        reason: str,
        on: date,
    ) -> None:
        self._require(ClaimState.SUBMITTED, "approve")
        reason = clean_optional(reason, "reason", multiline=True)
        self._not_before_submission(on, "approval")
        not_before_last_change(self, on, "approval date")
        self.trigger_event(
            self.Approved,
            actor=actor,
            effective_date=on,
            lines=list(assessment.lines),
            eligible_eur=assessment.eligible_eur,
            reimbursement=assessment.reimbursement,
            approved=approved,
            capped_by=capped_by,
            reason=reason,
        )

    def reject(self, *, actor: Actor, reason: str, on: date) -> None:
        self._require(ClaimState.SUBMITTED, "reject")
        self._not_before_submission(on, "rejection")
        not_before_last_change(self, on, "rejection date")
        reason = clean_text(reason, "reason", multiline=True, missing="a rejection needs a reason the SME can read")
        self.trigger_event(self.Rejected, actor=actor, effective_date=on, reason=reason)

    def withdraw(self, *, actor: Actor, reason: str, on: date) -> None:
        self._require(ClaimState.SUBMITTED, "withdraw")
        self._not_before_submission(on, "withdrawal")
        not_before_last_change(self, on, "withdrawal date")
        reason = clean_text(reason, "reason", multiline=True, missing="a withdrawal needs a reason")
        self.trigger_event(self.Withdrawn, actor=actor, effective_date=on, reason=reason)

    # Paying and correcting after approval (ledger/claim_payments.py).
    record_payment = claim_payments.record_payment
    reverse_payment = claim_payments.reverse_payment
    settle_short = claim_payments.settle_short
    revoke_approval = claim_payments.revoke_approval

    def check_documents_open(self, line: int | None) -> None:
        """Documents are attached to (or superseded on) a line of a claim not yet decided."""
        if self.state != ClaimState.SUBMITTED.value:
            raise ClaimNotInState(
                f"claim {self.id} is {state_label(self.state)}: documents are attached or superseded only while "
                "a claim is submitted and not yet decided; its record is closed (revoke an approval to reopen it)"
            )
        if line is not None and not 1 <= line <= len(self.lines):
            raise InvalidInput(f"claim {self.id} has lines 1 to {len(self.lines)}; there is no line {line}")
