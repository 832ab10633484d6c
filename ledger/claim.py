"""SME reimbursement claims: submitted -> approved (fully or partly) -> paid, or rejected,
or withdrawn; a reversed payment makes an approved claim unpaid again.

Amounts follow docs/domain.md: each expense line is converted to EUR with the monthly rate of
its expense month and rounded half up to the cent; the reimbursement is the mission rate
times their sum, rounded half up; the approved amount is that, limited by what remains
of the SME's caps. Every conversion stores the rate, month and source it used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID

from ledger.actors import Actor
from ledger.base import LedgerAggregate
from ledger.errors import InvalidInput, NotFound, Refused
from ledger.money import EUR, Money, money_sum
from ledger.rates import Quote, month_of
from ledger.text import clean_optional, clean_text
from ledger.words import article


class ClaimState(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    PAID = "paid"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class UnknownClaim(NotFound):
    title = "Unknown claim"


class ClaimNotInState(Refused):
    title = "Claim is not in the right state"


@dataclass(frozen=True, slots=True)
class ExpenseLine:
    """One cost an SME declares: what, when, how much (original currency) and its receipt."""

    cost_type: str
    expense_date: date
    amount: Money
    receipt_ref: str
    description: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "cost_type", clean_text(self.cost_type, "lines.cost_type"))
        object.__setattr__(
            self,
            "receipt_ref",
            clean_text(self.receipt_ref, "lines.receipt_ref", missing="the receipt reference is missing"),
        )
        object.__setattr__(self, "description", clean_optional(self.description, "lines.description", multiline=True))


@dataclass(frozen=True, slots=True)
class LineDecision:
    """An officer's decision on one line (numbered from 1): the amount accepted and why."""

    line_no: int
    accepted: Money
    reason: str

    def __post_init__(self) -> None:
        field = f"decisions.reason (line {self.line_no})"
        object.__setattr__(self, "reason", clean_optional(self.reason, field, multiline=True))


@dataclass(frozen=True, slots=True)
class ConvertedLine:
    """A line as assessed: the amount accepted, the rate used (with its month and source),
    the EUR value rounded half up to the cent, and the reason for any reduction."""

    line_no: int
    accepted: Money
    rate: Decimal
    rate_month: str
    rate_source: str
    eur: Money
    reason: str


@dataclass(frozen=True, slots=True)
class Assessment:
    lines: tuple[ConvertedLine, ...]
    eligible_eur: Money
    reimbursement: Money


QuoteLookup = Callable[[str, str], Quote]


def assess(
    lines: Sequence[ExpenseLine],
    decisions: Mapping[int, LineDecision],
    quote_for: QuoteLookup,
    reimbursement_rate: Decimal,
) -> Assessment:
    """Convert each accepted line to EUR, sum, and apply the mission's reimbursement rate."""
    converted = []
    for no, line in enumerate(lines, start=1):
        decision = decisions.get(no)
        accepted = decision.accepted if decision else line.amount
        reason = decision.reason if decision else ""
        if line.amount.currency == EUR:
            quote = Quote(EUR, month_of(line.expense_date), Decimal(1), "identity")
        else:
            quote = quote_for(line.amount.currency, month_of(line.expense_date))
        converted.append(
            ConvertedLine(no, accepted, quote.rate, quote.month, quote.source, accepted.to_eur(quote.rate), reason)
        )
    eligible = money_sum([c.eur for c in converted])
    return Assessment(tuple(converted), eligible, eligible.times_rate(reimbursement_rate))


def check_decisions(lines: Sequence[ExpenseLine], decisions: Sequence[LineDecision]) -> dict[int, LineDecision]:
    """Per-line decisions must name real lines once, accept 0..claimed, and say why when less."""
    by_no: dict[int, LineDecision] = {}
    for d in decisions:
        if not 1 <= d.line_no <= len(lines):
            raise InvalidInput(f"decision names line {d.line_no}, but the claim has lines 1 to {len(lines)}")
        if d.line_no in by_no:
            raise InvalidInput(f"line {d.line_no} has two decisions; give one per line")
        claimed = lines[d.line_no - 1].amount
        if d.accepted.currency != claimed.currency:
            raise InvalidInput(
                f"line {d.line_no}: accepted amount must be in {claimed.currency}, the currency of the receipt"
            )
        if d.accepted.amount < 0 or d.accepted > claimed:
            raise InvalidInput(
                f"line {d.line_no}: accepted {d.accepted} must be between {Money.zero(claimed.currency)} "
                f"and the claimed {claimed}"
            )
        if d.accepted < claimed and not d.reason.strip():
            raise InvalidInput(
                f"line {d.line_no}: accepting {d.accepted} of the claimed {claimed} needs a reason "
                "(e.g. recoverable VAT, not on the receipt)"
            )
        by_no[d.line_no] = d
    return by_no


