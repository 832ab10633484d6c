"""A small ledger with supporting documents, for the read-side document tests, on any store.

Two reporting periods. POINTEX: a cost in period 1 with its invoice, a cost in period 2 without
one; a claim of two lines (a hotel receipt attached at submission and later superseded by a
better scan, a taxi receipt attached afterwards) approved and paid in period 2; a rejected claim
and a pending claim, neither with a document. NTT: a cost in period 2 with its invoice."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from ledger.application import GrantLedger
from ledger.documents import Upload
from ledger.storage import open_ledger
from projections.db import ReadDatabase, read_url_for
from projections.projector import Projector
from tests import samples
from tests.builders import (
    COORDINATOR,
    PERIOD_END,
    PERIOD_START,
    eur,
    eur_line,
    grant_terms,
    officer,
    open_mission,
    selected_sme,
)

POINTEX = officer("POINTEX")
NTT = officer("NTT")
FIRST, SECOND = (PERIOD_START, date(2022, 8, 31)), (date(2022, 9, 1), PERIOD_END)
PAID_ON = date(2023, 4, 10)


def pdf(name: str) -> Upload:
    """A small PDF named ``name``.pdf, its bytes unique to the name."""
    return Upload(f"{name}.pdf", samples.pdf(name))


def png(name: str) -> Upload:
    """A small PNG named ``name``.png, its bytes unique to the name."""
    return Upload(f"{name}.png", samples.png(name))


def digest(upload: Upload) -> str:
    return hashlib.sha256(upload.data).hexdigest()


HOTEL, HOTEL_RESCAN, TAXI = pdf("hotel"), pdf("hotel-rescan"), png("taxi")
INVOICE, NTT_INVOICE = pdf("invoice-a"), pdf("invoice-ntt")


@dataclass
class Documented:
    """The ids of what was recorded."""

    claims: dict[str, UUID] = field(default_factory=dict)
    costs: dict[str, UUID] = field(default_factory=dict)
    payment: UUID = field(default_factory=uuid.uuid4)


def _cost(app: GrantLedger, partner: str, category: str, on: date, ref: str, *uploads: Upload) -> UUID:
    return app.record_cost(
        actor=officer(partner),
        cost_id=uuid.uuid4(),
        partner=partner,
        category=category,
        amount=eur("1000.00"),
        document_ref=ref,
        description=f"{category.lower()} cost",
        on=on,
        documents=uploads,
    )


def record(app: GrantLedger) -> Documented:
    """Record the story (see the module's docstring)."""
    found = Documented()
    app.sign_grant(**grant_terms())
    app.set_reporting_periods(actor=COORDINATOR, periods=[FIRST, SECOND], reason="GA Annex 1", on=PERIOD_START)
    found.costs["invoiced"] = _cost(app, "POINTEX", "PERSONNEL", date(2022, 3, 1), "INV-A", INVOICE)
    found.costs["bare"] = _cost(app, "POINTEX", "TRAVEL", date(2022, 10, 1), "INV-B")
    found.costs["ntt"] = _cost(app, "NTT", "TRAVEL", date(2022, 10, 2), "INV-N", NTT_INVOICE)
    mission = open_mission(app)
    for key in ("paid", "rejected", "pending"):
        lines = [eur_line("600.00", f"HOTEL-{key}", "ACCOMMODATION")]
        if key == "paid":
            lines.append(eur_line("400.00", "TAXI-1"))
        found.claims[key] = app.submit_claim(
            actor=POINTEX,
            claim_id=uuid.uuid4(),
            sme_id=selected_sme(app, mission),
            mission_id=mission,
            lines=lines,
            on=date(2023, 4, 1),
            documents={1: [HOTEL]} if key == "paid" else {},
        )
    paid = found.claims["paid"]
    app.attach_to_claim(actor=POINTEX, claim_id=paid, line=2, uploads=[TAXI])
    app.supersede_document(
        actor=POINTEX, holder_id=paid, sha256=digest(HOTEL), reason="illegible scan", replacement=HOTEL_RESCAN
    )
    app.reject_claim(actor=POINTEX, claim_id=found.claims["rejected"], reason="not selected", on=date(2023, 4, 3))
    app.approve_claim(actor=POINTEX, claim_id=paid, on=date(2023, 4, 5))
    app.record_payment(
        actor=POINTEX,
        payment_id=found.payment,
        claim_id=paid,
        amount=eur("700.00"),
        bank_reference="SEPA-1",
        on=PAID_ON,
    )
    return found


@contextmanager
def documented(store_url: str, cipher_key: str | None = None) -> Iterator[tuple[GrantLedger, ReadDatabase, Documented]]:
    """The story recorded on ``store_url`` (encrypted with ``cipher_key``, if given) and
    projected into its read models."""
    app = open_ledger(store_url, cipher_key)
    db = ReadDatabase(read_url_for(store_url, environ={}))
    try:
        found = record(app)
        Projector(app, db).catch_up()
        yield app, db, found
    finally:
        db.close()
        app.close()
