"""How each event changes the read models: one small function per event type.

A ``Batch`` is the unit of work of one projector transaction. Handlers write the rows of
their own event at once (later events in the same batch may read them); audit rows, budget
movements and the running budget-line figures are collected and written together when the
batch is flushed, just before the tracking position, in the same transaction.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from sqlalchemy import Connection, Insert, Select, Table, Update, bindparam, insert, select, update

from ledger.budget import BudgetLine
from ledger.claim import Claim
from ledger.cost import Cost
from ledger.grant import Category, Grant
from ledger.mission import Mission
from ledger.money import EUR, Money
from ledger.payment import Payment
from ledger.rates import ExchangeRate
from ledger.sme import Sme
from projections import tables as t

FSTP = Category.FSTP.value
#: Budget line figures, as stored in rm_budget_lines and rm_budget_movements.
MEASURES = ("allocated", "pending", "committed", "paid", "spent")
#: Fields every ledger event has; the audit trail keeps them in columns, the rest is payload.
_ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "actor", "effective_date"})

E = TypeVar("E")
Handler = Callable[["Batch", Any], None]
HANDLERS: dict[type, Handler] = {}


def handles(*event_types: type[E]) -> Callable[[Callable[[Batch, E], None]], Callable[[Batch, E], None]]:
    def register(handler: Callable[[Batch, E], None]) -> Callable[[Batch, E], None]:
        for event_type in event_types:
            HANDLERS[event_type] = handler
        return handler

    return register


def plain(value: Any) -> Any:
    """An event field as JSON-ready data: money as decimal strings with currency, never a float."""
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def payload_of(event: Any) -> str:
    fields = {k: plain(v) for k, v in vars(event).items() if k not in _ENVELOPE}
    return json.dumps(fields, sort_keys=True, separators=(",", ":"))


@functools.cache
def _insert(table: Table) -> Insert:
    return insert(table)


@functools.cache
def _update(table: Table, keys: tuple[str, ...], columns: tuple[str, ...], increment: bool) -> Update:
    """UPDATE table SET col = :v_col (or col + :v_col) WHERE key = :k_key ..., compiled once."""
    c = table.c
    values = {col: (c[col] + bindparam(f"v_{col}")) if increment else bindparam(f"v_{col}") for col in columns}
    return update(table).where(*(c[k] == bindparam(f"k_{k}") for k in keys)).values(values)


@functools.cache
def _select(table: Table, keys: tuple[str, ...]) -> Select[Any]:
    return select(table).where(*(table.c[k] == bindparam(f"k_{k}") for k in keys))


class Batch:
    """One projector transaction: the connection, the event being applied, and pending rows."""

    def __init__(self, conn: Connection, line_keys: dict[UUID, tuple[str, str]]) -> None:
        self.conn = conn
        self.line_keys = line_keys
        self.position = 0
        self.event: Any = None
        self._audit: list[dict[str, Any]] = []
        self._history: list[dict[str, Any]] = []
        self._movements: list[dict[str, Any]] = []
        self._seq = 0
        self._line_deltas: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(dict)

    def apply(self, position: int, event: DomainEventProtocol[UUID]) -> None:
        self.position, self.event, self._seq = position, event, 0
        self._audit.append(self._audit_row(event))
        handler = HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    def _audit_row(self, event: Any) -> dict[str, Any]:
        aggregate_type, _, event_type = type(event).__qualname__.partition(".")
        actor = event.actor
        return {
            "position": self.position,
            "recorded_at": event.timestamp,
            "effective_date": event.effective_date,
            "actor_id": actor.id,
            "role": actor.role,
            "partner": actor.partner,
            "aggregate_type": aggregate_type,
            "aggregate_id": str(event.originator_id),
            "version": event.originator_version,
            "event_type": event_type or aggregate_type,
            "reason": getattr(event, "reason", ""),
            "payload": payload_of(event),
        }

    def move(self, line: tuple[str, str], measure: str, delta: Money) -> None:
        """Change one figure of a budget line by ``delta`` (EUR), remembering when and why."""
        self._seq += 1
        self._movements.append(
            {
                "position": self.position,
                "seq": self._seq,
                "recorded_at": self.event.timestamp,
                "effective_date": self.event.effective_date,
                "partner": line[0],
                "category": line[1],
                "measure": measure,
                "delta": delta.amount,
            }
        )
        deltas = self._line_deltas[line]
        deltas[measure] = deltas.get(measure, Decimal(0)) + delta.amount

    def history(self, claim_id: UUID, amount: Money | None = None) -> None:
        """A row in the claim's history for the current event (written when the batch flushes)."""
        event = self.event
        self._history.append(
            {
                "claim_id": str(claim_id),
                "version": event.originator_version,
                "position": self.position,
                "event_type": type(event).__name__,
                "recorded_at": event.timestamp,
                "effective_date": event.effective_date,
                "actor_id": event.actor.id,
                "role": event.actor.role,
                "amount": None if amount is None else amount.amount,
                "reason": getattr(event, "reason", ""),
            }
        )

    # Statements are built once per shape and executed with parameters: building SQLAlchemy
    # constructs per event costs more than running them.
    def insert(self, table: Table, rows: dict[str, Any] | list[dict[str, Any]]) -> None:
        self.conn.execute(_insert(table), rows)

    def set(self, table: Table, where: dict[str, Any], **values: Any) -> None:
        """Set columns of the row(s) matching ``where``."""
        statement = _update(table, tuple(where), tuple(values), False)
        self.conn.execute(statement, {f"k_{k}": v for k, v in where.items()} | {f"v_{k}": v for k, v in values.items()})

    def add(self, table: Table, where: dict[str, Any], **deltas: Any) -> None:
        """Add to columns of the row(s) matching ``where``."""
        statement = _update(table, tuple(where), tuple(deltas), True)
        self.conn.execute(statement, {f"k_{k}": v for k, v in where.items()} | {f"v_{k}": v for k, v in deltas.items()})

    def get(self, table: Table, **where: Any) -> Any:
        """The row matching ``where``, or None."""
        return self.conn.execute(_select(table, tuple(where)), {f"k_{k}": v for k, v in where.items()}).one_or_none()

    def flush(self) -> None:
        """Write what was collected: audit rows, movements, and the budget lines' new figures."""
        for table, rows in ((t.audit, self._audit), (t.movements, self._movements), (t.claim_history, self._history)):
            if rows:
                self.insert(table, rows)
        for (partner, category), deltas in self._line_deltas.items():
            changed = {measure: delta for measure, delta in deltas.items() if delta}
            if changed:
                self.add(t.budget_lines, {"partner": partner, "category": category}, **changed)
        self._audit, self._movements, self._history, self._line_deltas = [], [], [], defaultdict(dict)