class Claim(LedgerAggregate):
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
            claim.approved = None
            claim.paid = None
            claim.payment_id = None

    class Approved(LedgerAggregate.Event):
        lines: list[ConvertedLine]
        eligible_eur: Money
        reimbursement: Money
        approved: Money
        capped_by: str
        reason: str

        def apply(self, claim: Claim) -> None:
            claim.state = ClaimState.APPROVED.value
            claim.approved = self.approved
            claim.approved_on = self.effective_date

    class Rejected(LedgerAggregate.Event):
        reason: str

        def apply(self, claim: Claim) -> None:
            claim.state = ClaimState.REJECTED.value

    class Withdrawn(LedgerAggregate.Event):
        reason: str

        def apply(self, claim: Claim) -> None:
            claim.state = ClaimState.WITHDRAWN.value

    class ReimbursementPaid(LedgerAggregate.Event):
        payment_id: UUID
        amount: Money
        bank_reference: str

        def apply(self, claim: Claim) -> None:
            claim.state = ClaimState.PAID.value
            claim.paid = self.amount
            claim.payment_id = self.payment_id

    class PaymentReversed(LedgerAggregate.Event):
        payment_id: UUID
        amount: Money
        reason: str

        def apply(self, claim: Claim) -> None:
            claim.state = ClaimState.APPROVED.value
            claim.paid = None
            claim.payment_id = None

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
        paid: Money | None
        payment_id: UUID | None

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
        """The approved EUR amount of an approved or paid claim."""
        if self.approved is None:
            raise ClaimNotInState(f"claim {self.id} is {self.state}: it has no approved amount")
        return self.approved

    def _require(self, state: ClaimState, action: str) -> None:
        if self.state != state.value:
            raise ClaimNotInState(
                f"cannot {action} claim {self.id}: it is {self.state}, and only {article(state.value)} claim can be"
            )

    def _not_before_submission(self, on: date, decision: str) -> None:
        if on < self.submitted_on:
            raise InvalidInput(
                f"{decision} date {on} is before the claim's submission date {self.submitted_on}; "
                "a claim is decided after it is submitted"
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
        reason = clean_text(reason, "reason", multiline=True, missing="a rejection needs a reason the SME can read")
        self.trigger_event(self.Rejected, actor=actor, effective_date=on, reason=reason)

    def withdraw(self, *, actor: Actor, reason: str, on: date) -> None:
        self._require(ClaimState.SUBMITTED, "withdraw")
        self._not_before_submission(on, "withdrawal")
        reason = clean_text(reason, "reason", multiline=True, missing="a withdrawal needs a reason")
        self.trigger_event(self.Withdrawn, actor=actor, effective_date=on, reason=reason)

    def record_payment(self, *, actor: Actor, payment_id: UUID, amount: Money, bank_reference: str, on: date) -> Money:
        """Invariant 4: paid <= approved, and at most once unless a payment was reversed."""
        if self.state == ClaimState.PAID.value:
            raise ClaimNotInState(
                f"claim {self.id} is already paid ({self.paid}, payment {self.payment_id}); "
                "a claim is paid once unless that payment is reversed"
            )
        self._require(ClaimState.APPROVED, "pay")
        if self.approved is None:  # pragma: no cover - an approved claim always has an amount
            raise ClaimNotInState(f"claim {self.id} has no approved amount")
        if amount.currency != EUR or not amount.is_positive:
            raise InvalidInput(f"a reimbursement is a positive EUR amount, got {amount}")
        if amount > self.approved:
            raise Refused(f"payment of {amount} exceeds the approved {self.approved} for claim {self.id}")
        if on < self.approved_on:
            raise InvalidInput(
                f"payment value date {on} is before the claim's approval date {self.approved_on}; "
                "a claim is paid after it is approved"
            )
        bank_reference = clean_text(bank_reference, "bank_reference", missing="a payment needs its bank reference")
        self.trigger_event(
            self.ReimbursementPaid,
            actor=actor,
            effective_date=on,
            payment_id=payment_id,
            amount=amount,
            bank_reference=bank_reference,
        )
        return self.approved

    def reverse_payment(self, *, actor: Actor, payment_id: UUID, reason: str, on: date) -> None:
        if self.payment_id != payment_id or self.paid is None:
            raise ClaimNotInState(f"payment {payment_id} is not the current payment of claim {self.id}")
        reason = clean_text(
            reason, "reason", multiline=True, missing="a payment reversal needs a reason (e.g. bank return, wrong IBAN)"
        )
        self.trigger_event(
            self.PaymentReversed, actor=actor, effective_date=on, payment_id=payment_id, amount=self.paid, reason=reason
        )
