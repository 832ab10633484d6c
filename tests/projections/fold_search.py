"""The fold's predictions of the list and search read models (beside tests/projections/fold.py,
which is long enough): budget transfers from their events, and the searchable fields of every
SME, claim, payment and own cost from the folded records. Shares no code with projections/."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from ledger.budget import Transfer
from tests.projections.fold import Fold, Logged, Record, money

SearchKey = tuple[str, str, str, int]


def transfers(log: Iterable[Logged], *, stop: int) -> dict[str, Record]:
    """Every transfer made up to ``stop``: its lines, amount, decision, reason and date."""
    found: dict[str, Record] = {}
    for position, _topic, e in log:
        if position > stop:
            break
        if isinstance(e, Transfer.Made):
            found[str(e.originator_id)] = {
                "from_partner": e.from_partner,
                "from_category": e.from_category,
                "to_partner": e.to_partner,
                "to_category": e.to_category,
                "amount": money(e.amount),
                "decision_ref": e.decision_ref,
                "reason": e.reason,
                "effective_date": e.effective_date,
                "position": position,
            }
    return found


def _amount(value: Decimal) -> Record:
    return {"value": f"EUR {value:.2f}", "amount": value}


def search_rows(expected: Fold) -> dict[SearchKey, Record]:
    """(kind, record, field, line) -> the value shown and the EUR amount, for every field the
    search should find a record by: an SME's legal name and identifier; a claim's requested
    and (once approved) approved amount, each line's receipt, description (when not blank) and
    amount (when in EUR); a payment's bank reference and amount; a cost's document reference,
    EUR amount (as last corrected) and description (when not blank)."""
    rows: dict[SearchKey, Record] = {}
    for sme_id, sme in expected.smes.items():
        rows[("sme", sme_id, "legal_name", 0)] = {"value": sme["legal_name"], "amount": None}
        rows[("sme", sme_id, "identifier", 0)] = {"value": sme["identifier"], "amount": None}
    for claim_id, claim in expected.claims.items():
        rows[("claim", claim_id, "requested", 0)] = _amount(claim.requested)
        if claim.approved is not None:
            rows[("claim", claim_id, "approved", 0)] = _amount(claim.approved)
        for no, line in enumerate(claim.lines, start=1):
            rows[("claim", claim_id, "receipt_ref", no)] = {"value": line.receipt_ref, "amount": None}
            if line.description.strip():
                rows[("claim", claim_id, "description", no)] = {"value": line.description, "amount": None}
            if line.currency == "EUR":
                rows[("claim", claim_id, "line_amount", no)] = _amount(line.amount)
    for payment_id, payment in expected.payments.items():
        rows[("payment", payment_id, "bank_reference", 0)] = {"value": payment["bank_reference"], "amount": None}
        rows[("payment", payment_id, "amount", 0)] = _amount(payment["amount"])
    for cost_id, cost in expected.costs.items():
        rows[("cost", cost_id, "document_ref", 0)] = {"value": cost["document_ref"], "amount": None}
        rows[("cost", cost_id, "eur", 0)] = _amount(cost["eur"])
        if cost["description"].strip():
            rows[("cost", cost_id, "description", 0)] = {"value": cost["description"], "amount": None}
    return rows