def _line(batch: Batch, event: Any) -> tuple[str, str]:
    """The (partner, category) of a budget line event (another projector may have opened it)."""
    key = batch.line_keys.get(event.originator_id)
    if key is None:
        row = batch.get(t.budget_lines, line_id=str(event.originator_id))
        key = batch.line_keys[event.originator_id] = (row.partner, row.category)
    return key


def _claim_row(batch: Batch, claim_id: UUID) -> Any:
    return batch.get(t.claims, id=str(claim_id))


def _update_claim(batch: Batch, event: Any, **values: Any) -> None:
    batch.set(
        t.claims, {"id": str(event.originator_id)}, version=event.originator_version, position=batch.position, **values
    )


def _add_to_sme_mission(batch: Batch, sme_id: UUID, mission_id: UUID, column: str, amount: Money) -> None:
    batch.add(t.sme_missions, {"sme_id": str(sme_id), "mission_id": str(mission_id)}, **{column: amount.amount})


# --- the grant and its budget lines ------------------------------------------------------
@handles(Grant.Signed)
def _grant_signed(batch: Batch, e: Grant.Signed) -> None:
    batch.insert(
        t.grant,
        {
            "id": 1,
            "code": e.code,
            "title": e.title,
            "total": e.total.amount,
            "funding_rate": e.funding_rate,
            "eu_cap": e.eu_cap.amount,
            "period_start": e.period_start,
            "period_end": e.period_end,
            "coordinator": e.coordinator,
            "indirect_rate": e.indirect_rate,
            "sme_support_cap": e.sme_support_cap.amount,
            "decision_ref": e.decision_ref,
            "signed_on": e.effective_date,
            "position": batch.position,
        },
    )
    batch.insert(t.partners, [{"code": p.code, "name": p.name, "country": p.country} for p in e.partners])


