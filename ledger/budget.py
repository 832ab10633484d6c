"""Budget lines (partner x category) and the transfers that move money between them.

A budget line is the hot, long-lived aggregate: every approval, payment, reversal and own
cost charged to it is an event on it, so its version check is what keeps concurrent
officers from overspending it (invariant 2). It is snapshotted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger.actors import Actor
from ledger.base import LedgerAggregate
from ledger.errors import InvalidInput, Refused
from ledger.ids import natural_id
from ledger.money import EUR, Money
from ledger.periods import ReportingPeriod
from ledger.statement import PeriodLocked
from ledger.text import clean_optional, clean_text

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

#: What each charge is, in a refusal's words.
_WHAT = {
    "TransferredOut": "this transfer",
    "TransferredIn": "this transfer",
    "Committed": "this approval",
    "Paid": "this payment",
    "PaymentReturned": "this reversal",
    "Released": "this release of a commitment",
    "CostCharged": "this cost",
}


class BudgetExceeded(Refused):
    title = "Budget line exceeded"


def line_id(partner: str, category: str) -> UUID:
    return natural_id("budget-line", partner, category)


class BudgetLine(LedgerAggregate):
    """One partner's allocation in one cost category, and what is charged to it (in EUR)."""

    class Opened(LedgerAggregate.Created):
        partner: str
        category: str
        allocated: Money

        def apply(self, line: BudgetLine) -> None:
            line.partner = self.partner
            line.category = self.category
            line.allocated = self.allocated
            line.closed_periods = ()
            line.submitted_periods = ()
            line.committed = Money.zero(EUR)
            line.paid = Money.zero(EUR)
            line.spent = Money.zero(EUR)

    class TransferredOut(LedgerAggregate.Event):
        transfer_id: UUID
        amount: Money

        def apply(self, line: BudgetLine) -> None:
            line.allocated = line.allocated - self.amount

    class TransferredIn(LedgerAggregate.Event):
        transfer_id: UUID
        amount: Money

        def apply(self, line: BudgetLine) -> None:
            line.allocated = line.allocated + self.amount

    class Committed(LedgerAggregate.Event):
        """An approved claim now commits this much of the line."""

        claim_id: UUID
        amount: Money

        def apply(self, line: BudgetLine) -> None:
            line.committed = line.committed + self.amount

    class Paid(LedgerAggregate.Event):
        """A payment moves that much of a claim's commitment to paid. ``released`` is zero
        since partial payments; a payment recorded before them released the shortfall."""

        claim_id: UUID
        payment_id: UUID
        amount: Money
        released: Money

        def apply(self, line: BudgetLine) -> None:
            line.committed = line.committed - self.amount - self.released
            line.paid = line.paid + self.amount

    class PaymentReturned(LedgerAggregate.Event):
        """A reversed payment: ``recommitted`` is committed again (what it paid; before partial
        payments, the claim's whole approved amount)."""

        claim_id: UUID
        payment_id: UUID
        amount: Money
        recommitted: Money

        def apply(self, line: BudgetLine) -> None:
            line.paid = line.paid - self.amount
            line.committed = line.committed + self.recommitted

    class Released(LedgerAggregate.Event):
        """A claim's commitment released: settled short, or its approval revoked."""

        claim_id: UUID
        amount: Money
        reason: str

        def apply(self, line: BudgetLine) -> None:
            line.committed = line.committed - self.amount

    class CostCharged(LedgerAggregate.Event):
        """A partner's own cost recorded (or corrected: ``amount`` is then the change)."""

        cost_id: UUID
        amount: Money

        def apply(self, line: BudgetLine) -> None:
            line.spent = line.spent + self.amount

    class PeriodClosed(LedgerAggregate.Event):
        """The partner's statement for this reporting period is locked (or, ``submitted``, its
        period submitted): nothing dated in it may be charged to the line any more."""

        period: ReportingPeriod
        submitted: bool

        def apply(self, line: BudgetLine) -> None:
            line.closed_periods = (*(p for p in line.closed_periods if p.number != self.period.number), self.period)
            others = tuple(n for n in line.submitted_periods if n != self.period.number)
            line.submitted_periods = (*others, self.period.number) if self.submitted else others

    class PeriodReopened(LedgerAggregate.Event):
        """The statement was sent back to draft: the period is open on the line again."""

        number: int
        reason: str

        def apply(self, line: BudgetLine) -> None:
            line.closed_periods = tuple(p for p in line.closed_periods if p.number != self.number)
            line.submitted_periods = tuple(n for n in line.submitted_periods if n != self.number)

    #: Periods closed on this line (a line restored from a snapshot taken before period close
    #: has none: these defaults).
    closed_periods: Sequence[ReportingPeriod] = ()
    submitted_periods: Sequence[int] = ()

    if TYPE_CHECKING:
        partner: str
        category: str
        allocated: Money
        committed: Money
        paid: Money
        spent: Money

    @classmethod
    def open(cls, *, actor: Actor, partner: str, category: str, allocated: Money, on: date) -> BudgetLine:
        return cls._create(
            cls.Opened,
            id=line_id(partner, category),
            actor=actor,
            effective_date=on,
            partner=partner,
            category=category,
            allocated=allocated,
        )

    @property
    def label(self) -> str:
        return f"{self.partner} {self.category}"

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        """Invariant 9: every figure charged to the line is dated in a period open for its
        partner; closing and reopening periods are the only events dated anywhere."""
        if event_class not in (self.PeriodClosed, self.PeriodReopened):
            self.require_open(kwargs["effective_date"], _WHAT.get(event_class.__name__, "this change"))
        super().trigger_event(event_class, **kwargs)

    def require_open(self, day: date, what: str) -> None:
        closed = next((p for p in self.closed_periods if day in p), None)
        if closed is None:
            return
        partner = self.partner
        if closed.number in self.submitted_periods:
            raise PeriodLocked(
                f"{closed} is submitted for {partner}: nothing dated in it can change, and {what} is dated {day}. "
                f"Record it with a date in an open period (e.g. today); an own cost of {closed} is recorded "
                "there as an adjustment (its cost date kept, declared on a date in the open period), "
                "and is declared in that period's statement"
            )
        raise PeriodLocked(
            f"{partner}'s statement for {closed} is locked for review: nothing dated in it can be charged to "
            f"{partner}'s budget, and {what} is dated {day}. Record it with a date in an open period, or ask "
            "the coordinator to send the statement back to draft if the period itself must change"
        )

    def close_period(self, *, actor: Actor, period: ReportingPeriod, submitted: bool, on: date) -> None:
        self.trigger_event(self.PeriodClosed, actor=actor, effective_date=on, period=period, submitted=submitted)

    def reopen_period(self, *, actor: Actor, number: int, reason: str, on: date) -> None:
        self.trigger_event(self.PeriodReopened, actor=actor, effective_date=on, number=number, reason=reason)

    @property
    def consumed(self) -> Money:
        return self.committed + self.paid + self.spent

    @property
    def remaining(self) -> Money:
        """Allocated minus committed, paid and own costs (may be negative only for own costs)."""
        return self.allocated - self.consumed

    def transfer_out(self, *, actor: Actor, transfer_id: UUID, amount: Money, on: date) -> None:
        if amount > self.allocated - self.consumed:
            raise BudgetExceeded(
                f"cannot move {amount} out of {self.label}: it has {self.allocated} allocated, "
                f"of which {self.consumed} is already committed, paid or spent, "
                f"so at most {max(self.remaining, Money.zero(EUR))} can move"
            )
        self.trigger_event(self.TransferredOut, actor=actor, effective_date=on, transfer_id=transfer_id, amount=amount)

    def transfer_in(self, *, actor: Actor, transfer_id: UUID, amount: Money, on: date) -> None:
        self.trigger_event(self.TransferredIn, actor=actor, effective_date=on, transfer_id=transfer_id, amount=amount)

    def commit(self, *, actor: Actor, claim_id: UUID, amount: Money, on: date) -> None:
        """Invariant 2: committed + paid may never exceed allocated."""
        if self.committed + self.paid + amount > self.allocated:
            available = max(self.allocated - self.committed - self.paid, Money.zero(EUR))
            raise BudgetExceeded(
                f"remaining {self.category} budget of {self.partner} is {available} "
                f"(allocated {self.allocated}, committed {self.committed}, paid {self.paid}); "
                f"this approval needs {amount}. Ask the coordinator for a budget transfer, "
                "or approve less"
            )
        self.trigger_event(self.Committed, actor=actor, effective_date=on, claim_id=claim_id, amount=amount)

    def pay(self, *, actor: Actor, claim_id: UUID, payment_id: UUID, amount: Money, on: date) -> None:
        """A payment moves that much of the claim's commitment to paid; the rest stays committed."""
        self.trigger_event(
            self.Paid,
            actor=actor,
            effective_date=on,
            claim_id=claim_id,
            payment_id=payment_id,
            amount=amount,
            released=Money.zero(EUR),
        )

    def return_payment(self, *, actor: Actor, claim_id: UUID, payment_id: UUID, amount: Money, on: date) -> None:
        """A bank return commits again exactly what the payment paid: committed + paid does not
        change, so a return that really happened can always be recorded (invariant 2)."""
        self.trigger_event(
            self.PaymentReturned,
            actor=actor,
            effective_date=on,
            claim_id=claim_id,
            payment_id=payment_id,
            amount=amount,
            recommitted=amount,
        )

    def release(self, *, actor: Actor, claim_id: UUID, amount: Money, reason: str, on: date) -> None:
        """A claim's commitment that will not be paid (settled short, approval revoked)."""
        if amount.is_positive:
            self.trigger_event(
                self.Released, actor=actor, effective_date=on, claim_id=claim_id, amount=amount, reason=reason
            )

    def charge_cost(self, *, actor: Actor, cost_id: UUID, amount: Money, on: date) -> None:
        if self.spent + amount < Money.zero(EUR):
            raise InvalidInput(f"a correction cannot make the own costs of {self.label} negative")
        self.trigger_event(self.CostCharged, actor=actor, effective_date=on, cost_id=cost_id, amount=amount)


