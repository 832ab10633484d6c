"""Supporting documents on the read side: a holder's documents, who holds a digest, what still
lacks a document, the documents behind a period's statement, and a rebuild equal to the live
read models; on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date

import pytest
from sqlalchemy import Connection

from projections.documents import (
    documents_of,
    documents_with,
    missing_documents,
    period_bounds,
    period_documents,
)
from projections.projector import Projector
from projections.replay import compare, rebuild, scratch_database
from tests.builders import eur
from tests.projections.documented import (
    HOTEL,
    HOTEL_RESCAN,
    INVOICE,
    NTT_INVOICE,
    POINTEX,
    TAXI,
    Documented,
    digest,
    documented,
    pdf,
)


@pytest.fixture
def books(store_url: str) -> Iterator[tuple[Connection, Documented]]:
    with documented(store_url) as (_app, db, found), db.reading() as conn:
        yield conn, found


class TestDocumentsOf:
    def test_a_claims_documents_by_line_superseded_ones_kept(self, books: tuple[Connection, Documented]) -> None:
        """The paid claim: line 1's first scan superseded with its reason, then its rescan, then
        line 2's taxi receipt; each with the line's receipt reference, type, size and who attached it."""
        conn, found = books
        claim = str(found.claims["paid"])
        rows = documents_of(conn, claim)
        assert [(r.line, r.filename, r.live, r.superseded_reason) for r in rows] == [
            (1, "hotel.pdf", False, "illegible scan"),
            (1, "hotel-rescan.pdf", True, ""),
            (2, "taxi.png", True, ""),
        ]
        assert [r.sha256 for r in rows] == [digest(HOTEL), digest(HOTEL_RESCAN), digest(TAXI)]
        assert [r.receipt_ref for r in rows] == ["HOTEL-paid", "HOTEL-paid", "TAXI-1"]
        assert [r.media_type for r in rows] == ["application/pdf", "application/pdf", "image/png"]
        assert [r.size for r in rows] == [len(HOTEL.data), len(HOTEL_RESCAN.data), len(TAXI.data)]
        assert {(r.holder_kind, r.holder_id, r.partner, r.attached_by) for r in rows} == {
            ("claim", claim, "POINTEX", POINTEX.id)
        }
        assert rows[0].position < rows[2].position < rows[1].position  # the taxi receipt came before the rescan
        assert all(r.recorded_at.tzinfo is UTC for r in rows)
        assert rows[0].attached_on == date(2023, 4, 1)  # with the claim, on its submission date
        assert [r.attached_on for r in rows[1:]] == [r.recorded_at.date() for r in rows[1:]]  # later: that day (UTC)

    def test_a_costs_document_carries_its_document_reference(self, books: tuple[Connection, Documented]) -> None:
        """An own cost's invoice: no line, the cost's document reference, its partner."""
        conn, found = books
        [row] = documents_of(conn, str(found.costs["invoiced"]))
        assert (row.holder_kind, row.line, row.receipt_ref, row.partner) == ("cost", None, "INV-A", "POINTEX")
        assert (row.filename, row.sha256, row.live) == ("invoice-a.pdf", digest(INVOICE), True)

    def test_a_holder_without_documents_and_an_unknown_one(self, books: tuple[Connection, Documented]) -> None:
        conn, found = books
        assert documents_of(conn, str(found.costs["bare"])) == []
        assert documents_of(conn, str(uuid.uuid4())) == []

    def test_documents_with_a_digest(self, books: tuple[Connection, Documented]) -> None:
        """A digest leads to the line that holds it, superseded or not; an unknown one to nothing."""
        conn, found = books
        [old] = documents_with(conn, digest(HOTEL))
        assert (old.holder_id, old.line, old.live) == (str(found.claims["paid"]), 1, False)
        [taxi] = documents_with(conn, digest(TAXI))
        assert (taxi.holder_id, taxi.line, taxi.live) == (str(found.claims["paid"]), 2, True)
        assert documents_with(conn, "0" * 64) == []


class TestMissing:
    def test_lines_and_costs_without_a_live_document(self, books: tuple[Connection, Documented]) -> None:
        """The pending claim's line and the bare cost lack one; the rejected claim's line needs none;
        the paid claim's lines and the invoiced costs have theirs."""
        conn, found = books
        missing = missing_documents(conn)
        assert [(m.holder_kind, m.holder_id, m.line, m.partner) for m in missing] == [
            ("claim", str(found.claims["pending"]), 1, "POINTEX"),
            ("cost", str(found.costs["bare"]), None, "POINTEX"),
        ]
        claim, cost = missing
        assert (claim.receipt_ref, claim.state, claim.description) == ("HOTEL-pending", "submitted", "expense")
        assert (cost.receipt_ref, cost.state, cost.description) == ("INV-B", "recorded", "travel cost")

    def test_by_partner(self, books: tuple[Connection, Documented]) -> None:
        conn, _ = books
        assert len(missing_documents(conn, partner="POINTEX")) == 2
        assert missing_documents(conn, partner="NTT") == []
        assert missing_documents(conn, partner="NOBODY") == []


