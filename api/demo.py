"""The EU-ALLIANCE demo loaded through the real application (its data: ``api.demo_data``).

Every command goes through ``GrantLedger`` as the actor who would give it, in the order of
its business date, so the books "as recorded" and "as effective" tell the same story.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from uuid import UUID

# --- the grant --------------------------------------------------------------------------
from api.context import LedgerContext
from api.demo_claims import BANK_RETURN, PART_PAID, REVOCATION, SETTLEMENT, ClaimPlan, Fate, plan_claims
from api.demo_data import (
    COORDINATOR,
    COORDINATOR_PARTNER,
    COSTS,
    EU_CAP,
    FUNDING_RATE,
    GRANT_CODE,
    GRANT_DECISION_REF,
    GRANT_TITLE,
    MISSION_CAP,
    MISSION_COST_TYPES,
    MISSION_RATE,
    MISSIONS,
    OFFICERS,
    PARTNERS,
    PERIOD_END,
    PERIOD_START,
    RATE_CURRENCIES,
    RATE_SOURCE,
    RATES,
    REGISTERED_BEFORE_SELECTION,
    SMES,
    TOTAL,
    TRANSFERS,
    CostPlan,
    MissionPlan,
    SmePlan,
    TransferPlan,
    budget,
    demo_id,
    sme_id,
)
from api.demo_documents import claim_documents, cost_documents, count
from api.demo_reporting import ADJUSTMENTS, reporting_context, schedule_reporting, submitted_periods
from ledger.application import GrantLedger
from ledger.claim import ClaimState, state_label
from ledger.errors import Refused
from ledger.mission import mission_id
from ledger.money import Money, money_sum


# --- playing the history through the application -------------------------------------------
class Timeline:
    """Commands to give, run in the order of their business dates (ties: in the order added)."""

    def __init__(self) -> None:
        self._steps: list[tuple[date, int, Callable[[], object]]] = []

    def add(self, on: date, command: Callable[[], object]) -> None:
        self._steps.append((on, len(self._steps), command))

    def run(self) -> None:
        for _, _, command in sorted(self._steps, key=lambda step: step[:2]):
            command()


class DemoStoreNotEmpty(Refused):
    title = "The demo needs an empty event store"


@dataclass(frozen=True)
class DemoSummary:
    """What ``load_demo`` recorded: counts and EUR figures."""

    events: int
    partners: int
    budget_total: Money
    missions: int
    smes: int
    selections: int
    exchange_rates: int
    transfers: int
    own_costs: int
    claims: int
    claims_by_state: Mapping[str, int]
    #: Payments recorded, including the one the bank returned.
    payments: int
    reversed_payments: int
    #: Approved on claims now approved or paid (EUR), and of that what is paid.
    approved: Money
    paid: Money
    #: Currencies of the claims' receipts.
    currencies: tuple[str, ...]
    reporting_periods: int
    #: The reporting periods submitted, and the adjustments of them declared later.
    submitted_periods: tuple[int, ...]
    adjustments: int
    #: Supporting documents attached (claim lines and own costs).
    documents: int
    claim_ids: tuple[UUID, ...] = field(repr=False)

    def lines(self) -> list[str]:
        """The summary in a few lines of plain text (for the command line)."""
        states = ", ".join(f"{n} {state_label(state)}" for state, n in self.claims_by_state.items())
        return [
            f"{self.events} events recorded",
            f"grant {GRANT_CODE}: {self.partners} partners, {self.budget_total} in budget lines, "
            f"{self.transfers} budget transfers, {self.own_costs} own costs",
            f"{self.missions} missions, {self.smes} SMEs, {self.selections} selections, "
            f"{self.exchange_rates} exchange rates ({RATE_SOURCE})",
            f"{self.claims} claims in {', '.join(self.currencies)}: {states}",
            f"{self.payments} payments ({self.reversed_payments} returned by the bank); "
            f"approved {self.approved}, of which paid {self.paid}",
            f"{self.reporting_periods} reporting periods: submitted {_listed(self.submitted_periods)}, "
            f"then {self.adjustments} adjustment of period 1 declared in period 2; the others in draft",
            f"{self.documents} supporting documents (generated PDF and PNG receipts); a few lines and costs have none",
        ]


def load_demo(app: GrantLedger, context: LedgerContext | None = None) -> DemoSummary:
    """Record the EU-ALLIANCE demo into an EMPTY store; refuse (recording nothing) otherwise.

    The reporting steps sign statements at the read models' position (api.demo_reporting):
    ``context`` (of ``app``) is projected as they go; without one, read models in memory are."""
    recorded = app.recorder.max_notification_id()
    if recorded:
        raise DemoStoreNotEmpty(
            f"the demo loads only into an empty event store, and this one already holds events "
            f"(up to position {recorded}); nothing was recorded. Point GRANTLEDGER_DATABASE_URL at a new "
            "database (or memory://) and load the demo there"
        )
    plans = plan_claims()
    timeline = Timeline()
    timeline.add(PERIOD_START, lambda: _sign_grant(app))
    for month in RATES:
        timeline.add(date.fromisoformat(f"{month}-01"), partial(_record_rates, app, month))
    for transfer in TRANSFERS:
        timeline.add(transfer.on, partial(_transfer, app, transfer))
    for number, cost in enumerate(COSTS):
        timeline.add(cost.on, partial(_record_cost, app, number, cost))
    for mission in MISSIONS:
        timeline.add(mission.opened_on, partial(open_planned_mission, app, mission))
    for sme in SMES:
        _schedule_sme(timeline, app, sme)
    for number, plan in enumerate(plans):
        _schedule_claim(timeline, app, number, plan)
    with reporting_context(app, context) as reporting:
        schedule_reporting(timeline, reporting)
        timeline.run()
    return _summarise(app, plans)


def _sign_grant(app: GrantLedger) -> UUID:
    return app.sign_grant(
        actor=COORDINATOR,
        code=GRANT_CODE,
        title=GRANT_TITLE,
        total=TOTAL,
        funding_rate=FUNDING_RATE,
        eu_cap=EU_CAP,
        period_start=PERIOD_START,
        period_end=PERIOD_END,
        coordinator=COORDINATOR_PARTNER,
        partners=PARTNERS,
        budget=budget(),
        decision_ref=GRANT_DECISION_REF,
        on=PERIOD_START,
    )


def _record_rates(app: GrantLedger, month: str) -> None:
    for currency, rate in zip(RATE_CURRENCIES, RATES[month], strict=True):
        app.record_rate(actor=COORDINATOR, currency=currency, month=month, rate=Decimal(rate), source=RATE_SOURCE)


def _transfer(app: GrantLedger, t: TransferPlan) -> UUID:
    return app.transfer_budget(
        actor=COORDINATOR,
        transfer_id=demo_id("transfer", t.decision_ref),
        from_partner=t.from_partner,
        from_category=t.from_category.value,
        to_partner=t.to_partner,
        to_category=t.to_category.value,
        amount=t.amount,
        decision_ref=t.decision_ref,
        reason=t.reason,
        on=t.on,
    )


def _record_cost(app: GrantLedger, number: int, c: CostPlan) -> UUID:
    return app.record_cost(
        actor=OFFICERS[c.partner],
        cost_id=demo_id("cost", c.document_ref),
        partner=c.partner,
        category=c.category.value,
        amount=c.amount,
        document_ref=c.document_ref,
        description=c.description,
        on=c.on,
        documents=cost_documents(number, c),
    )


def open_planned_mission(app: GrantLedger, m: MissionPlan) -> UUID:
    """Open the planned mission ``m`` as the demo's coordinator, on the demo's terms."""
    return app.open_mission(
        actor=COORDINATOR,
        code=m.code,
        country=m.country,
        city=m.city,
        start=m.start,
        end=m.end,
        responsible_partner=m.partner,
        reimbursement_rate=MISSION_RATE,
        cap_per_sme=MISSION_CAP,
        eligible_cost_types=[t.value for t in MISSION_COST_TYPES],
        on=m.opened_on,
    )


def _mission(code: str) -> MissionPlan:
    return next(m for m in MISSIONS if m.code == code)


def _schedule_sme(timeline: Timeline, app: GrantLedger, sme: SmePlan) -> None:
    """Registered by the officer of its first mission's partner, then selected for each mission."""
    first = _mission(sme.missions[0])
    registered_on = first.selected_on - timedelta(days=REGISTERED_BEFORE_SELECTION)
    timeline.add(
        registered_on,
        lambda: app.register_sme(
            actor=OFFICERS[first.partner],
            sme_id=sme_id(sme),
            legal_name=sme.name,
            country=sme.country,
            identifier=sme.identifier,
            on=registered_on,
        ),
    )
    for m in map(_mission, sme.missions):
        timeline.add(
            m.selected_on,
            partial(
                app.select_sme,
                actor=OFFICERS[m.partner],
                mission_id=mission_id(m.code),
                sme_id=sme_id(sme),
                on=m.selected_on,
            ),
        )


