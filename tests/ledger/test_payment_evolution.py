"""Payments recorded before partial payments keep their meaning (upcasting, docs/domain.md).

Before, a payment closed its claim and released the shortfall on the budget line
(BudgetLine.Paid.released = approved - amount), and a reversal committed the whole approved
amount again (PaymentReturned.recommitted = approved). Those events are written here in their
old shape (Claim.ReimbursementPaid and Claim.PaymentReversed of version 1, without
``closes`` and ``recommits_all``) straight into the store, as the earlier release wrote them;
the aggregates and the read models must show the figures they showed then.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent
from sqlalchemy import select

from ledger.application import GrantLedger
from ledger.budget import BudgetLine
from ledger.claim import Claim
from ledger.money import Money
from ledger.payment import Payment
from projections import tables as t
from projections.db import ReadDatabase
from projections.projector import Projector
from tests.builders import eur, eur_line, officer, open_mission, selected_sme, sign_alliance, submit
from tests.projections.fold import fold, read_log
from tests.projections.test_read_models_property import check_read_models

POINTEX = officer("POINTEX")
#: Fields the old (version 1) events did not have.
NEW_FIELDS = {"ReimbursementPaid": "closes", "PaymentReversed": "recommits_all"}


def save_old(app: GrantLedger, *aggregates: Aggregate) -> None:
    """Store the aggregates' pending events as the earlier release did: claim payments and
    reversals at version 1, without the fields added since."""
    stored: list[StoredEvent] = []
    for aggregate in aggregates:
        for event in aggregate.collect_events():
            record = app.mapper.to_stored_event(event)
            name = type(event).__qualname__.rpartition(".")[2]
            if isinstance(event, Claim.ReimbursementPaid | Claim.PaymentReversed):
                state = json.loads(record.state)
                assert state.pop("class_version") == 2
                del state[NEW_FIELDS[name]]
                record = replace(record, state=json.dumps(state).encode())
            stored.append(record)
    app.recorder.insert_events(stored)


def old_payment(app: GrantLedger, claim_id: UUID, amount: Money, on: date) -> UUID:
    """A payment as the earlier release recorded it: it closed the claim and released the rest."""
    claim, line = app.claim(claim_id), app.budget_line("POINTEX", "FSTP")
    payment_id = uuid.uuid4()
    common: dict[str, Any] = {"actor": POINTEX, "effective_date": on, "payment_id": payment_id, "amount": amount}
    claim.trigger_event(Claim.ReimbursementPaid, bank_reference="SEPA-OLD", closes=True, **common)
    line.trigger_event(BudgetLine.Paid, claim_id=claim_id, released=claim.approved_amount - amount, **common)
    payment = Payment.record(
        payment_id=payment_id,
        actor=POINTEX,
        claim_id=claim_id,
        partner="POINTEX",
        amount=amount,
        bank_reference="SEPA-OLD",
        value_date=on,
    )
    save_old(app, payment, claim, line)
    return payment_id


def old_reversal(app: GrantLedger, payment_id: UUID, on: date) -> None:
    """A reversal as the earlier release recorded it: the whole approved amount committed again."""
    payment = app.payment(payment_id)
    claim, line = app.claim(payment.claim_id), app.budget_line("POINTEX", "FSTP")
    payment.reverse(actor=POINTEX, reason="bank return", on=on)
    common: dict[str, Any] = {"actor": POINTEX, "effective_date": on, "payment_id": payment_id}
    claim.trigger_event(
        Claim.PaymentReversed, amount=payment.amount, reason="bank return", recommits_all=True, **common
    )
    line.trigger_event(
        BudgetLine.PaymentReturned,
        claim_id=claim.id,
        amount=payment.amount,
        recommitted=claim.approved_amount,
        **common,
    )
    save_old(app, payment, claim, line)


def story(app: GrantLedger) -> tuple[UUID, UUID]:
    """Two claims approved at EUR 700: one paid 650 the old way (50 released); the other paid
    600 the old way, returned the old way (700 committed again), then paid 700 in full."""
    sign_alliance(app)
    mission = open_mission(app)
    short = submit(app, mission, selected_sme(app, mission), eur_line("1000"))
    returned = submit(app, mission, selected_sme(app, mission), eur_line("1000"))
    for claim in (short, returned):
        app.approve_claim(actor=POINTEX, claim_id=claim, on=date(2023, 4, 5))
    old_payment(app, short, eur("650"), date(2023, 4, 20))
    first = old_payment(app, returned, eur("600"), date(2023, 4, 20))
    old_reversal(app, first, date(2023, 4, 25))
    return short, returned


class TestOldPayments:
    def test_old_payments_load_with_their_old_meaning(self, app: GrantLedger) -> None:
        """The old short payment reads as paid 650 and settled short 50, nothing committed; the
        old reversal as approved-unpaid with the whole 700 committed again, nothing settled."""
        short, returned = story(app)
        (stored,) = [e for e in app.recorder.select_events(short) if b"SEPA-OLD" in e.state]
        assert "class_version" not in json.loads(stored.state), "written in the old shape"
        claim = app.claim(short)
        assert (claim.state, claim.paid, claim.settled_short, claim.outstanding) == (
            "paid",
            eur("650"),
            eur("50"),
            eur("0"),
        )
        claim = app.claim(returned)
        assert (claim.state, claim.paid, claim.settled_short, claim.outstanding, claim.payments) == (
            "approved",
            eur("0"),
            eur("0"),
            eur("700"),
            {},
        )
        line = app.budget_line("POINTEX", "FSTP")
        assert (line.committed, line.paid) == (eur("700"), eur("650"))

    def test_new_commands_continue_an_old_story(self, app: GrantLedger) -> None:
        """After the old events, the returned claim is paid in two new payments; the old
        settled-short claim's payment is returned the new way: exactly 650 committed again,
        the 50 settled short stays settled. Every figure adds up."""
        short, returned = story(app)
        app.record_payment(
            actor=POINTEX,
            payment_id=uuid.uuid4(),
            claim_id=returned,
            amount=eur("300"),
            bank_reference="N1",
            on=date(2023, 5, 2),
        )
        assert app.claim(returned).state == "partly_paid"
        (payment,) = app.claim(short).payments
        app.reverse_payment(actor=POINTEX, payment_id=UUID(payment), reason="bank return", on=date(2023, 5, 3))
        claim = app.claim(short)
        assert (claim.state, claim.paid, claim.settled_short, claim.outstanding) == (
            "approved",
            eur("0"),
            eur("50"),
            eur("650"),
        )
        line = app.budget_line("POINTEX", "FSTP")
        assert (line.committed, line.paid) == (eur("400") + eur("650"), eur("300"))

    def test_the_read_models_show_the_old_figures(self, memory_app: GrantLedger) -> None:
        """Projected from the old events, the budget line and the claims show what they showed
        before (committed 700, paid 650; the short claim paid with 50 settled short), and the
        independent fold of the same events agrees everywhere."""
        app = memory_app
        short, returned = story(app)
        db = ReadDatabase("sqlite://")
        try:
            Projector(app, db).catch_up()
            log = read_log(app)
            check_read_models(db, log, "old store")
            assert fold(log).disagreements() == []
            with db.reading() as conn:
                line = conn.execute(
                    select(t.budget_lines).where(
                        t.budget_lines.c.partner == "POINTEX", t.budget_lines.c.category == "FSTP"
                    )
                ).one()
                claims = {row.id: row for row in conn.execute(select(t.claims))}
            assert (line.committed, line.paid) == (eur("700").amount, eur("650").amount)
            row = claims[str(short)]
            assert (row.state, row.paid, row.settled_short, row.outstanding) == ("paid", 650, 50, 0)
            row = claims[str(returned)]
            assert (row.state, row.paid, row.settled_short, row.outstanding, row.payment_id) == (
                "approved",
                0,
                0,
                700,
                None,
            )
        finally:
            db.close()
