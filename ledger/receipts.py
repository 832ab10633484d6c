"""The receipt index: a receipt or supporting document is declared once across the ledger.

One index aggregate per canonical reference (uuid5 id, ``ledger.ids.canonical_key``), so two commands that declare the
same receipt at the same time collide on the index's version and one of them is refused
(invariant 5). A receipt is released when the claim or cost that held it is rejected or
withdrawn without being funded, so the SME can declare it again in a corrected claim; it
is never released once money was approved against it.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from ledger.actors import Actor
from ledger.base import LedgerAggregate
from ledger.errors import Refused
from ledger.ids import canonical_key, legacy_key, natural_id
from ledger.text import clean_optional, clean_text


class ReceiptAlreadyUsed(Refused):
    title = "Receipt already declared"


def receipt_id(reference: str) -> UUID:
    """The index of a reference in its canonical form ("INV 2023-001" is "inv2023001")."""
    return natural_id("receipt", canonical_key(reference, "receipt reference"))


def legacy_receipt_id(reference: str) -> UUID:
    """Where the index of this reference was recorded before canonical keys."""
    return natural_id("receipt", legacy_key(reference))


class ReceiptIndex(LedgerAggregate):
    class Declared(LedgerAggregate.Created):
        reference: str
        holder_kind: str
        holder_id: UUID

        def apply(self, index: ReceiptIndex) -> None:
            index.reference = self.reference
            index.holder_kind = self.holder_kind
            index.holder_id = self.holder_id

    class Redeclared(LedgerAggregate.Event):
        holder_kind: str
        holder_id: UUID

        def apply(self, index: ReceiptIndex) -> None:
            index.holder_kind = self.holder_kind
            index.holder_id = self.holder_id

    class Released(LedgerAggregate.Event):
        holder_id: UUID
        reason: str

        def apply(self, index: ReceiptIndex) -> None:
            index.holder_id = None

    if TYPE_CHECKING:
        reference: str
        holder_kind: str
        holder_id: UUID | None

    @classmethod
    def declare_new(cls, *, actor: Actor, reference: str, holder_kind: str, holder_id: UUID, on: date) -> ReceiptIndex:
        return cls._create(
            cls.Declared,
            id=receipt_id(reference),
            actor=actor,
            effective_date=on,
            reference=clean_text(reference, "receipt reference"),
            holder_kind=holder_kind,
            holder_id=holder_id,
        )

    def require_free(self, line: str) -> None:
        """Refuse while a live claim or cost holds this receipt."""
        if self.holder_id is not None:
            raise ReceiptAlreadyUsed(
                f"{line}: receipt {self.reference!r} is already declared on {self.holder_kind} "
                f"{self.holder_id}; a receipt may be funded once only. Use a different "
                "supporting document, or withdraw the other claim first"
            )

    def declare_again(self, *, actor: Actor, holder_kind: str, holder_id: UUID, on: date, line: str) -> None:
        self.require_free(line)
        self.trigger_event(
            self.Redeclared, actor=actor, effective_date=on, holder_kind=holder_kind, holder_id=holder_id
        )

    def release(self, *, actor: Actor, holder_id: UUID, reason: str, on: date) -> None:
        if self.holder_id == holder_id:
            reason = clean_optional(reason, "reason", multiline=True)
            self.trigger_event(self.Released, actor=actor, effective_date=on, holder_id=holder_id, reason=reason)