def _schedule_claim(timeline: Timeline, app: GrantLedger, number: int, plan: ClaimPlan) -> None:
    """Submit the claim with its receipts (api.demo_documents), then decide, pay and return it as
    its fate says."""
    officer = OFFICERS[plan.mission.partner]
    timeline.add(
        plan.submitted_on,
        lambda: app.submit_claim(
            actor=officer,
            claim_id=plan.claim_id,
            sme_id=sme_id(plan.sme),
            mission_id=mission_id(plan.mission.code),
            lines=plan.lines,
            on=plan.submitted_on,
            documents=claim_documents(number, plan),
        ),
    )
    fate, claim_id, decided = plan.fate, plan.claim_id, plan.decided_on
    if fate is Fate.REJECTED:
        timeline.add(
            decided, lambda: app.reject_claim(actor=officer, claim_id=claim_id, reason=plan.reason, on=decided)
        )
    elif fate is Fate.WITHDRAWN:
        timeline.add(
            decided, lambda: app.withdraw_claim(actor=officer, claim_id=claim_id, reason=plan.reason, on=decided)
        )
    elif fate.approves:
        timeline.add(
            decided,
            lambda: app.approve_claim(
                actor=officer, claim_id=claim_id, decisions=plan.decisions, reason=plan.reason, on=decided
            ),
        )
    if fate is Fate.REVOKED:
        timeline.add(
            plan.returned_on,
            lambda: app.revoke_approval(actor=officer, claim_id=claim_id, reason=REVOCATION, on=plan.returned_on),
        )
    if fate.pays:
        share = PART_PAID if fate.pays_in_part else Decimal(1)
        timeline.add(
            plan.paid_on,
            lambda: app.record_payment(
                actor=officer,
                payment_id=plan.payment_id,
                claim_id=claim_id,
                amount=app.claim(claim_id).approved_amount.times_rate(share),
                bank_reference=plan.bank_reference,
                on=plan.paid_on,
            ),
        )
    if fate is Fate.SETTLED_SHORT:
        timeline.add(
            plan.returned_on,
            lambda: app.settle_claim(actor=officer, claim_id=claim_id, reason=SETTLEMENT, on=plan.returned_on),
        )
    if fate is Fate.RETURNED:
        timeline.add(
            plan.returned_on,
            lambda: app.reverse_payment(
                actor=officer, payment_id=plan.payment_id, reason=BANK_RETURN, on=plan.returned_on
            ),
        )