class Transfer(LedgerAggregate):
    """A budget transfer between two partner x category lines, decided by the consortium."""

    class Made(LedgerAggregate.Created):
        from_partner: str
        from_category: str
        to_partner: str
        to_category: str
        amount: Money
        decision_ref: str
        reason: str

        def apply(self, transfer: Transfer) -> None:
            transfer.from_line = (self.from_partner, self.from_category)
            transfer.to_line = (self.to_partner, self.to_category)
            transfer.amount = self.amount
            transfer.decision_ref = self.decision_ref
            transfer.reason = self.reason

    if TYPE_CHECKING:
        from_line: tuple[str, str]
        to_line: tuple[str, str]
        amount: Money
        decision_ref: str
        reason: str

    @classmethod
    def make(
        cls,
        *,
        transfer_id: UUID,
        actor: Actor,
        source: BudgetLine,
        target: BudgetLine,
        amount: Money,
        decision_ref: str,
        reason: str,
        on: date,
    ) -> Transfer:
        """Move money between two lines: the total never changes (invariant 1)."""
        if source.id == target.id:
            raise InvalidInput(f"a transfer needs two different lines, got {source.label} twice")
        if amount.currency != EUR or not amount.is_positive:
            raise InvalidInput(f"a transfer moves a positive EUR amount, got {amount}")
        decision_ref = clean_text(
            decision_ref, "decision_ref", missing="a transfer needs the reference of the consortium decision"
        )
        reason = clean_optional(reason, "reason", multiline=True)
        source.transfer_out(actor=actor, transfer_id=transfer_id, amount=amount, on=on)
        target.transfer_in(actor=actor, transfer_id=transfer_id, amount=amount, on=on)
        return cls._create(
            cls.Made,
            id=transfer_id,
            actor=actor,
            effective_date=on,
            from_partner=source.partner,
            from_category=source.category,
            to_partner=target.partner,
            to_category=target.category,
            amount=amount,
            decision_ref=decision_ref,
            reason=reason,
        )
