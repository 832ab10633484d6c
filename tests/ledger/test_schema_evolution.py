"""Events are versioned: an event stored in an older shape still loads (upcasting)."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

from eventsourcing.persistence import StoredEvent

from ledger.application import GrantLedger
from ledger.rates import ExchangeRate, rate_id
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
