"""Events are versioned: an event stored in an older shape still loads (upcasting)."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

from eventsourcing.persistence import StoredEvent
from sqlalchemy import select

from ledger.application import GrantLedger
from ledger.rates import ExchangeRate, rate_id
from ledger.storage import open_ledger
from projections import tables as t
from projections.assessments import rate_assessments
from projections.db import ReadDatabase
from projections.projector import Projector
from tests.builders import officer


class TestExchangeRateV1:
    def test_a_version_1_rate_without_source_loads_as_inforeuro(self, app: GrantLedger) -> None:
        """Version 1 of ExchangeRate.Recorded had no 'source'; upcast_v1_v2 fills in InforEuro.

        The old event is written straight into the store, in its old shape, as an earlier
        release of the ledger would have written it.
        """
        current = ExchangeRate.record(
            actor=officer("NTT"), currency="USD", month="2022-10", rate=Decimal("0.9764"), source="InforEuro"
        )
        stored = app.mapper.to_stored_event(current.collect_events()[0])
        state = json.loads(stored.state)
        assert state.pop("class_version") == 2
        del state["source"]
        old = replace(stored, state=json.dumps(state).encode())
        assert isinstance(old, StoredEvent)
        app.recorder.insert_events([old])

        loaded: object = app.repository.get(rate_id("USD", "2022-10"))
        assert isinstance(loaded, ExchangeRate)
        assert (loaded.rate, loaded.source) == (Decimal("0.9764"), "InforEuro")
        assert app.quote("USD", "2022-10").source == "InforEuro"

    def test_new_events_are_stored_with_their_class_version(self, app: GrantLedger) -> None:
        """Every new Recorded event says it is version 2, so a later version can upcast it."""
        app.record_rate(actor=officer("NTT"), currency="CAD", month="2023-06", rate=Decimal("1.4414"))
        (stored,) = app.recorder.select_events(rate_id("CAD", "2023-06"))
        state = json.loads(stored.state)
        assert state["class_version"] == 2
        assert state["rate"] == {"_type_": "decimal_str", "_data_": "1.4414"}


#: An exchange rate and its correction exactly as the first release of the ledger stored them
#: (b1cd96e: Recorded without ``source`` and class version 1, Corrected with its reason).
FIRST_RELEASE_RATE = (
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"2023-11-02T09:00:00+00:00"},'
    b'"originator_topic":"ledger.rates:ExchangeRate",'
    b'"actor":{"_type_":"actor","_data_":{"id":"officer.ntt","role":"officer","partner":"NTT"}},'
    b'"effective_date":{"_type_":"date_iso","_data_":"2022-10-01"},'
    b'"currency":"USD","month":"2022-10","rate":{"_type_":"decimal_str","_data_":"0.9764"}}'
)
FIRST_RELEASE_CORRECTION = (
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"2023-11-03T09:00:00+00:00"},'
    b'"actor":{"_type_":"actor","_data_":{"id":"officer.ntt","role":"officer","partner":"NTT"}},'
    b'"effective_date":{"_type_":"date_iso","_data_":"2022-10-01"},'
    b'"rate":{"_type_":"decimal_str","_data_":"0.9765"},"source":"InforEuro","corrects_version":1,'
    b'"reason":"typo in the table"}'
)


class TestExchangeRateCorrectedOfTheFirstRelease:
    def test_it_loads_and_projects_with_its_reason(self) -> None:
        """ExchangeRate.Corrected has kept its shape since the first release (the reason was
        always required and recorded), so it needs no class version: a store holding one as
        that release wrote it loads, quotes the corrected rate, and projects the rate and an
        audit row with the reason."""
        app = open_ledger("memory://")
        db = ReadDatabase("sqlite://")
        try:
            xr_id = rate_id("USD", "2022-10")
            app.recorder.insert_events(
                [
                    StoredEvent(xr_id, 1, "ledger.rates:ExchangeRate.Recorded", FIRST_RELEASE_RATE),
                    StoredEvent(xr_id, 2, "ledger.rates:ExchangeRate.Corrected", FIRST_RELEASE_CORRECTION),
                ]
            )
            quote = app.quote("USD", "2022-10")
            assert (quote.rate, quote.source) == (Decimal("0.9765"), "InforEuro")
            Projector(app, db).catch_up()
            with db.reading() as conn:
                row = conn.execute(select(t.rates)).one()
                reasons = conn.execute(select(t.audit.c.event_type, t.audit.c.reason)).all()
                report = rate_assessments(conn, "USD", "2022-10")
            assert (row.rate, row.source, row.version) == (Decimal("0.9765"), "InforEuro", 2)
            assert [tuple(r) for r in reasons] == [("Recorded", ""), ("Corrected", "typo in the table")]
            assert report is not None
            assert report.lines == ()
        finally:
            db.close()
            app.close()
