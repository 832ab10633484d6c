"""What the projector's tests share: an event store and its read database paired as production
pairs them, a realistic history of a few hundred events, and the checks that every event was
applied exactly once and that the read models are the aggregates' figures.

The ``stores`` and ``pg_stores`` fixtures (tests/projections/conftest.py) open them.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from ledger.application import GrantLedger
from ledger.claim import ExpenseLine, LineDecision
from ledger.money import Money
from ledger.storage import open_ledger
from projections import tables as t
from projections.db import ReadDatabase, read_url_for
from projections.queries import AsOf, BudgetOverview, LineFigures, budget_overview
from projections.replay import compare, rebuild, scratch_database
from tests.builders import (
    COORDINATOR,
    eur,
    eur_line,
    officer,
    open_mission,
    selected_sme,
    sign_alliance,
    submit,
)

#: Seconds any wait on a worker process (or projector thread) may take before the test is declared broken.
WORKER_TIMEOUT = 30.0
#: More than any test's history: list every notification in one call.
ALL = 100_000
PARTNER = "POINTEX"
#: Budget line figures that the BudgetLine aggregate also holds (pending is the read side's own).
AGGREGATE_MEASURES = ("allocated", "committed", "paid", "spent")
LINES = 6 * 7  # partners x categories


# --- stores ------------------------------------------------------------------------------
@dataclass
class Stores:
    """One event store and the read database beside it, paired as production pairs them."""

    event_url: str
    read_url: str
    app: GrantLedger
    db: ReadDatabase


@contextlib.contextmanager
def opened(event_url: str) -> Iterator[Stores]:
    read_url = read_url_for(event_url, environ={})
    app = open_ledger(event_url)
    db = ReadDatabase(read_url)
    try:
        yield Stores(event_url, read_url, app, db)
    finally:
        db.close()
        app.close()


# --- a realistic history ------------------------------------------------------------------
def build_history(app: GrantLedger, *, smes_per_mission: int = 10) -> None:
    """A grant, a budget transfer, two missions, SMEs, claims in EUR and USD, approvals full
    and partial, a rejection, claims left pending or unpaid, payments, a bank return and own
    costs: about 300 events with the default size."""
    sign_alliance(app)
    app.record_rate(actor=officer(PARTNER), currency="USD", month="2023-03", rate=Decimal("1.0987"))
    app.transfer_budget(
        actor=COORDINATOR,
        transfer_id=uuid.uuid4(),
        from_partner="TECHTERA",
        from_category="PERSONNEL",
        to_partner=PARTNER,
        to_category="FSTP",
        amount=eur("5000.00"),
        decision_ref="SC-2022-07",
        reason="more SMEs than planned for Japan",
        on=date(2022, 11, 30),
    )
    payments = []
    for code, partner in (("JPN-2023", PARTNER), ("USA-2022", "NTT")):
        mission = open_mission(app, code=code, partner=partner)
        for n in range(smes_per_mission):
            sme = selected_sme(app, mission, partner=partner)
            lines = [eur_line(f"{600 + 10 * n}.00"), eur_line("250.50", cost_type="ACCOMMODATION")]
            if n % 3 == 0:
                fee = Money.of("480", "USD")
                lines.append(ExpenseLine("REGISTRATION_FEE", date(2023, 3, 10), fee, f"FEE-{uuid.uuid4().hex}", "fee"))
            claim = submit(app, mission, sme, *lines, partner=partner)
            if n == smes_per_mission - 1:
                app.reject_claim(actor=officer(partner), claim_id=claim, reason="no boarding pass", on=date(2023, 4, 9))
                continue
            if n % 4 == 3:
                continue  # left pending
            cut = [LineDecision(2, eur("200.00"), "hotel above the mission's ceiling")] if n % 2 else []
            approved = app.approve_claim(actor=officer(partner), claim_id=claim, decisions=cut, on=date(2023, 4, 10))
            if n % 4 == 2:
                continue  # approved, not yet paid
            payments.append(
                app.record_payment(
                    actor=officer(partner),
                    payment_id=uuid.uuid4(),
                    claim_id=claim,
                    amount=approved,
                    bank_reference=f"SEPA-{uuid.uuid4().hex[:8]}",
                    on=date(2023, 5, 2),
                )
            )
    app.reverse_payment(actor=officer(PARTNER), payment_id=payments[0], reason="IBAN closed", on=date(2023, 5, 9))
    for n in range(4):
        app.record_cost(
            actor=officer("NIDV"),
            cost_id=uuid.uuid4(),
            partner="NIDV",
            category="TRAVEL",
            amount=eur(f"{300 + n}.00"),
            document_ref=f"NIDV-TRAVEL-{n}",
            description="trip to the DSEI Japan show",
            on=date(2023, 3, 20),
        )


def notification_ids(app: GrantLedger) -> list[int]:
    """Every event position in the log, in order (there may be gaps)."""
    return [n.id for n in app.recorder.select_notifications(start=0, limit=ALL, inclusive_of_start=False)]


def audit_positions(db: ReadDatabase) -> list[int]:
    with db.reading() as conn:
        return list(conn.execute(select(t.audit.c.position).order_by(t.audit.c.position)).scalars())


def overview(db: ReadDatabase, as_of: AsOf | None = None) -> BudgetOverview | None:
    with db.reading() as conn:
        return budget_overview(conn, as_of)


def line_of(found: BudgetOverview | None, partner: str, category: str) -> LineFigures:
    assert found is not None, "the grant should be in the read models"
    return next(line for line in found.lines if (line.partner, line.category) == (partner, category))


def differences(live: ReadDatabase, rebuilt: ReadDatabase) -> list[str]:
    return [str(difference) for difference in compare(live, rebuilt)]


def assert_applied_once_and_identical(app: GrantLedger, db: ReadDatabase) -> None:
    """Every event of the log has exactly one audit row, the tracking position is the last
    event, and a rebuild from the first event equals the read models row for row."""
    ids = notification_ids(app)
    assert audit_positions(db) == ids
    assert db.position() == ids[-1]
    with scratch_database(db) as fresh:
        rebuild(app, fresh)
        assert differences(db, fresh) == []


def assert_budget_is_the_aggregates(app: GrantLedger, db: ReadDatabase) -> None:
    """Every budget line's figures in the read models are those of the application's aggregate."""
    found = overview(db)
    assert found is not None
    assert len(found.lines) == LINES
    for line in found.booked():  # as the aggregates book them: indirect costs are computed
        aggregate = app.budget_line(line.partner, line.category)
        for measure in AGGREGATE_MEASURES:
            assert getattr(line, measure) == getattr(aggregate, measure).amount, (line, measure)
