"""The grant and its budget lines: allocation, transfers, commitments, payments, own costs."""

from __future__ import annotations

from decimal import Decimal

from ledger.budget import BudgetLine, Transfer
from ledger.grant import Grant
from projections import tables as t
from projections.batch import MEASURES, Batch
from projections.handlers.common import handles, line_key


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
            "certificate_threshold": e.certificate_threshold.amount,
            "periods": 0,
        },
    )
    batch.insert(t.partners, [{"code": p.code, "name": p.name, "country": p.country} for p in e.partners])
    batch.insert(t.funding_rates, [{"category": c, "rate": rate} for c, rate in e.funding_rates.items()])


@handles(Grant.ReportingPeriodsSet)
def _periods_set(batch: Batch, e: Grant.ReportingPeriodsSet) -> None:
    grant = batch.get(t.grant, id=1)
    for number in range(1, grant["periods"] + 1):
        batch.delete(t.reporting_periods, {"number": number})
    batch.insert(
        t.reporting_periods,
        [{"number": p.number, "start": p.start, "end": p.end, "position": batch.position} for p in e.periods],
    )
    batch.set(t.grant, {"id": 1}, periods=len(e.periods))


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


@handles(Transfer.Made)
def _transfer_made(batch: Batch, e: Transfer.Made) -> None:
    batch.insert(
        t.transfers,
        {
            "id": str(e.originator_id),
            "from_partner": e.from_partner,
            "from_category": e.from_category,
            "to_partner": e.to_partner,
            "to_category": e.to_category,
            "amount": e.amount.amount,
            "decision_ref": e.decision_ref,
            "reason": e.reason,
            "effective_date": e.effective_date,
            "position": batch.position,
        },
    )


@handles(BudgetLine.TransferredOut)
def _transferred_out(batch: Batch, e: BudgetLine.TransferredOut) -> None:
    batch.move(line_key(batch, e), "allocated", -e.amount)


@handles(BudgetLine.TransferredIn)
def _transferred_in(batch: Batch, e: BudgetLine.TransferredIn) -> None:
    batch.move(line_key(batch, e), "allocated", e.amount)


@handles(BudgetLine.Committed)
def _committed(batch: Batch, e: BudgetLine.Committed) -> None:
    batch.move(line_key(batch, e), "committed", e.amount)


@handles(BudgetLine.Paid)
def _paid(batch: Batch, e: BudgetLine.Paid) -> None:
    line = line_key(batch, e)
    batch.move(line, "committed", -(e.amount + e.released))
    batch.move(line, "paid", e.amount, ref=e.payment_id)
    batch.set(t.payments, {"id": str(e.payment_id)}, released=e.released.amount)


@handles(BudgetLine.PaymentReturned)
def _payment_returned(batch: Batch, e: BudgetLine.PaymentReturned) -> None:
    line = line_key(batch, e)
    batch.move(line, "paid", -e.amount, ref=e.payment_id)
    batch.move(line, "committed", e.recommitted)


@handles(BudgetLine.Released)
def _released(batch: Batch, e: BudgetLine.Released) -> None:
    batch.move(line_key(batch, e), "committed", -e.amount)


@handles(BudgetLine.CostCharged)
def _cost_charged(batch: Batch, e: BudgetLine.CostCharged) -> None:
    batch.move(line_key(batch, e), "spent", e.amount, ref=e.cost_id)
