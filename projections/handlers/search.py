"""The search read model (``rm_search``): the fields each record can be found by.

Beside the books' own handlers of the same events (``handles`` composes them): an SME by its
legal name and identifier; a claim by each line's receipt reference and description and by
its requested and approved EUR amounts (and each EUR line's amount); a payment by its bank reference and amount; an own
cost by its document reference, description and EUR amount. projections/search.py queries it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from ledger.claim import Claim
from ledger.cost import Cost
from ledger.money import EUR
from ledger.payment import Payment
from ledger.sme import Sme
from projections import tables as t
from projections.batch import Batch
from projections.handlers.common import handles
from projections.search import reference_key, words

#: Rows one event may add to the index (the ``doc`` numbers of its rows stay apart).
_ROWS_PER_EVENT = 1024


class Field(NamedTuple):
    name: str
    value: str
    part: int = 0
    #: A reference or identifier: also found by its canonical form.
    reference: bool = False
    amount: Decimal | None = None


def _amount(name: str, amount: Decimal, part: int = 0) -> Field:
    return Field(name, f"EUR {amount:.2f}", part, amount=amount)


def _index(batch: Batch, kind: str, record_id: str, fields: list[Field], since: int | None = None) -> None:
    """Rows for the fields of a record, found from now on; ``since`` the record's first event."""
    if len(fields) > _ROWS_PER_EVENT:
        raise ValueError(f"{kind} {record_id}: {len(fields)} searchable fields in one event, at most {_ROWS_PER_EVENT}")
    batch.insert(
        t.search,
        [
            {
                "kind": kind,
                "record_id": record_id,
                "field": f.name,
                "part": f.part,
                "doc": batch.position * _ROWS_PER_EVENT + n,
                "position": batch.position if since is None else since,
                "value": f.value,
                "text": "" if f.amount is not None else words(f.value),
                "key": (reference_key(f.value) or None) if f.reference else None,
                "amount": f.amount,
            }
            for n, f in enumerate(fields)
        ],
    )


@handles(Sme.Registered)
def _sme_registered(batch: Batch, e: Sme.Registered) -> None:
    fields = [Field("legal_name", e.legal_name), Field("identifier", e.identifier, reference=True)]
    _index(batch, "sme", str(e.originator_id), fields)


@handles(Claim.Submitted)
def _claim_submitted(batch: Batch, e: Claim.Submitted) -> None:
    fields = [_amount("requested", e.requested.amount)]
    for no, line in enumerate(e.lines, start=1):
        fields.append(Field("receipt_ref", line.receipt_ref, no, reference=True))
        if line.amount.currency == EUR:
            fields.append(_amount("line_amount", line.amount.amount, no))
        if line.description.strip():
            fields.append(Field("description", line.description, no))
    _index(batch, "claim", str(e.originator_id), fields)


@handles(Claim.Approved)
def _claim_approved(batch: Batch, e: Claim.Approved) -> None:
    claim_id = str(e.originator_id)
    first = batch.get(t.search, kind="claim", record_id=claim_id, field="requested", part=0)
    _index(batch, "claim", claim_id, [_amount("approved", e.approved.amount)], since=first.position)


@handles(Payment.Recorded)
def _payment_recorded(batch: Batch, e: Payment.Recorded) -> None:
    fields = [Field("bank_reference", e.bank_reference, reference=True), _amount("amount", e.amount.amount)]
    _index(batch, "payment", str(e.originator_id), fields)


@handles(Cost.Recorded)
def _cost_recorded(batch: Batch, e: Cost.Recorded) -> None:
    fields = [Field("document_ref", e.document_ref, reference=True), _amount("eur", e.eur.amount)]
    if e.description.strip():
        fields.append(Field("description", e.description))
    _index(batch, "cost", str(e.originator_id), fields)


@handles(Cost.Corrected)
def _cost_corrected(batch: Batch, e: Cost.Corrected) -> None:
    where = {"kind": "cost", "record_id": str(e.originator_id), "field": "eur", "part": 0}
    batch.set(t.search, where, value=f"EUR {e.eur.amount:.2f}", amount=e.eur.amount)


@handles(Claim.ApprovalRevoked)
def _approval_revoked(batch: Batch, e: Claim.ApprovalRevoked) -> None:
    """A revoked approval's amount no longer finds the claim (a new approval indexes its own)."""
    batch.delete(t.search, {"kind": "claim", "record_id": str(e.originator_id), "field": "approved", "part": 0})


@handles(Sme.RegistrationCorrected)
def _sme_corrected(batch: Batch, e: Sme.RegistrationCorrected) -> None:
    where = {"kind": "sme", "record_id": str(e.originator_id), "field": "legal_name", "part": 0}
    batch.set(t.search, where, value=e.legal_name, text=words(e.legal_name))


@handles(Payment.RecordCorrected)
def _payment_corrected(batch: Batch, e: Payment.RecordCorrected) -> None:
    where = {"kind": "payment", "record_id": str(e.originator_id), "field": "bank_reference", "part": 0}
    batch.set(
        t.search,
        where,
        value=e.bank_reference,
        text=words(e.bank_reference),
        key=reference_key(e.bank_reference) or None,
    )
