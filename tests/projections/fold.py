"""What every read model should hold, folded from the event log in plain Python.

This is the oracle of tests/projections/test_read_models_property.py, written apart from
projections/ (nothing is imported from there): it reads the log with the recorder, decodes
each notification with the application's mapper, and folds the events into dicts of
Decimals with its own arithmetic.

Each figure comes from the events of the aggregate that decides it, so the fold can stop at
any position, even between two events of one atomic save, as the read models' history can:
a budget line's allocated, committed, paid and spent come from the line's own events; what
is pending comes from the claims still submitted; a claim, a payment, a cost, an SME's
support from their own events. ``Fold.disagreements`` then derives the same figures a second
way (allocation from the agreement and transfers, commitments and payments from the claims,
own costs from the costs, SME support from the claims' approvals), which must agree wherever
no save is half applied: at the end of the log.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from eventsourcing.domain import DomainEventProtocol

from ledger.application import GrantLedger
from ledger.base import LedgerAggregate
from ledger.budget import BudgetLine, Transfer
from ledger.claim import Claim
from ledger.cost import Cost
from ledger.grant import Grant
from ledger.mission import Mission
from ledger.payment import Payment
from ledger.rates import ExchangeRate
from ledger.sme import Sme

ZERO = Decimal("0.00")
FSTP = "FSTP"
MEASURES = ("allocated", "pending", "committed", "paid", "spent")
CLAIM_STATES = ("submitted", "approved", "partly_paid", "paid", "rejected", "withdrawn")
#: Notifications read from the recorder per call.
PAGE = 100

Key = tuple[str, str]
Record = dict[str, Any]


class Logged(NamedTuple):
    """One notification of the log: its position, its topic, and the decoded event."""

    position: int
    topic: str
    event: LedgerAggregate.Event


def read_log(app: GrantLedger, stop: int | None = None) -> list[Logged]:
    """Every notification up to ``stop`` (all when None), decoded, in the log's order."""
    return list(_pages(app, stop))


def _pages(app: GrantLedger, stop: int | None) -> Iterator[Logged]:
    after = 0
    while True:
        page = app.recorder.select_notifications(start=after, limit=PAGE, stop=stop, inclusive_of_start=False)
        for notification in page:
            event: DomainEventProtocol[Any] = app.mapper.to_domain_event(notification)
            if not isinstance(event, LedgerAggregate.Event):
                raise TypeError(f"notification {notification.id} ({notification.topic}) is not a ledger event")
            yield Logged(notification.id, notification.topic, event)
        if len(page) < PAGE:
            return
        after = page[-1].id


def names(topic: str) -> tuple[str, str]:
    """(aggregate type, event type) from a topic such as ``ledger.claim:Claim.Submitted``."""
    qualified = topic.rpartition(":")[2]
    aggregate, _, event = qualified.rpartition(".")
    return aggregate, event


def money(value: Any) -> Decimal:
    """The amount of a Money value (EUR figures are compared as Decimals)."""
    amount = value.amount
    assert isinstance(amount, Decimal)
    return amount


def unknown(e: LedgerAggregate.Event) -> TypeError:
    """A new kind of event: teach the fold what it changes (and check the handlers do too)."""
    return TypeError(f"the fold does not know {type(e).__qualname__} events")


@dataclass
class ClaimLineFold:
    cost_type: str
    expense_date: date
    currency: str
    amount: Decimal
    receipt_ref: str
    description: str
    accepted: Decimal | None = None
    rate: Decimal | None = None
    rate_month: str | None = None
    rate_source: str | None = None
    eur: Decimal | None = None
    reason: str = ""
    #: The estimate at submission: its rate, month and source, and its EUR value.
    estimate: tuple[Decimal, str, str, Decimal] | None = None