@handles(BudgetLine.Opened)
def _line_opened(batch: Batch, e: BudgetLine.Opened) -> None:
    key = (e.partner, e.category)
    batch.line_keys[e.originator_id] = key
    zero = Decimal("0.00")
    batch.insert(
        t.budget_lines,
        dict(
            partner=e.partner,
            category=e.category,
            line_id=str(e.originator_id),
            **dict.fromkeys(MEASURES, zero),
        ),
    )
    batch.move(key, "allocated", e.allocated)


@handles(BudgetLine.TransferredOut)
def _transferred_out(batch: Batch, e: BudgetLine.TransferredOut) -> None:
    batch.move(_line(batch, e), "allocated", -e.amount)


@handles(BudgetLine.TransferredIn)
def _transferred_in(batch: Batch, e: BudgetLine.TransferredIn) -> None:
    batch.move(_line(batch, e), "allocated", e.amount)


@handles(BudgetLine.Committed)
def _committed(batch: Batch, e: BudgetLine.Committed) -> None:
    batch.move(_line(batch, e), "committed", e.amount)


@handles(BudgetLine.Paid)
def _paid(batch: Batch, e: BudgetLine.Paid) -> None:
    line = _line(batch, e)
    batch.move(line, "committed", -(e.amount + e.released))
    batch.move(line, "paid", e.amount)


@handles(BudgetLine.PaymentReturned)
def _payment_returned(batch: Batch, e: BudgetLine.PaymentReturned) -> None:
    line = _line(batch, e)
    batch.move(line, "paid", -e.amount)
    batch.move(line, "committed", e.recommitted)


@handles(BudgetLine.CostCharged)
def _cost_charged(batch: Batch, e: BudgetLine.CostCharged) -> None:
    batch.move(_line(batch, e), "spent", e.amount)


# --- missions and SMEs -------------------------------------------------------------------
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
    _add_to_sme_mission(batch, e.originator_id, e.mission_id, "approved", e.amount)


# --- claims ------------------------------------------------------------------------------
def _add_to_mission_currency(batch: Batch, mission_id: str, currency: str, **amounts: Decimal) -> None:
    where = {"mission_id": mission_id, "currency": currency}
    row = batch.get(t.mission_currencies, **where)
    if row is None:
        zero = {"claimed": Decimal(0), "accepted": Decimal(0), "accepted_eur": Decimal("0.00")}
        batch.insert(t.mission_currencies, where | zero | amounts)
    else:
        batch.set(t.mission_currencies, where, **{k: getattr(row, k) + v for k, v in amounts.items()})


@handles(Claim.Submitted)
def _claim_submitted(batch: Batch, e: Claim.Submitted) -> None:
    claim_id = str(e.originator_id)
    batch.insert(
        t.claims,
        {
            "id": claim_id,
            "sme_id": str(e.sme_id),
            "mission_id": str(e.mission_id),
            "partner": e.partner,
            "state": "submitted",
            "submitted_on": e.effective_date,
            "requested": e.requested.amount,
            "reason": "",
            "version": e.originator_version,
            "position": batch.position,
        },
    )
    batch.insert(
        t.claim_lines,
        [
            {
                "claim_id": claim_id,
                "line_no": no,
                "cost_type": line.cost_type,
                "expense_date": line.expense_date,
                "currency": line.amount.currency,
                "amount": line.amount.amount,
                "receipt_ref": line.receipt_ref,
                "description": line.description,
                "reason": "",
            }
            for no, line in enumerate(e.lines, start=1)
        ],
    )
    for line in e.lines:
        _add_to_mission_currency(batch, str(e.mission_id), line.amount.currency, claimed=line.amount.amount)
    _add_to_sme_mission(batch, e.sme_id, e.mission_id, "requested", e.requested)
    batch.move((e.partner, FSTP), "pending", e.requested)
    batch.history(e.originator_id, e.requested)


def _decided(batch: Batch, e: Any, state: str, **values: Any) -> Any:
    """The claim leaves 'submitted': its request is no longer pending."""
    claim = _claim_row(batch, e.originator_id)
    _update_claim(batch, e, state=state, decided_on=e.effective_date, reason=e.reason, **values)
    batch.move((claim.partner, FSTP), "pending", -Money(claim.requested, EUR))
    return claim


