"""The projector's bulk writes store exactly what SQLAlchemy's own statements would."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert, select, text

from projections import tables as t
from projections.batch import Batch, insert_rows, payload_of, plain
from projections.db import ReadDatabase

AUDIT_ROW = {
    "recorded_at": datetime(2023, 3, 15, 9, 30, 0, 0, tzinfo=UTC),
    "effective_date": date(2023, 3, 14),
    "actor_id": "officer.ntt",
    "role": "officer",
    "partner": "NTT",
    "aggregate_type": "Claim",
    "aggregate_id": "7f1e0a3c-0000-4000-8000-000000000001",
    "version": 2,
    "event_type": "Approved",
    "reason": "receipts checked",
    "payload": "{}",
}


def _stored(db: ReadDatabase, table_name: str) -> list[tuple[object, ...]]:
    with db.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(f"SELECT * FROM {table_name} ORDER BY 1"))]  # noqa: S608


class TestBulkInsert:
    @given(
        moment=st.datetimes(
            min_value=datetime(1000, 1, 2),
            max_value=datetime(9999, 12, 30),
            timezones=st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]),
        ),
        day=st.dates(min_value=date(1000, 1, 1)),
    )
    def test_the_same_text_as_sqlalchemy_for_any_time_and_date(self, moment: datetime, day: date) -> None:
        """The quick SQLite conversions of recorded times (in any zone) and dates store the
        same bytes as SQLAlchemy's statement does, so queries and comparisons agree."""
        db = ReadDatabase("sqlite://")
        try:
            with db.writing() as conn:
                row = AUDIT_ROW | {"recorded_at": moment, "effective_date": day}
                conn.execute(insert(t.audit), [row | {"position": 1}])
                insert_rows(conn, t.audit, [row | {"position": 2}])
            first, second = _stored(db, "rm_audit")
            assert first[1:] == second[1:]
        finally:
            db.close()

    def test_rows_read_back_equal_on_every_store(self, read_db: ReadDatabase) -> None:
        """Bulk-inserted rows read back through SQLAlchemy as the values given (cents,
        exact decimals, aware times), on SQLite and PostgreSQL (its own schema)."""
        row = {
            "position": 7,
            "seq": 1,
            "recorded_at": datetime(2023, 3, 15, 9, 30, 0, 123456, tzinfo=UTC),
            "effective_date": date(2023, 3, 14),
            "partner": "NTT",
            "category": "FSTP",
            "measure": "paid",
            "delta": Decimal("-1234.50"),
            "ref": "5f0c7d0e-8a4b-4c1e-9d2f-3b6a7e8f9a01",
        }
        with read_db.writing() as conn:
            insert_rows(conn, t.movements, [row])
        with read_db.reading() as conn:
            stored = conn.execute(select(t.movements)).one()._asdict()
        assert stored == row


class TestBatchRows:
    def test_a_row_written_and_changed_in_one_batch_is_inserted_once_with_its_final_state(self) -> None:
        """Inserted, then changed twice before the flush: one row, the last values."""
        db = ReadDatabase("sqlite://")
        try:
            with db.writing() as conn:
                batch = Batch(conn, {}, {})
                batch.insert(
                    t.payments,
                    {
                        "id": "p1",
                        "claim_id": "c1",
                        "partner": "NTT",
                        "amount": Decimal("10.00"),
                        "bank_reference": "SEPA-1",
                        "value_date": date(2023, 4, 1),
                        "released": Decimal("0.00"),
                        "reversed": False,
                        "reversal_reason": "",
                    },
                )
                batch.set(t.payments, {"id": "p1"}, reversed=True, reversal_reason="bank return")
                batch.add(t.payments, {"id": "p1"}, amount=Decimal("0.50"))
                batch.flush()
            with db.reading() as conn:
                rows = conn.execute(select(t.payments)).all()
            assert [(r.id, r.amount, r.reversed, r.reversal_reason) for r in rows] == [
                ("p1", Decimal("10.50"), True, "bank return")
            ]
        finally:
            db.close()

    def test_changing_a_row_that_does_not_exist_is_refused(self) -> None:
        """An event that changes a row the read models never had is a projection bug: the
        batch refuses it (and its transaction rolls back) instead of skipping it silently."""
        db = ReadDatabase("sqlite://")
        try:
            with pytest.raises(LookupError, match="rm_payments has no row"), db.writing() as conn:
                Batch(conn, {}, {}).set(t.payments, {"id": "nope"}, reversed=True)
        finally:
            db.close()

    def test_rows_are_found_by_their_primary_key(self) -> None:
        """Changing rows by a column that is not their key is refused, naming the key."""
        db = ReadDatabase("sqlite://")
        try:
            with pytest.raises(ValueError, match="found by id, not by partner"), db.writing() as conn:
                Batch(conn, {}, {}).set(t.payments, {"partner": "NTT"}, reversed=True)
        finally:
            db.close()

    def test_a_deleted_row_is_gone_and_can_be_inserted_again(self) -> None:
        """A row deleted in a later batch is gone from the store and from the batch's view;
        inserting the same key again in that batch stores the new row; a row inserted and
        deleted in one batch is never written; deleting a row that does not exist is refused."""
        payment = {
            "claim_id": "c1",
            "partner": "NTT",
            "amount": Decimal("10.00"),
            "bank_reference": "SEPA-1",
            "value_date": date(2023, 4, 1),
            "released": Decimal("0.00"),
            "reversed": False,
            "reversal_reason": "",
        }
        db = ReadDatabase("sqlite://")
        try:
            with db.writing() as conn:
                batch = Batch(conn, {}, {})
                batch.insert(t.payments, [payment | {"id": "p1"}, payment | {"id": "p2"}])
                batch.flush()
            with db.writing() as conn:
                batch = Batch(conn, {}, {})
                batch.delete(t.payments, {"id": "p1"})
                assert batch.get(t.payments, id="p1") is None
                batch.delete(t.payments, {"id": "p2"})
                batch.insert(t.payments, payment | {"id": "p2", "bank_reference": "SEPA-2"})
                batch.insert(t.payments, payment | {"id": "p3"})
                batch.delete(t.payments, {"id": "p3"})
                with pytest.raises(LookupError, match=r"no row .* to delete"):
                    batch.delete(t.payments, {"id": "p1"})
                batch.flush()
            with db.reading() as conn:
                rows = conn.execute(select(t.payments.c.id, t.payments.c.bank_reference)).all()
            assert [tuple(r) for r in rows] == [("p2", "SEPA-2")]
        finally:
            db.close()


class TestAuditPayload:
    def test_the_payload_is_plain_canonical_json(self) -> None:
        """The C encoder with a fallback gives exactly the canonical form of ``plain``."""
        import json

        from ledger.actors import Actor
        from ledger.money import Money

        class Event:
            def __init__(self) -> None:
                self.originator_id = "x"
                self.actor = Actor.coordinator("coord")
                self.amount = Money.eur("12.30")
                self.rate = Decimal("144.20")
                self.on = date(2023, 1, 2)
                self.lines = [{"b": Money(Decimal(1500), "JPY"), "a": 1}]

        event = Event()
        expected = json.dumps(
            {k: plain(v) for k, v in vars(event).items() if k not in {"originator_id", "actor"}},
            sort_keys=True,
            separators=(",", ":"),
        )
        assert payload_of(event) == expected