@dataclass
class ClaimFold:
    sme_id: str
    mission_id: str
    partner: str
    submitted_on: date
    requested: Decimal
    version: int
    position: int
    state: str = "submitted"
    eligible_eur: Decimal | None = None
    approved: Decimal | None = None
    capped_by: str | None = None
    decided_on: date | None = None
    paid: Decimal | None = None
    settled_short: Decimal | None = None
    #: The payments not reversed, in the order paid: id -> amount
    live: dict[str, Decimal] = field(default_factory=dict)
    #: What settling short gave back to the SME's caps
    support_released: Decimal = ZERO
    reason: str = ""
    lines: list[ClaimLineFold] = field(default_factory=list)
    #: version -> the claim's history row for that event
    history: dict[int, Record] = field(default_factory=dict)

    @property
    def outstanding(self) -> Decimal | None:
        """Still committed: approved - paid - settled short (None without an approval)."""
        if self.approved is None or self.paid is None or self.settled_short is None:
            return None
        return self.approved - self.paid - self.settled_short

    def settle_state(self) -> None:
        """The state from the figures: paid when nothing is outstanding, partly paid while
        something is paid, else approved."""
        assert self.paid is not None
        self.state = "paid" if self.outstanding == ZERO else "partly_paid" if self.paid > ZERO else "approved"

    def unapprove(self) -> None:
        self.approved = self.eligible_eur = self.capped_by = self.decided_on = None
        self.paid = self.settled_short = None
        self.live, self.support_released = {}, ZERO
        for line in self.lines:
            line.accepted = line.rate = line.rate_month = line.rate_source = line.eur = None
            line.reason = ""

    def row(self) -> Record:
        """The claim as rm_claims holds it."""
        return {
            "sme_id": self.sme_id,
            "mission_id": self.mission_id,
            "partner": self.partner,
            "state": self.state,
            "submitted_on": self.submitted_on,
            "requested": self.requested,
            "eligible_eur": self.eligible_eur,
            "approved": self.approved,
            "capped_by": self.capped_by,
            "decided_on": self.decided_on,
            "paid": self.paid,
            "settled_short": self.settled_short,
            "outstanding": self.outstanding,
            "payment_id": list(self.live)[-1] if self.live else None,
            "live_payments": ",".join(self.live),
            "reason": self.reason,
            "version": self.version,
            "position": self.position,
        }


