"""A small ledger whose records the list and search tests look for, on any store.

Three SMEs (one with accents, two whose names share a prefix), four claims (one rejected, one
paid, one paid and reversed, one pending), own costs of two partners, JPY and USD rates over
three months, and two budget transfers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from uuid import UUID

from ledger.application import GrantLedger
from ledger.claim import ExpenseLine
from ledger.money import Money
from ledger.storage import open_ledger
from projections.db import ReadDatabase, read_url_for
from projections.projector import Projector
from tests.builders import COORDINATOR, eur, officer, open_mission, sign_alliance

POINTEX = officer("POINTEX")
NTT = officer("NTT")


@dataclass
class Findable:
    """The ids of what was recorded."""

    mission: UUID
    smes: dict[str, UUID] = field(default_factory=dict)
    claims: dict[str, UUID] = field(default_factory=dict)
    payments: dict[str, UUID] = field(default_factory=dict)
    costs: dict[str, UUID] = field(default_factory=dict)
    transfers: dict[str, UUID] = field(default_factory=dict)


def _sme(app: GrantLedger, found: Findable, key: str, name: str, country: str, identifier: str) -> UUID:
    sme_id = found.smes[key] = uuid.uuid4()
    app.register_sme(
        actor=POINTEX, sme_id=sme_id, legal_name=name, country=country, identifier=identifier, on=date(2022, 12, 5)
    )
    app.select_sme(actor=POINTEX, mission_id=found.mission, sme_id=sme_id, on=date(2022, 12, 6))
    return sme_id


def _claim(app: GrantLedger, found: Findable, key: str, sme: str, *lines: ExpenseLine) -> UUID:
    claim_id = found.claims[key] = uuid.uuid4()
    app.submit_claim(
        actor=POINTEX,
        claim_id=claim_id,
        sme_id=found.smes[sme],
        mission_id=found.mission,
        lines=list(lines),
        on=date(2023, 4, 1),
    )
    return claim_id


def _line(amount: str, receipt: str, description: str, currency: str = "EUR") -> ExpenseLine:
    return ExpenseLine("TRAVEL", date(2023, 3, 14), Money(Decimal(amount), currency), receipt, description)


def _pay(app: GrantLedger, found: Findable, claim: str, amount: str, reference: str, on: date) -> UUID:
    app.approve_claim(actor=POINTEX, claim_id=found.claims[claim], on=date(2023, 4, 10))
    payment_id = found.payments[claim] = uuid.uuid4()
    app.record_payment(
        actor=POINTEX,
        payment_id=payment_id,
        claim_id=found.claims[claim],
        amount=eur(amount),
        bank_reference=reference,
        on=on,
    )
    return payment_id


def record(app: GrantLedger) -> Findable:
    sign_alliance(app)
    found = Findable(mission=open_mission(app))
    for currency, month, rate in (
        ("JPY", "2023-01", "141.20"),
        ("JPY", "2023-02", "142.50"),
        ("JPY", "2023-03", "144.83"),
        ("USD", "2023-03", "1.0987"),
    ):
        app.record_rate(actor=POINTEX, currency=currency, month=month, rate=Decimal(rate))
    _sme(app, found, "ferrari", "Ferrari Tessuti S.p.A.", "IT", "IT 0987-654")
    _sme(app, found, "ferro", "Ferrovia Compositi S.r.l.", "IT", "IT11122233344")
    _sme(app, found, "creme", "Crème Légère Textiles SAS", "FR", "FR41852369741")
    # 1234.50 x 70% = 864.15 approved and paid
    _claim(app, found, "paid", "ferrari", _line("1234.50", "RCPT-77 A", "flight Milan-Tokyo"))
    _pay(app, found, "paid", "864.15", "SEPA 2023/0412", date(2023, 4, 20))
    _claim(app, found, "reversed", "ferro", _line("100.00", "HTL-0001", "hotel Shinjuku"))
    reversed_payment = _pay(app, found, "reversed", "70.00", "SEPA-RET-9", date(2023, 4, 22))
    app.reverse_payment(actor=POINTEX, payment_id=reversed_payment, reason="IBAN closed", on=date(2023, 4, 25))
    _claim(app, found, "rejected", "creme", _line("50.00", "TAXI-5", "taxi to the fair"))
    app.reject_claim(actor=POINTEX, claim_id=found.claims["rejected"], reason="not eligible", on=date(2023, 4, 11))
    _claim(
        app, found, "pending", "creme", _line("14483", "JP-STAND-3", "stand at DSEI", "JPY"), _line("20.00", "R-2", "")
    )
    for key, actor, partner, category, amount, ref, description, on in (
        ("ntt-travel", NTT, "NTT", "TRAVEL", "410.00", "NTT-TKT-1", "train to Prato", date(2023, 2, 3)),
        ("ntt-equipment", NTT, "NTT", "EQUIPMENT", "2500.00", "NTT-INV-7", "loom sensor", date(2023, 3, 9)),
        ("pointex-travel", POINTEX, "POINTEX", "TRAVEL", "99.90", "PTX-77", "Crème café meeting", date(2023, 1, 15)),
    ):
        cost_id = found.costs[key] = uuid.uuid4()
        app.record_cost(
            actor=actor,
            cost_id=cost_id,
            partner=partner,
            category=category,
            amount=eur(amount),
            document_ref=ref,
            description=description,
            on=on,
        )
    for key, source, target, amount, ref, on in (
        ("early", ("NIDV", "PERSONNEL"), ("NIDV", "FSTP"), "5000.00", "SC-2022-03", date(2022, 11, 15)),
        ("late", ("SIIT", "TRAVEL"), ("POINTEX", "FSTP"), "1200.00", "SC-2023-01", date(2023, 2, 1)),
    ):
        transfer_id = found.transfers[key] = uuid.uuid4()
        app.transfer_budget(
            actor=COORDINATOR,
            transfer_id=transfer_id,
            from_partner=source[0],
            from_category=source[1],
            to_partner=target[0],
            to_category=target[1],
            amount=eur(amount),
            decision_ref=ref,
            reason=f"steering committee {ref}",
            on=on,
        )
    return found


@contextmanager
def projected(url: str) -> Iterator[tuple[GrantLedger, ReadDatabase, Findable]]:
    """The ledger recorded on ``url``, projected into its read models."""
    app = open_ledger(url)
    db = ReadDatabase(read_url_for(url, environ={}))
    try:
        found = record(app)
        Projector(app, db).catch_up()
        yield app, db, found
    finally:
        db.close()
        app.close()