@handles(Claim.Approved)
def _claim_approved(batch: Batch, e: Claim.Approved) -> None:
    claim = _decided(
        batch,
        e,
        "approved",
        approved=e.approved.amount,
        eligible_eur=e.eligible_eur.amount,
        capped_by=e.capped_by,
    )
    for line in e.lines:
        batch.set(
            t.claim_lines,
            {"claim_id": claim.id, "line_no": line.line_no},
            accepted=line.accepted.amount,
            rate=line.rate,
            rate_month=line.rate_month,
            rate_source=line.rate_source,
            eur=line.eur.amount,
            reason=line.reason,
        )
        _add_to_mission_currency(
            batch,
            claim.mission_id,
            line.accepted.currency,
            accepted=line.accepted.amount,
            accepted_eur=line.eur.amount,
        )
    batch.history(e.originator_id, e.approved)


@handles(Claim.Rejected)
def _claim_rejected(batch: Batch, e: Claim.Rejected) -> None:
    _decided(batch, e, "rejected")
    batch.history(e.originator_id)


@handles(Claim.Withdrawn)
def _claim_withdrawn(batch: Batch, e: Claim.Withdrawn) -> None:
    _decided(batch, e, "withdrawn")
    batch.history(e.originator_id)


@handles(Claim.ReimbursementPaid)
def _claim_paid(batch: Batch, e: Claim.ReimbursementPaid) -> None:
    claim = _claim_row(batch, e.originator_id)
    _update_claim(batch, e, state="paid", paid=e.amount.amount, payment_id=str(e.payment_id))
    _add_to_sme_mission(batch, UUID(claim.sme_id), UUID(claim.mission_id), "paid", e.amount)
    batch.history(e.originator_id, e.amount)


@handles(Claim.PaymentReversed)
def _claim_payment_reversed(batch: Batch, e: Claim.PaymentReversed) -> None:
    claim = _claim_row(batch, e.originator_id)
    _update_claim(batch, e, state="approved", paid=None, payment_id=None, reason=e.reason)
    _add_to_sme_mission(batch, UUID(claim.sme_id), UUID(claim.mission_id), "paid", -e.amount)
    batch.history(e.originator_id, e.amount)


# --- payments, costs, rates ----------------------------------------------------------------
@handles(Payment.Recorded)
def _payment_recorded(batch: Batch, e: Payment.Recorded) -> None:
    batch.insert(
        t.payments,
        {
            "id": str(e.originator_id),
            "claim_id": str(e.claim_id),
            "partner": e.partner,
            "amount": e.amount.amount,
            "bank_reference": e.bank_reference,
            "value_date": e.effective_date,
            "reversed": False,
            "reversal_reason": "",
        },
    )


@handles(Payment.Reversed)
def _payment_reversed(batch: Batch, e: Payment.Reversed) -> None:
    batch.set(t.payments, {"id": str(e.originator_id)}, reversed=True, reversal_reason=e.reason)


@handles(Cost.Recorded)
def _cost_recorded(batch: Batch, e: Cost.Recorded) -> None:
    batch.insert(
        t.costs,
        {
            "id": str(e.originator_id),
            "partner": e.partner,
            "category": e.category,
            "currency": e.amount.currency,
            "amount": e.amount.amount,
            "eur": e.eur.amount,
            "cost_date": e.effective_date,
            "document_ref": e.document_ref,
            "description": e.description,
            "version": e.originator_version,
        },
    )


@handles(Cost.Corrected)
def _cost_corrected(batch: Batch, e: Cost.Corrected) -> None:
    batch.set(
        t.costs, {"id": str(e.originator_id)}, amount=e.amount.amount, eur=e.eur.amount, version=e.originator_version
    )


@handles(ExchangeRate.Recorded)
def _rate_recorded(batch: Batch, e: ExchangeRate.Recorded) -> None:
    batch.insert(
        t.rates,
        {
            "id": str(e.originator_id),
            "currency": e.currency,
            "month": e.month,
            "rate": e.rate,
            "source": e.source,
            "version": e.originator_version,
        },
    )


@handles(ExchangeRate.Corrected)
def _rate_corrected(batch: Batch, e: ExchangeRate.Corrected) -> None:
    batch.set(t.rates, {"id": str(e.originator_id)}, rate=e.rate, source=e.source, version=e.originator_version)