def test_a_costs_document_attached_later_then_superseded_without_replacement(store_url: str) -> None:
    """The bare cost gets its invoice: it is no longer missing and counts in period 2. Superseded
    without a replacement, the invoice is kept (not live, with the reason) and the cost lacks one again."""
    with documented(store_url) as (app, db, found):
        bare, late = found.costs["bare"], pdf("invoice-b")
        app.attach_to_cost(actor=POINTEX, cost_id=bare, uploads=[late])
        Projector(app, db).catch_up()
        with db.reading() as conn:
            assert [m.holder_id for m in missing_documents(conn)] == [str(found.claims["pending"])]
            assert digest(late) in [r.sha256 for r in period_documents(conn, 2, partner="POINTEX")]
        app.supersede_document(actor=POINTEX, holder_id=bare, sha256=digest(late), reason="another cost's invoice")
        Projector(app, db).catch_up()
        with db.reading() as conn:
            [row] = documents_of(conn, str(bare))
            assert (row.live, row.superseded_reason, row.receipt_ref) == (False, "another cost's invoice", "INV-B")
            assert [m.holder_id for m in missing_documents(conn)] == [str(found.claims["pending"]), str(bare)]
            assert digest(late) not in [r.sha256 for r in period_documents(conn, 2)]


class TestPeriod:
    def test_period_bounds(self, books: tuple[Connection, Documented]) -> None:
        conn, _ = books
        assert period_bounds(conn, 1) == (date(2021, 9, 1), date(2022, 8, 31))
        assert period_bounds(conn, 3) is None

    def test_the_documents_behind_each_periods_statement(self, books: tuple[Connection, Documented]) -> None:
        """Period 1: the cost dated in it. Period 2: NTT's cost, and the paid claim's live
        documents (its payment is value-dated in period 2), not the superseded scan; the pending
        claim and the bare cost have none. Period 3 does not exist."""
        conn, _ = books
        assert [r.sha256 for r in period_documents(conn, 1)] == [digest(INVOICE)]
        assert [r.sha256 for r in period_documents(conn, 2)] == [
            digest(NTT_INVOICE),
            digest(HOTEL_RESCAN),
            digest(TAXI),
        ]
        assert [r.sha256 for r in period_documents(conn, 2, partner="POINTEX")] == [digest(HOTEL_RESCAN), digest(TAXI)]
        assert [r.sha256 for r in period_documents(conn, 2, partner="NTT")] == [digest(NTT_INVOICE)]
        assert period_documents(conn, 1, partner="NTT") == []
        assert period_documents(conn, 3) == []
        assert all(r.live for r in period_documents(conn, 2))


def test_a_reversed_payment_takes_its_claim_out_of_the_period(store_url: str) -> None:
    """A payment reversed (and never paid again) counts nothing in the period: its claim's
    documents leave the period's zip; paid again, they are back."""
    with documented(store_url) as (app, db, found):
        claim = found.claims["paid"]
        app.reverse_payment(actor=POINTEX, payment_id=found.payment, reason="bank return", on=date(2023, 4, 20))
        Projector(app, db).catch_up()
        with db.reading() as conn:
            assert [r.sha256 for r in period_documents(conn, 2, partner="POINTEX")] == []
        again = date(2023, 4, 21)
        app.record_payment(
            actor=POINTEX, payment_id=uuid.uuid4(), claim_id=claim, amount=eur("700.00"), bank_reference="S2", on=again
        )
        Projector(app, db).catch_up()
        with db.reading() as conn:
            assert len(period_documents(conn, 2, partner="POINTEX")) == 2


class TestRebuild:
    def test_a_rebuild_equals_the_live_read_models(self, store_url: str) -> None:
        """Rebuilt from the first event, rm_documents (and every other table) equals the one the
        projector kept live, batch by batch, and the queries answer the same."""
        with documented(store_url) as (app, live, found), scratch_database(live) as fresh:
            rebuild(app, fresh)
            assert list(compare(live, fresh)) == []
            with live.reading() as a, fresh.reading() as b:
                for holder in (*found.claims.values(), *found.costs.values()):
                    assert documents_of(a, str(holder)) == documents_of(b, str(holder))
                assert missing_documents(a) == missing_documents(b)
                assert period_documents(a, 2) == period_documents(b, 2)

    def test_one_event_at_a_time_equals_one_batch(self, store_url: str) -> None:
        """Projected one event per transaction, the documents read the same as in one batch."""
        with documented(store_url) as (app, live, _), scratch_database(live) as fresh:
            Projector(app, fresh, batch_size=1).catch_up()
            assert list(compare(live, fresh)) == []
