"""The books as they stood at a recorded position, or as effective on a business date, from
the projected read models (SQLite files and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from ledger.application import GrantLedger
from projections.projector import Projector
from projections.queries import AsOf
from projections.replay import rebuild, scratch_database
from tests.builders import (
    COORDINATOR,
    alliance_budget,
    eur,
    eur_line,
    officer,
    open_mission,
    selected_sme,
    sign_alliance,
)
from tests.projections.projecting import (
    LINES,
    PARTNER,
    Stores,
    build_history,
    line_of,
    notification_ids,
    overview,
)


class TestTimeTravel:
    """The books as they stood at a recorded position, or as effective on a business date."""

    def test_books_as_of_a_position_equal_a_rebuild_stopped_there(self, stores: Stores) -> None:
        """budget_overview(AsOf(position=P)) on the fully projected read models gives, line
        for line, the current figures of read models rebuilt only up to P: before the grant,
        inside the grant's own save (some lines opened, not all), half way, just before the
        last event, and at the head."""
        build_history(stores.app, smes_per_mission=4)
        ids = notification_ids(stores.app)
        Projector(stores.app, stores.db).catch_up()
        for stop in (0, ids[20], ids[len(ids) // 3], ids[len(ids) // 2], ids[-2], ids[-1]):
            as_recorded = overview(stores.db, AsOf(position=stop))
            with scratch_database(stores.db) as fresh:
                rebuild(stores.app, fresh, stop=stop)
                current = overview(fresh)
            if stop == 0:
                assert (as_recorded, current) == (None, None)
                continue
            assert as_recorded is not None
            assert current is not None
            assert as_recorded.lines == current.lines, stop
            assert as_recorded.totals() == current.totals()
        inside_the_grant = overview(stores.db, AsOf(position=ids[20]))
        assert inside_the_grant is not None
        assert 0 < len(inside_the_grant.lines) < LINES, "this stop should cut the grant's own save"

    def test_books_as_effective_on_a_date_follow_business_dates_not_recording_order(self, stores: Stores) -> None:
        """A small story recorded out of business-date order (a claim submitted on 1 April
        recorded before one submitted on 20 March, an approval of 20 April recorded before
        one of 5 April, a payment of 10 May before one of 3 May, a bank return, then a
        transfer effective back in June 2022 and a cost of February 2023): the books as
        effective on each date are exactly the hand-computed figures."""
        app = stores.app
        sign_alliance(app)
        mission = open_mission(app)  # POINTEX, 70%, cap EUR 2,000 per SME
        a, b = selected_sme(app, mission), selected_sme(app, mission)
        claim_a = self.claim(app, mission, a, "1000.00", on=date(2023, 4, 1))  # requests 700.00
        claim_b = self.claim(app, mission, b, "500.00", on=date(2023, 3, 20))  # requests 350.00
        pointex = officer(PARTNER)
        app.approve_claim(actor=pointex, claim_id=claim_a, on=date(2023, 4, 20))
        app.approve_claim(actor=pointex, claim_id=claim_b, on=date(2023, 4, 5))
        self.pay(app, claim_b, "350.00", date(2023, 5, 10))
        paid_a = self.pay(app, claim_a, "700.00", date(2023, 5, 3))
        app.reverse_payment(actor=pointex, payment_id=paid_a, reason="bank return", on=date(2023, 5, 15))
        app.transfer_budget(
            actor=COORDINATOR,
            transfer_id=uuid.uuid4(),
            from_partner="TECHTERA",
            from_category="PERSONNEL",
            to_partner=PARTNER,
            to_category="FSTP",
            amount=eur("1000.00"),
            decision_ref="SC-2022-06",
            reason="decided at the June 2022 steering committee, recorded late",
            on=date(2022, 6, 30),
        )
        app.record_cost(
            actor=officer("NIDV"),
            cost_id=uuid.uuid4(),
            partner="NIDV",
            category="TRAVEL",
            amount=eur("300.00"),
            document_ref="NIDV-2023-02-TRAIN",
            description="train to the Paris preparation meeting",
            on=date(2023, 2, 1),
        )
        Projector(stores.app, stores.db).catch_up()

        assert overview(stores.db, AsOf(effective=date(2021, 8, 31))) is None  # before the grant was signed
        fstp = Decimal(alliance_budget()[PARTNER]["FSTP"].amount)
        personnel = Decimal(alliance_budget()["TECHTERA"]["PERSONNEL"].amount)
        # on: (POINTEX FSTP allocated, pending, committed, paid), TECHTERA PERSONNEL allocated, NIDV TRAVEL spent
        expected = {
            date(2022, 6, 29): ((fstp, "0", "0", "0"), personnel, "0"),
            date(2022, 6, 30): ((fstp + 1000, "0", "0", "0"), personnel - 1000, "0"),
            date(2023, 2, 1): ((fstp + 1000, "0", "0", "0"), personnel - 1000, "300"),
            date(2023, 3, 31): ((fstp + 1000, "350", "0", "0"), personnel - 1000, "300"),
            date(2023, 4, 10): ((fstp + 1000, "700", "350", "0"), personnel - 1000, "300"),
            date(2023, 4, 20): ((fstp + 1000, "0", "1050", "0"), personnel - 1000, "300"),
            date(2023, 5, 5): ((fstp + 1000, "0", "350", "700"), personnel - 1000, "300"),
            date(2023, 5, 12): ((fstp + 1000, "0", "0", "1050"), personnel - 1000, "300"),
            date(2023, 5, 31): ((fstp + 1000, "0", "700", "350"), personnel - 1000, "300"),
        }
        for on, ((allocated, pending, committed, paid), techtera, nidv) in expected.items():
            books = overview(stores.db, AsOf(effective=on))
            line = line_of(books, PARTNER, "FSTP")
            figures = (line.allocated, line.pending, line.committed, line.paid, line.spent)
            assert figures == tuple(Decimal(x) for x in (allocated, pending, committed, paid, "0")), on
            assert line_of(books, "TECHTERA", "PERSONNEL").allocated == techtera, on
            assert line_of(books, "NIDV", "TRAVEL").spent == Decimal(nidv), on
        now, at_the_end = overview(stores.db), overview(stores.db, AsOf(effective=date(2023, 8, 31)))
        assert now is not None
        assert at_the_end is not None
        assert at_the_end.lines == now.lines  # every business date is known by now

    @staticmethod
    def claim(app: GrantLedger, mission: uuid.UUID, sme: uuid.UUID, amount: str, *, on: date) -> uuid.UUID:
        return app.submit_claim(
            actor=officer(PARTNER),
            claim_id=uuid.uuid4(),
            sme_id=sme,
            mission_id=mission,
            lines=[eur_line(amount, day=date(2023, 3, 14))],
            on=on,
        )

    @staticmethod
    def pay(app: GrantLedger, claim_id: uuid.UUID, amount: str, on: date) -> uuid.UUID:
        return app.record_payment(
            actor=officer(PARTNER),
            payment_id=uuid.uuid4(),
            claim_id=claim_id,
            amount=eur(amount),
            bank_reference=f"SEPA-{uuid.uuid4().hex[:8]}",
            on=on,
        )