@dataclass
class Fold:
    """Everything the read models should show after the events folded so far."""

    grant: Record | None = None
    partners: dict[str, Record] = field(default_factory=dict)
    line_keys: dict[str, Key] = field(default_factory=dict)
    #: (partner, category) -> allocated, committed, paid, spent from the line's own events
    lines: dict[Key, dict[str, Decimal]] = field(default_factory=dict)
    missions: dict[str, Record] = field(default_factory=dict)
    smes: dict[str, Record] = field(default_factory=dict)
    #: (sme, mission) -> the day it was selected
    selected: dict[Key, date] = field(default_factory=dict)
    claims: dict[str, ClaimFold] = field(default_factory=dict)
    payments: dict[str, Record] = field(default_factory=dict)
    costs: dict[str, Record] = field(default_factory=dict)
    rates: dict[Key, Record] = field(default_factory=dict)
    audit: dict[int, Record] = field(default_factory=dict)
    # --- the second derivations (see ``disagreements``) -------------------------------------
    agreed: dict[Key, Decimal] = field(default_factory=dict)
    support: dict[Key, Decimal] = field(default_factory=dict)

    # --- folding ----------------------------------------------------------------------------
    def apply(self, logged: Logged) -> None:
        position, topic, e = logged
        aggregate_type, event_type = names(topic)
        aggregate_id = str(e.originator_id)
        self.audit[position] = {
            "aggregate_type": aggregate_type,
            "aggregate_id": aggregate_id,
            "version": e.originator_version,
            "event_type": event_type,
            "actor_id": e.actor.id,
            "role": e.actor.role,
            "partner": e.actor.partner,
            "effective_date": e.effective_date,
            "recorded_at": e.timestamp,
            "reason": getattr(e, "reason", ""),
        }
        if isinstance(e, Grant.Signed | Transfer.Made):
            self._agreement(e, position)
        elif isinstance(e, Mission.Opened):
            self.missions[aggregate_id] = {
                "code": e.code,
                "country": e.country,
                "city": e.city,
                "start": e.start,
                "end": e.end,
                "partner": e.responsible_partner,
                "reimbursement_rate": e.reimbursement_rate,
                "cap_per_sme": money(e.cap_per_sme),
                "cost_types": tuple(e.eligible_cost_types),
            }
        elif aggregate_type == "BudgetLine":
            self._line(e, aggregate_id)
        elif aggregate_type == "Claim":
            self._claim(e, aggregate_id, position, event_type)
        elif aggregate_type == "Sme":
            self._sme(e, aggregate_id)
        elif aggregate_type == "Payment":
            self._payment(e, aggregate_id)
        elif aggregate_type == "Cost":
            self._cost(e, aggregate_id)
        elif aggregate_type == "ExchangeRate":
            self._rate(e, aggregate_id)

    def _agreement(self, e: Grant.Signed | Transfer.Made, position: int) -> None:
        if isinstance(e, Grant.Signed):
            self.grant = {
                "code": e.code,
                "title": e.title,
                "total": money(e.total),
                "eu_cap": money(e.eu_cap),
                "funding_rate": e.funding_rate,
                "sme_support_cap": money(e.sme_support_cap),
                "period_start": e.period_start,
                "period_end": e.period_end,
                "position": position,
            }
            self.partners = {p.code: {"name": p.name, "country": p.country} for p in e.partners}
            for partner, by_category in e.budget.items():
                for category, amount in by_category.items():
                    self.agreed[(partner, category)] = money(amount)
        else:
            moved = money(e.amount)
            source, target = (e.from_partner, e.from_category), (e.to_partner, e.to_category)
            self.agreed[source] = self.agreed.get(source, ZERO) - moved
            self.agreed[target] = self.agreed.get(target, ZERO) + moved

    def _line(self, e: LedgerAggregate.Event, line_id: str) -> None:
        if isinstance(e, BudgetLine.Opened):
            key = self.line_keys[line_id] = (e.partner, e.category)
            self.lines[key] = {"allocated": money(e.allocated), "committed": ZERO, "paid": ZERO, "spent": ZERO}
            return
        line = self.lines[self.line_keys[line_id]]
        if isinstance(e, BudgetLine.TransferredOut):
            line["allocated"] -= money(e.amount)
        elif isinstance(e, BudgetLine.TransferredIn):
            line["allocated"] += money(e.amount)
        elif isinstance(e, BudgetLine.Committed):
            line["committed"] += money(e.amount)
        elif isinstance(e, BudgetLine.Paid):
            # The whole commitment leaves: what was paid, and the shortfall that is released.
            line["committed"] -= money(e.amount) + money(e.released)
            line["paid"] += money(e.amount)
            self.payments[str(e.payment_id)]["released"] = money(e.released)
        elif isinstance(e, BudgetLine.PaymentReturned):
            line["paid"] -= money(e.amount)
            line["committed"] += money(e.recommitted)
        elif isinstance(e, BudgetLine.Released):
            line["committed"] -= money(e.amount)
        elif isinstance(e, BudgetLine.CostCharged):
            line["spent"] += money(e.amount)
        else:
            raise unknown(e)

    def _claim(self, e: LedgerAggregate.Event, claim_id: str, position: int, event_type: str) -> None:
        amount: Decimal | None = None
        if isinstance(e, Claim.Submitted):
            claim = self.claims[claim_id] = ClaimFold(
                sme_id=str(e.sme_id),
                mission_id=str(e.mission_id),
                partner=e.partner,
                submitted_on=e.effective_date,
                requested=money(e.requested),
                version=e.originator_version,
                position=position,
                lines=[
                    ClaimLineFold(
                        cost_type=line.cost_type,
                        expense_date=line.expense_date,
                        currency=line.amount.currency,
                        amount=money(line.amount),
                        receipt_ref=line.receipt_ref,
                        description=line.description,
                        estimate=(estimate.rate, estimate.rate_month, estimate.rate_source, money(estimate.eur)),
                    )
                    for line, estimate in zip(e.lines, e.estimate, strict=True)
                ],
            )
            amount = claim.requested
        else:
            claim = self.claims[claim_id]
            claim.version, claim.position = e.originator_version, position
        if isinstance(e, Claim.Approved):
            claim.unapprove()
            claim.state, claim.decided_on, claim.reason = "approved", e.effective_date, e.reason
            claim.approved, claim.eligible_eur, claim.capped_by = money(e.approved), money(e.eligible_eur), e.capped_by
            claim.paid = claim.settled_short = ZERO
            for converted in e.lines:
                line = claim.lines[converted.line_no - 1]
                line.accepted, line.eur = money(converted.accepted), money(converted.eur)
                line.rate, line.rate_month, line.rate_source = (
                    converted.rate,
                    converted.rate_month,
                    converted.rate_source,
                )
                line.reason = converted.reason
            amount = claim.approved
        elif isinstance(e, Claim.Rejected | Claim.Withdrawn):
            claim.state = "rejected" if isinstance(e, Claim.Rejected) else "withdrawn"
            claim.decided_on, claim.reason = e.effective_date, e.reason
        elif isinstance(e, Claim.ReimbursementPaid):
            assert claim.paid is not None
            assert claim.approved is not None
            amount = money(e.amount)
            claim.paid += amount
            claim.live[str(e.payment_id)] = amount
            if e.closes:  # a payment of version 1 closed the claim: the rest was settled short
                claim.settled_short = claim.approved - claim.paid
            claim.settle_state()
        elif isinstance(e, Claim.PaymentReversed):
            assert claim.paid is not None
            amount = money(e.amount)
            claim.paid -= amount
            del claim.live[str(e.payment_id)]
            if e.recommits_all:  # a reversal of version 1 committed the whole approved amount again
                claim.settled_short = ZERO
            claim.reason = e.reason
            claim.settle_state()
        elif isinstance(e, Claim.SettledShort):
            assert claim.settled_short is not None
            amount = money(e.amount)
            claim.settled_short += amount
            claim.support_released += amount
            claim.state, claim.reason = "paid", e.reason
        elif isinstance(e, Claim.ApprovalRevoked):
            claim.unapprove()
            claim.state, claim.reason = "submitted", e.reason
            amount = money(e.released)
        elif not isinstance(e, Claim.Submitted):
            raise unknown(e)
        claim.history[e.originator_version] = {
            "position": position,
            "event_type": event_type,
            "recorded_at": e.timestamp,
            "effective_date": e.effective_date,
            "actor_id": e.actor.id,
            "role": e.actor.role,
            "amount": amount,
            "reason": getattr(e, "reason", ""),
        }

    def _sme(self, e: LedgerAggregate.Event, sme_id: str) -> None:
        if isinstance(e, Sme.Registered):
            self.smes[sme_id] = {
                "legal_name": e.legal_name,
                "country": e.country,
                "identifier": e.identifier,
                "registered_on": e.effective_date,
            }
        elif isinstance(e, Sme.RegistrationCorrected):
            self.smes[sme_id] |= {"legal_name": e.legal_name, "country": e.country}
        elif isinstance(e, Sme.Selected):
            self.selected.setdefault((sme_id, str(e.mission_id)), e.effective_date)
        elif isinstance(e, Sme.SupportApproved):
            key = (sme_id, str(e.mission_id))
            self.support[key] = self.support.get(key, ZERO) + money(e.amount)
        elif isinstance(e, Sme.SupportReleased):
            key = (sme_id, str(e.mission_id))
            self.support[key] = self.support.get(key, ZERO) - money(e.amount)
        else:
            raise unknown(e)

    def _payment(self, e: LedgerAggregate.Event, payment_id: str) -> None:
        if isinstance(e, Payment.Recorded):
            self.payments[payment_id] = {
                "claim_id": str(e.claim_id),
                "partner": e.partner,
                "amount": money(e.amount),
                "bank_reference": e.bank_reference,
                "value_date": e.effective_date,
                "released": ZERO,
                "reversed": False,
                "reversal_reason": "",
            }
        elif isinstance(e, Payment.Reversed):
            self.payments[payment_id] |= {"reversed": True, "reversal_reason": e.reason}
        elif isinstance(e, Payment.RecordCorrected):
            self.payments[payment_id] |= {"bank_reference": e.bank_reference, "value_date": e.value_date}
        else:
            raise unknown(e)

    def _cost(self, e: LedgerAggregate.Event, cost_id: str) -> None:
        if isinstance(e, Cost.Recorded):
            self.costs[cost_id] = {
                "partner": e.partner,
                "category": e.category,
                "currency": e.amount.currency,
                "amount": money(e.amount),
                "eur": money(e.eur),
                "cost_date": e.effective_date,
                "document_ref": e.document_ref,
                "description": e.description,
                "version": e.originator_version,
            }
        elif isinstance(e, Cost.Corrected):
            self.costs[cost_id] |= {"amount": money(e.amount), "eur": money(e.eur), "version": e.originator_version}
        else:
            raise unknown(e)

    def _rate(self, e: LedgerAggregate.Event, rate_id: str) -> None:
        if isinstance(e, ExchangeRate.Recorded):
            record = {"id": rate_id, "rate": e.rate, "source": e.source, "version": e.originator_version}
            self.rates[(e.currency, e.month)] = record
        elif isinstance(e, ExchangeRate.Corrected):
            found = [key for key, record in self.rates.items() if record["id"] == rate_id]
            self.rates[found[0]] |= {"rate": e.rate, "source": e.source, "version": e.originator_version}
        else:
            raise unknown(e)

    # --- views, shaped like the read models -------------------------------------------------
    def budget(self) -> dict[Key, dict[str, Decimal]]:
        """Every budget line opened so far with its five figures; pending is the requested
        amount of the claims still submitted, on the FSTP line of the claim's partner."""
        figures = {key: dict(line, pending=ZERO) for key, line in self.lines.items()}
        for claim in self.claims.values():
            if claim.state == "submitted":
                line = figures.setdefault((claim.partner, FSTP), dict.fromkeys(MEASURES, ZERO))
                line["pending"] += claim.requested
        return figures

    def claims_by_state(self, *, sme_id: str | None = None, mission_id: str | None = None) -> dict[str, int]:
        counts = dict.fromkeys(CLAIM_STATES, 0)
        for claim in self.claims.values():
            if sme_id in (None, claim.sme_id) and mission_id in (None, claim.mission_id):
                counts[claim.state] += 1
        return counts

    def sme_missions(self) -> dict[Key, Record]:
        """Per SME and mission it was selected for: what its claims requested (every claim
        ever submitted) and are paid now (the claims' events), and the support approved
        (the SME's own events)."""
        figures: dict[Key, Record] = {}
        for sme_id, mission_id in sorted(self.selected):
            mission = self.missions[mission_id]
            requested = paid = ZERO
            for claim in self.claims.values():
                if (claim.sme_id, claim.mission_id) == (sme_id, mission_id):
                    requested += claim.requested
                    paid += claim.paid or ZERO
            figures[(sme_id, mission_id)] = {
                "mission_code": mission["code"],
                "cap": mission["cap_per_sme"],
                "requested": requested,
                "approved": self.support.get((sme_id, mission_id), ZERO),
                "paid": paid,
            }
        return figures

    def mission_currencies(self) -> dict[Key, tuple[Decimal, Decimal, Decimal]]:
        """Per mission and original currency: claimed on every submitted line, accepted on
        every approved line, and that accepted amount in EUR."""
        sums: dict[Key, list[Decimal]] = {}
        for claim in self.claims.values():
            for line in claim.lines:
                entry = sums.setdefault((claim.mission_id, line.currency), [Decimal(0), Decimal(0), ZERO])
                entry[0] += line.amount
                if line.accepted is not None and line.eur is not None:
                    entry[1] += line.accepted
                    entry[2] += line.eur
        return {key: (claimed, accepted, eur) for key, (claimed, accepted, eur) in sums.items()}

    def claim_lines(self) -> dict[tuple[str, int], Record]:
        return {
            (claim_id, no): {
                "cost_type": line.cost_type,
                "expense_date": line.expense_date,
                "currency": line.currency,
                "amount": line.amount,
                "receipt_ref": line.receipt_ref,
                "description": line.description,
                "accepted": line.accepted,
                "rate": line.rate,
                "rate_month": line.rate_month,
                "rate_source": line.rate_source,
                "eur": line.eur,
                "reason": line.reason,
                **dict(
                    zip(
                        ("estimate_rate", "estimate_rate_month", "estimate_rate_source", "estimate_eur"),
                        line.estimate or (None, None, None, None),
                        strict=True,
                    )
                ),
            }
            for claim_id, claim in self.claims.items()
            for no, line in enumerate(claim.lines, start=1)
        }

    def claim_history(self) -> dict[tuple[str, int], Record]:
        return {
            (claim_id, version): row
            for claim_id, claim in self.claims.items()
            for version, row in claim.history.items()
        }

    # --- the second derivation --------------------------------------------------------------
    def disagreements(self) -> list[str]:
        """Where the figures folded from each aggregate's own events differ from the same
        figures derived from the other aggregates' events. Only meaningful at a save
        boundary (e.g. the end of the log): in between, one save may be half applied."""
        found: list[str] = []
        committed: dict[str, Decimal] = {}
        paid: dict[str, Decimal] = {}
        for claim in self.claims.values():
            if claim.outstanding is not None and claim.paid is not None:
                committed[claim.partner] = committed.get(claim.partner, ZERO) + claim.outstanding
                paid[claim.partner] = paid.get(claim.partner, ZERO) + claim.paid
        spent: dict[Key, Decimal] = {}
        for cost in self.costs.values():
            key = (cost["partner"], cost["category"])
            spent[key] = spent.get(key, ZERO) + cost["eur"]
        for key, line in sorted(self.lines.items()):
            partner, category = key
            on_fstp = category == FSTP
            other = {
                "allocated": self.agreed.get(key, ZERO),
                "committed": committed.get(partner, ZERO) if on_fstp else ZERO,
                "paid": paid.get(partner, ZERO) if on_fstp else ZERO,
                "spent": spent.get(key, ZERO),
            }
            for measure, value in other.items():
                if line[measure] != value:
                    found.append(
                        f"line {partner} {category} {measure}: {line[measure]} from the line's events, "
                        f"{value} from the agreement, transfers, claims and costs"
                    )
        approved: dict[Key, Decimal] = {}
        for claim in self.claims.values():
            key = (claim.sme_id, claim.mission_id)
            approved[key] = approved.get(key, ZERO) + (claim.approved or ZERO) - claim.support_released
        for key in sorted(approved.keys() | self.support.keys()):
            from_claims, from_sme = approved.get(key, ZERO), self.support.get(key, ZERO)
            if from_claims != from_sme:
                found.append(f"SME x mission {key} approved: {from_sme} from the SME's events, {from_claims} by claims")
        for payment_id, payment in self.payments.items():
            claim = self.claims[payment["claim_id"]]
            live = payment_id in claim.live
            if live == payment["reversed"]:
                found.append(f"payment {payment_id} reversed={payment['reversed']} but claim is {claim.state}")
        return found


