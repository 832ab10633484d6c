"""The ledger's use cases: one method per command, each taking the acting user.

Every command loads what it needs, lets the aggregates decide, and saves every changed
aggregate in ONE atomic save with optimistic concurrency. If another writer changed one
of them in between, the save fails, the command reloads and decides again (bounded), and
then reports a clear conflict. A refused command raises a LedgerError and records nothing.

Commands that create something accept a client-chosen id: the same id with the same
content records nothing and returns the same id; with different content it is refused.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, PersistenceError

from ledger.actors import Actor, Role, require_officer_of, require_role
from ledger.base import register_transcodings
from ledger.budget import BudgetLine, Transfer, line_id
from ledger.claim import (
    Claim,
    ClaimNotInState,
    ClaimState,
    ExpenseLine,
    LineDecision,
    UnknownClaim,
    assess,
    check_decisions,
)
from ledger.cost import Cost, UnknownCost
from ledger.errors import ConcurrencyConflict, IdempotencyConflict, InvalidInput, LedgerError, NotFound, Refused
from ledger.grant import (
    OWN_COST_CATEGORIES,
    Category,
    Grant,
    GrantAlreadySigned,
    GrantNotSigned,
    PartnerInfo,
    parse_category,
)
from ledger.mission import Mission, UnknownMission, mission_id
from ledger.money import EUR, Money
from ledger.payment import Payment, UnknownPayment
from ledger.rates import DEFAULT_SOURCE, ExchangeRate, Quote, RateAlreadyRecorded, RateMissing, month_of, rate_id
from ledger.receipts import ReceiptIndex, receipt_id
from ledger.sme import (
    Sme,
    SmeAlreadyRegistered,
    SmeCapReached,
    SmeIdentifierIndex,
    SmeNotSelected,
    UnknownSme,
    identifier_index_id,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)

#: Attempts of one command when concurrent writers keep changing the same aggregates.
MAX_ATTEMPTS = 8
#: Cap per SME over the whole grant (EU Financial Regulation, cap per third party).
SME_SUPPORT_CAP = Money.eur("60000")
#: INDIRECT flat rate of direct costs excluding subcontracting and FSTP (assumed default).
INDIRECT_RATE = Decimal("0.07")

Outcome = tuple[T, Sequence[Aggregate]]


def _attempt(create: Callable[[], A]) -> A | None:
    """The aggregate a repeated command would create, or None if its content is invalid
    (and so certainly not the same as what was recorded)."""
    try:
        return create()
    except LedgerError:
        return None


def _terms(aggregate: Grant | Mission) -> dict[str, object]:
    """What a repeated creating command must match: the aggregate's state but its identity,
    version and times."""
    skip = {"_id", "_version", "_created_on", "_modified_on", "_pending_events"}
    return {k: v for k, v in vars(aggregate).items() if k not in skip}


class GrantLedger(Application[UUID]):
    """The EU grant budget and reimbursement ledger."""

    name = "GrantLedger"
    snapshotting_intervals = {BudgetLine: 50, Sme: 50}  # noqa: RUF012 - the library's class attribute

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_transcodings(transcoder)

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        self._written = threading.local()

    def position_written(self) -> int | None:
        """Where in the event log this thread's last command wrote its events (None when it
        recorded nothing, e.g. a repeated command): a reader waits until its projections
        reach this position to see its own writes."""
        return getattr(self._written, "position", None)

    # --- plumbing ---------------------------------------------------------------------
    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshots only speed up loading: failing to take one must never fail (or, through
        a retry, repeat) a command whose events are already recorded."""
        try:
            super()._take_snapshots(processing_event)
        except PersistenceError:
            log.warning("could not store a snapshot; loading will replay events instead", exc_info=True)

    def _write(self, decide: Callable[[], Outcome[T]]) -> T:
        """Decide and save atomically; on a concurrent change, reload and decide again."""
        self._written.position = None
        for attempt in range(MAX_ATTEMPTS):
            result, changed = decide()
            if not any(a.pending_events for a in changed):
                return result
            try:
                recordings = self.save(*changed)
            except IntegrityError:
                time.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311 - jitter, not crypto
                continue
            self._written.position = max((r.notification.id for r in recordings), default=None)
            return result
        raise ConcurrencyConflict(
            f"other officers changed the same records {MAX_ATTEMPTS} times while this command ran; "
            "nothing was recorded. Reload and try again"
        )

    def _load(self, cls: type[A], aggregate_id: UUID, missing: Callable[[], Exception]) -> A:
        try:
            aggregate: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise missing() from None
        if not isinstance(aggregate, cls):
            raise missing()
        return aggregate

    def _find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        try:
            aggregate: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        if not isinstance(aggregate, cls):
            raise IdempotencyConflict(f"id {aggregate_id} is already used by a {type(aggregate).__name__}")
        return aggregate

    @staticmethod
    def _same(existing: Aggregate, what: str, same: bool) -> UUID:
        if not same:
            raise IdempotencyConflict(
                f"{what} {existing.id} was already recorded with different content; "
                "use a new id for a new command, or repeat the original exactly"
            )
        return existing.id

    def grant(self) -> Grant:
        return self._load(Grant, Grant.ID, lambda: GrantNotSigned("the grant agreement has not been signed in yet"))

    def budget_line(self, partner: str, category: str) -> BudgetLine:
        return self._load(
            BudgetLine,
            line_id(partner, category),
            lambda: NotFound(f"there is no budget line {partner} {category}"),
        )

    def claim(self, claim_id: UUID, version: int | None = None) -> Claim:
        return self._load_at(Claim, claim_id, version, lambda: UnknownClaim(f"there is no claim {claim_id}"))

    def mission(self, mission_id: UUID) -> Mission:
        return self._load(Mission, mission_id, lambda: UnknownMission(f"there is no mission {mission_id}"))

    def sme(self, sme_id: UUID) -> Sme:
        return self._load(Sme, sme_id, lambda: UnknownSme(f"there is no SME {sme_id}"))

    def payment(self, payment_id: UUID) -> Payment:
        return self._load(Payment, payment_id, lambda: UnknownPayment(f"there is no payment {payment_id}"))

    def cost(self, cost_id: UUID) -> Cost:
        return self._load(Cost, cost_id, lambda: UnknownCost(f"there is no cost {cost_id}"))

    def quote(self, currency: str, month: str) -> Quote:
        """The recorded rate of a currency for a month; a missing rate is an error, not a guess."""
        found = self._find(ExchangeRate, rate_id(currency, month))
        if found is None:
            raise RateMissing(
                f"no {currency} exchange rate is recorded for {month}; record the InforEuro rate "
                f"for {currency} {month} (grantledger import-rates or POST /exchange-rates) and try again"
            )
        return found.quote

    def aggregate_at(self, aggregate_id: UUID, version: int) -> Aggregate:
        """Any aggregate as it was at a given version (historical state)."""
        return self._load_at(Aggregate, aggregate_id, version, lambda: NotFound(f"nothing has id {aggregate_id}"))

    def _load_at(self, cls: type[A], aggregate_id: UUID, version: int | None, missing: Callable[[], Exception]) -> A:
        if version is None:
            return self._load(cls, aggregate_id, missing)
        if version < 1:
            raise InvalidInput(f"versions start at 1, got {version}")
        try:
            aggregate: object = self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            raise missing() from None
        if not isinstance(aggregate, cls):
            raise missing()
        return aggregate

    # --- the grant and its budget -------------------------------------------------------
    def sign_grant(
        self,
        *,
        actor: Actor,
        code: str,
        title: str,
        total: Money,
        funding_rate: Decimal,
        eu_cap: Money,
        period_start: date,
        period_end: date,
        coordinator: str,
        partners: Sequence[PartnerInfo],
        budget: dict[str, dict[str, Money]],
        decision_ref: str,
        on: date,
        indirect_rate: Decimal = INDIRECT_RATE,
        sme_support_cap: Money = SME_SUPPORT_CAP,
    ) -> UUID:
        """Sign in the grant agreement and open every partner x category budget line."""
        require_role(actor, "sign in the grant", Role.COORDINATOR)
        lines = {
            p.code: {c.value: budget.get(p.code, {}).get(c.value, Money.zero(EUR)) for c in Category} for p in partners
        }

        def sign() -> Grant:
            return Grant.sign(
                actor=actor,
                code=code,
                title=title,
                total=total,
                funding_rate=funding_rate,
                eu_cap=eu_cap,
                period_start=period_start,
                period_end=period_end,
                coordinator=coordinator,
                partners=list(partners),
                budget=lines,
                indirect_rate=indirect_rate,
                sme_support_cap=sme_support_cap,
                decision_ref=decision_ref,
                signed_on=on,
            )

        def decide() -> Outcome[UUID]:
            existing = self._find(Grant, Grant.ID)
            if existing is not None:
                fresh = _attempt(sign)
                if fresh is None or _terms(existing) != _terms(fresh):
                    raise GrantAlreadySigned(
                        f"grant {existing.code} is already signed with other terms; a ledger keeps one grant, "
                        "and its budget changes only by transfers"
                    )
                return existing.id, []
            grant = sign()
            opened = [
                BudgetLine.open(actor=actor, partner=p, category=c, allocated=amount, on=on)
                for p, by_category in lines.items()
                for c, amount in by_category.items()
            ]
            return grant.id, [grant, *opened]

        return self._write(decide)

    def transfer_budget(
        self,
        *,
        actor: Actor,
        transfer_id: UUID,
        from_partner: str,
        from_category: str,
        to_partner: str,
        to_category: str,
        amount: Money,
        decision_ref: str,
        reason: str,
        on: date,
    ) -> UUID:
        """Move budget between two partner x category lines; the total never changes."""
        require_role(actor, "transfer budget", Role.COORDINATOR)
        parse_category(from_category)
        parse_category(to_category)

        def decide() -> Outcome[UUID]:
            existing = self._find(Transfer, transfer_id)
            if existing is not None:
                same = (existing.from_line, existing.to_line, existing.amount, existing.decision_ref) == (
                    (from_partner, from_category),
                    (to_partner, to_category),
                    amount,
                    decision_ref,
                )
                return self._same(existing, "transfer", same), []
            grant = self.grant()
            grant.require_partner(from_partner)
            grant.require_partner(to_partner)
            source = self.budget_line(from_partner, from_category)
            target = self.budget_line(to_partner, to_category)
            transfer = Transfer.make(
                transfer_id=transfer_id,
                actor=actor,
                source=source,
                target=target,
                amount=amount,
                decision_ref=decision_ref,
                reason=reason,
                on=on,
            )
            return transfer.id, [transfer, source, target]

        return self._write(decide)

    # --- missions, SMEs and rates ------------------------------------------------------
    def open_mission(
        self,
        *,
        actor: Actor,
        code: str,
        country: str,
        city: str,
        start: date,
        end: date,
        responsible_partner: str,
        reimbursement_rate: Decimal,
        cap_per_sme: Money,
        eligible_cost_types: Sequence[str],
        on: date,
    ) -> UUID:
        require_role(actor, "open a mission", Role.COORDINATOR)

        def open_it() -> Mission:
            return Mission.open(
                actor=actor,
                code=code,
                country=country,
                city=city,
                start=start,
                end=end,
                responsible_partner=responsible_partner,
                reimbursement_rate=reimbursement_rate,
                cap_per_sme=cap_per_sme,
                eligible_cost_types=list(eligible_cost_types),
                opened_on=on,
            )

        def decide() -> Outcome[UUID]:
            existing = self._find(Mission, mission_id(code))
            if existing is not None:
                fresh = _attempt(open_it)
                same = fresh is not None and _terms(existing) == _terms(fresh)
                return self._same(existing, f"mission {code}", same), []
            grant = self.grant()
            grant.require_partner(responsible_partner)
            grant.require_in_period(start, f"mission {code} start")
            grant.require_in_period(end, f"mission {code} end")
            mission = open_it()
            return mission.id, [mission]

        return self._write(decide)

    def register_sme(
        self, *, actor: Actor, sme_id: UUID, legal_name: str, country: str, identifier: str, on: date
    ) -> UUID:
        require_role(actor, "register an SME", Role.OFFICER, Role.COORDINATOR)

        def decide() -> Outcome[UUID]:
            existing = self._find(Sme, sme_id)
            if existing is not None:
                fresh = Sme.register(
                    sme_id=sme_id, actor=actor, legal_name=legal_name, country=country, identifier=identifier, on=on
                )
                same = (existing.legal_name, existing.country, existing.identifier) == (
                    fresh.legal_name,
                    fresh.country,
                    fresh.identifier,
                )
                return self._same(existing, "SME", same), []
            sme = Sme.register(
                sme_id=sme_id, actor=actor, legal_name=legal_name, country=country, identifier=identifier, on=on
            )
            taken = self._find(SmeIdentifierIndex, identifier_index_id(identifier))
            if taken is not None:
                other = self.sme(taken.sme_id)
                raise SmeAlreadyRegistered(
                    f"an SME with identifier {sme.identifier} is already registered: "
                    f"{other.legal_name} ({other.id}); use that SME"
                )
            index = SmeIdentifierIndex.reserve(actor=actor, identifier=identifier, sme_id=sme_id, on=on)
            return sme.id, [sme, index]

        return self._write(decide)

    def select_sme(self, *, actor: Actor, mission_id: UUID, sme_id: UUID, on: date) -> UUID:
        """Select a registered SME for a mission (officer of the mission's responsible partner)."""

        def decide() -> Outcome[UUID]:
            mission = self.mission(mission_id)
            require_officer_of(actor, mission.responsible_partner, f"select SMEs for mission {mission.code}")
            sme = self.sme(sme_id)
            sme.select(actor=actor, mission_id=mission_id, on=on)
            return sme.id, [sme]

        return self._write(decide)

    def record_rate(
        self, *, actor: Actor, currency: str, month: str, rate: Decimal, source: str = DEFAULT_SOURCE
    ) -> UUID:
        """Record the monthly rate (units of the currency one euro buys) for a currency and month."""
        require_role(actor, "record exchange rates", Role.OFFICER, Role.COORDINATOR)

        def decide() -> Outcome[UUID]:
            xr = ExchangeRate.record(actor=actor, currency=currency, month=month, rate=rate, source=source)
            existing = self._find(ExchangeRate, xr.id)
            if existing is not None:
                if (existing.rate, existing.source) != (rate, source.strip()):
                    raise RateAlreadyRecorded(
                        f"the {currency} rate for {month} is already recorded as {existing.rate} "
                        f"({existing.source}); to change it, record a correction with a reason"
                    )
                return existing.id, []
            return xr.id, [xr]

        return self._write(decide)

    def correct_rate(
        self, *, actor: Actor, currency: str, month: str, rate: Decimal, reason: str, source: str = DEFAULT_SOURCE
    ) -> UUID:
        require_role(actor, "correct exchange rates", Role.OFFICER, Role.COORDINATOR)

        def decide() -> Outcome[UUID]:
            xr = self._find(ExchangeRate, rate_id(currency, month))
            if xr is None:
                raise RateMissing(f"no {currency} rate is recorded for {month}: record it first")
            xr.correct(actor=actor, rate=rate, source=source, reason=reason)
            return xr.id, [xr]

        return self._write(decide)

    # --- claims -----------------------------------------------------------------------
    def submit_claim(
        self,
        *,
        actor: Actor,
        claim_id: UUID,
        sme_id: UUID,
        mission_id: UUID,
        lines: Sequence[ExpenseLine],
        on: date,
    ) -> UUID:
        """Record a claim an SME submitted; it is pending against the mission partner's FSTP line."""
        if not lines:
            raise InvalidInput("a claim needs at least one expense line")

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
                claim_id=claim_id,
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
            return claim.id, [claim, *indexes]

        return self._write(decide)

    @staticmethod
    def _check_lines(grant: Grant, mission: Mission, lines: Sequence[ExpenseLine]) -> None:
        for no, line in enumerate(lines, start=1):
            mission.require_eligible(line.cost_type, no)
            grant.require_in_period(line.expense_date, f"line {no}: expense date")
            if not line.amount.is_positive:
                raise InvalidInput(f"line {no}: the amount must be positive, got {line.amount}")
            if not line.receipt_ref.strip():
                raise InvalidInput(f"line {no}: the receipt reference is missing")

    def _declare_receipts(
        self, actor: Actor, references: Sequence[str], holder_kind: str, holder_id: UUID, on: date
    ) -> list[ReceiptIndex]:
        """Invariant 5: every receipt reference is held by one claim or cost at a time."""
        indexes: dict[UUID, ReceiptIndex] = {}
        for no, reference in enumerate(references, start=1):
            key = receipt_id(reference)
            if key in indexes:
                raise InvalidInput(f"line {no}: receipt {reference!r} appears twice in this {holder_kind}")
            found = self._find(ReceiptIndex, key)
            if found is None:
                found = ReceiptIndex.declare_new(
                    actor=actor, reference=reference.strip(), holder_kind=holder_kind, holder_id=holder_id, on=on
                )
            else:
                found.declare_again(actor=actor, holder_kind=holder_kind, holder_id=holder_id, on=on, line=f"line {no}")
            indexes[key] = found
        return list(indexes.values())

    def _release_receipts(self, actor: Actor, claim: Claim, reason: str, on: date) -> list[ReceiptIndex]:
        indexes = []
        for line in claim.lines:
            index = self._load(ReceiptIndex, receipt_id(line.receipt_ref), lambda: NotFound("receipt index missing"))
            index.release(actor=actor, holder_id=claim.id, reason=reason, on=on)
            indexes.append(index)
        return indexes

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

        def decide() -> Outcome[Money]:
            claim = self.claim(claim_id)
            require_officer_of(actor, claim.partner, "approve this claim")
            if claim.state != ClaimState.SUBMITTED:
                raise ClaimNotInState(f"cannot approve claim {claim_id}: it is {claim.state}, not submitted")
            grant = self.grant()
            mission = self.mission(claim.mission_id)
            sme = self.sme(claim.sme_id)
            line = self.budget_line(claim.partner, Category.FSTP.value)
            assessment = assess(
                claim.lines, check_decisions(claim.lines, decisions), self.quote, mission.reimbursement_rate
            )
            if assessment.reimbursement.is_zero:
                raise Refused(
                    "nothing is accepted on any line, so there is nothing to approve: reject the claim instead"
                )
            mission_room = mission.cap_per_sme - sme.approved_for(mission.id)
            overall_room = grant.sme_support_cap - sme.approved_total
            approved, capped_by = assessment.reimbursement, ""
            if mission_room < approved:
                approved, capped_by = mission_room, f"cap per SME of mission {mission.code} ({mission.cap_per_sme})"
            if overall_room < approved:
                approved, capped_by = overall_room, f"cap per SME over the grant ({grant.sme_support_cap})"
            if not approved.is_positive:
                raise SmeCapReached(
                    f"{sme.legal_name} has already reached the {capped_by}: "
                    f"this claim's {assessment.reimbursement} cannot be approved. Reject it with that reason"
                )
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

    def reject_claim(self, *, actor: Actor, claim_id: UUID, reason: str, on: date) -> None:
        """Reject a submitted claim with a reason; its receipts may be declared again."""
        self._close_claim(actor, claim_id, reason, on, reject=True)

    def withdraw_claim(self, *, actor: Actor, claim_id: UUID, reason: str, on: date) -> None:
        """Withdraw a submitted claim on the SME's request; its receipts may be declared again."""
        self._close_claim(actor, claim_id, reason, on, reject=False)

    def _close_claim(self, actor: Actor, claim_id: UUID, reason: str, on: date, *, reject: bool) -> None:
        verb = "reject" if reject else "withdraw"

        def decide() -> Outcome[None]:
            claim = self.claim(claim_id)
            require_officer_of(actor, claim.partner, f"{verb} this claim")
            if reject:
                claim.reject(actor=actor, reason=reason, on=on)
            else:
                claim.withdraw(actor=actor, reason=reason, on=on)
            return None, [claim, *self._release_receipts(actor, claim, f"claim {verb}ed: {reason}", on)]

        self._write(decide)

    # --- payments ---------------------------------------------------------------------
    def record_payment(
        self, *, actor: Actor, payment_id: UUID, claim_id: UUID, amount: Money, bank_reference: str, on: date
    ) -> UUID:
        """Record the reimbursement paid to the SME for an approved claim (value date ``on``)."""

        def decide() -> Outcome[UUID]:
            claim = self.claim(claim_id)
            require_officer_of(actor, claim.partner, "record payments of this claim")
            existing = self._find(Payment, payment_id)
            if existing is not None:
                same = (existing.claim_id, existing.amount, existing.bank_reference, existing.value_date) == (
                    claim_id,
                    amount,
                    bank_reference.strip(),
                    on,
                )
                return self._same(existing, "payment", same), []
            line = self.budget_line(claim.partner, Category.FSTP.value)
            approved = claim.record_payment(
                actor=actor, payment_id=payment_id, amount=amount, bank_reference=bank_reference, on=on
            )
            line.pay(actor=actor, claim_id=claim_id, payment_id=payment_id, amount=amount, approved=approved, on=on)
            payment = Payment.record(
                payment_id=payment_id,
                actor=actor,
                claim_id=claim_id,
                partner=claim.partner,
                amount=amount,
                bank_reference=bank_reference,
                value_date=on,
            )
            return payment.id, [payment, claim, line]

        return self._write(decide)

    def reverse_payment(self, *, actor: Actor, payment_id: UUID, reason: str, on: date) -> None:
        """A bank return: the claim is approved-unpaid again and its amount committed again."""

        def decide() -> Outcome[None]:
            payment = self.payment(payment_id)
            require_officer_of(actor, payment.partner, "reverse this payment")
            if on < payment.value_date:
                raise InvalidInput(f"the reversal date {on} is before the payment's value date {payment.value_date}")
            claim = self.claim(payment.claim_id)
            line = self.budget_line(claim.partner, Category.FSTP.value)
            payment.reverse(actor=actor, reason=reason, on=on)
            claim.reverse_payment(actor=actor, payment_id=payment_id, reason=reason, on=on)
            line.return_payment(
                actor=actor,
                claim_id=claim.id,
                payment_id=payment_id,
                amount=payment.amount,
                approved=claim.approved_amount,
                on=on,
            )
            return None, [payment, claim, line]

        self._write(decide)

    # --- partners' own costs -----------------------------------------------------------
    def record_cost(
        self,
        *,
        actor: Actor,
        cost_id: UUID,
        partner: str,
        category: str,
        amount: Money,
        document_ref: str,
        description: str,
        on: date,
    ) -> UUID:
        """Record a partner's own cost in a direct category (converted to EUR if foreign)."""
        require_officer_of(actor, partner, f"record costs of {partner}")
        if parse_category(category) not in OWN_COST_CATEGORIES:
            raise InvalidInput(
                f"own costs are recorded in {', '.join(sorted(c.value for c in OWN_COST_CATEGORIES))}; "
                f"{category} is computed (INDIRECT) or SME support (FSTP)"
            )

        def decide() -> Outcome[UUID]:
            existing = self._find(Cost, cost_id)
            if existing is not None:
                same = (existing.partner, existing.category, existing.cost_date, existing.document_ref) == (
                    partner,
                    category,
                    on,
                    document_ref.strip(),
                ) and existing.amount == amount
                return self._same(existing, "cost", same), []
            grant = self.grant()
            grant.require_partner(partner)
            grant.require_in_period(on, "cost date")
            quote = (
                Quote(EUR, month_of(on), Decimal(1), "identity")
                if amount.currency == EUR
                else self.quote(amount.currency, month_of(on))
            )
            cost = Cost.record(
                cost_id=cost_id,
                actor=actor,
                partner=partner,
                category=category,
                amount=amount,
                eur=amount.to_eur(quote.rate),
                rate=quote.rate,
                rate_month=quote.month,
                rate_source=quote.source,
                document_ref=document_ref,
                description=description,
                cost_date=on,
            )
            line = self.budget_line(partner, category)
            line.charge_cost(actor=actor, cost_id=cost_id, amount=cost.eur, on=on)
            indexes = self._declare_receipts(actor, [document_ref], "cost", cost_id, on)
            return cost.id, [cost, line, *indexes]

        return self._write(decide)

    def correct_cost(self, *, actor: Actor, cost_id: UUID, amount: Money, reason: str, on: date) -> Money:
        """Correct a recorded cost (0 cancels it); returns the corrected EUR amount."""

        def decide() -> Outcome[Money]:
            cost = self.cost(cost_id)
            require_officer_of(actor, cost.partner, "correct this cost")
            delta = cost.correct(actor=actor, amount=amount, reason=reason, on=on)
            line = self.budget_line(cost.partner, cost.category)
            line.charge_cost(actor=actor, cost_id=cost_id, amount=delta, on=on)
            return cost.eur, [cost, line]

        return self._write(decide)
