"""Payments, own costs and exchange rates."""

from __future__ import annotations

from decimal import Decimal

from ledger.cost import Cost
from ledger.money import EUR, Money
from ledger.payment import Payment
from ledger.rates import ExchangeRate
from projections import tables as t
from projections.batch import Batch
from projections.handlers.common import FSTP, handles


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
            "released": Decimal("0.00"),
            "reversed": False,
            "reversal_reason": "",
        },
    )


@handles(Payment.Reversed)
def _payment_reversed(batch: Batch, e: Payment.Reversed) -> None:
    batch.set(t.payments, {"id": str(e.originator_id)}, reversed=True, reversal_reason=e.reason)


@handles(Payment.RecordCorrected)
def _payment_corrected(batch: Batch, e: Payment.RecordCorrected) -> None:
    """The corrected record; a new value date moves the payment's movements on the budget line
    (its commitment out, its amount into paid) from the old business date to the new one."""
    row = batch.get(t.payments, id=str(e.originator_id))
    if row.value_date != e.value_date:
        line = (row.partner, FSTP)
        paid = Money(row.amount, EUR)
        released = paid + Money(row.released, EUR)
        batch.move(line, "committed", released, on=row.value_date)
        batch.move(line, "paid", -paid, on=row.value_date, ref=e.originator_id)
        batch.move(line, "committed", -released, on=e.value_date)
        batch.move(line, "paid", paid, on=e.value_date, ref=e.originator_id)
    batch.set(t.payments, {"id": row.id}, bank_reference=e.bank_reference, value_date=e.value_date)


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
    row = batch.get(t.rates, id=str(e.originator_id))
    where = {"currency": row.currency, "month": row.month}
    batch.set(t.rates, where, rate=e.rate, source=e.source, version=e.originator_version)