# --- the summary ------------------------------------------------------------------------
def _listed(numbers: tuple[int, ...]) -> str:
    return ", ".join(f"period {n}" for n in numbers) or "none"


def _count_events(app: GrantLedger) -> int:
    """Every stored event (notification ids may have gaps on some stores: count, never subtract)."""
    position, count = 0, 0
    while notifications := app.recorder.select_notifications(position, 1000, inclusive_of_start=False):
        position = notifications[-1].id
        count += len(notifications)
    return count


def _summarise(app: GrantLedger, plans: tuple[ClaimPlan, ...]) -> DemoSummary:
    claims = [app.claim(p.claim_id) for p in plans]
    payments = [app.payment(p.payment_id) for p in plans if p.fate.pays]
    states = Counter(c.state for c in claims)
    return DemoSummary(
        events=_count_events(app),
        partners=len(PARTNERS),
        budget_total=money_sum([m for lines in budget().values() for m in lines.values()]),
        missions=len(MISSIONS),
        smes=len(SMES),
        selections=sum(len(s.missions) for s in SMES),
        exchange_rates=len(RATES) * len(RATE_CURRENCIES),
        transfers=len(TRANSFERS),
        own_costs=len(COSTS),
        claims=len(claims),
        claims_by_state={s.value: states[s.value] for s in ClaimState},
        payments=len(payments),
        reversed_payments=sum(p.reversed for p in payments),
        approved=money_sum([c.approved for c in claims if c.approved is not None]),
        paid=money_sum([c.paid for c in claims if c.paid is not None]),
        currencies=tuple(sorted({line.amount.currency for p in plans for line in p.lines})),
        reporting_periods=len(app.grant().reporting_periods),
        submitted_periods=submitted_periods(app),
        adjustments=len(ADJUSTMENTS),
        documents=sum(count(claim_documents(n, p)) for n, p in enumerate(plans))
        + sum(count(cost_documents(n, c)) for n, c in enumerate(COSTS)),
        claim_ids=tuple(c.id for c in claims),
    )