def fold(log: Iterable[Logged], *, stop: int | None = None, effective_on: date | None = None) -> Fold:
    """The fold of the logged events up to position ``stop`` (inclusive) and, when given,
    only of those whose business date is on or before ``effective_on``: for the events of a
    payment (its record and its corrections, the claim paid, the line's commitment paid),
    its value date as last corrected by then."""
    upto = [logged for logged in log if stop is None or logged.position <= stop]
    value_dates = {str(e.originator_id): e.value_date for _, _, e in upto if isinstance(e, Payment.RecordCorrected)}
    result = Fold()
    for logged in upto:
        if effective_on is not None and business_date(logged.event, value_dates) > effective_on:
            continue
        result.apply(logged)
    return result


def business_date(e: LedgerAggregate.Event, value_dates: dict[str, date]) -> date:
    """The event's business date, with a payment's value date as corrected (``value_dates``)."""
    if isinstance(e, Payment.Recorded | Payment.RecordCorrected):  # every correction of it, too
        return value_dates.get(str(e.originator_id), e.effective_date)
    if isinstance(e, BudgetLine.Paid | Claim.ReimbursementPaid):
        return value_dates.get(str(e.payment_id), e.effective_date)
    return e.effective_date


def effective_dates(log: Sequence[Logged]) -> list[date]:
    """Every distinct business date in the log, in order."""
    return sorted({logged.event.effective_date for logged in log})
