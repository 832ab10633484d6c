"""The grant's reporting terms: funding rates per category and the certificate threshold
(Grant.Signed version 2, old grants upcast), and the reporting periods the coordinator sets."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from eventsourcing.persistence import StoredEvent

from ledger.application import GrantLedger
from ledger.errors import InvalidInput, NotAllowed
from ledger.grant import CERTIFICATE_THRESHOLD, Grant
from ledger.periods import ReportingPeriod
from ledger.storage import open_ledger
from tests.builders import AUDITOR, COORDINATOR, PERIOD_END, PERIOD_START, eur, grant_terms, officer, sign_alliance

FIRST_YEAR = (PERIOD_START, date(2022, 8, 31))
SECOND_YEAR = (date(2022, 9, 1), PERIOD_END)


class TestFundingRates:
    def test_one_rate_for_all_by_default(self, memory_app: GrantLedger) -> None:
        sign_alliance(memory_app)
        grant = memory_app.grant()
        assert grant.funding_rates == {}
        assert grant.funding_rate_of("FSTP") == grant.funding_rate_of("TRAVEL") == Decimal("0.90")
        assert grant.certificate_threshold == CERTIFICATE_THRESHOLD

    def test_a_call_funds_fstp_at_another_rate(self, memory_app: GrantLedger) -> None:
        memory_app.sign_grant(**grant_terms(funding_rates={"FSTP": Decimal("1.00"), "TRAVEL": Decimal("0.90")}))
        grant = memory_app.grant()
        assert grant.funding_rates == {"FSTP": Decimal("1.00")}, "a rate equal to the grant's one is no exception"
        assert grant.funding_rate_of("FSTP") == Decimal("1.00")
        assert grant.funding_rate_of("PERSONNEL") == Decimal("0.90")

    @pytest.mark.parametrize(
        ("rates", "said"), [({"FSTP": Decimal("1.5")}, "funding rate of FSTP"), ({"TRAVELS": Decimal("1")}, "unknown")]
    )
    def test_a_bad_rate_is_refused_and_nothing_is_signed(
        self, memory_app: GrantLedger, rates: dict[str, Decimal], said: str
    ) -> None:
        with pytest.raises(InvalidInput, match=said):
            memory_app.sign_grant(**grant_terms(funding_rates=rates))
        assert list(memory_app.recorder.select_events(Grant.ID)) == []

    def test_a_version_1_grant_loads_with_one_rate_and_the_default_threshold(self, memory_app: GrantLedger) -> None:
        """Grant.Signed version 1 had neither field; it is written into the store as an earlier
        release wrote it, and loads upcast."""
        sign_alliance(memory_app)
        (stored,) = memory_app.recorder.select_events(Grant.ID)
        state = json.loads(stored.state)
        assert state.pop("class_version") == 2
        del state["funding_rates"], state["certificate_threshold"]
        old = replace(stored, state=json.dumps(state).encode())
        assert isinstance(old, StoredEvent)
        earlier = open_ledger("memory://")
        earlier.recorder.insert_events([old])
        grant = earlier.grant()
        assert grant.funding_rates == {}
        assert grant.certificate_threshold == eur("325000")
        assert grant.reporting_periods == ()


class TestReportingPeriods:
    def test_the_coordinator_sets_two_periods(self, memory_app: GrantLedger) -> None:
        sign_alliance(memory_app)
        periods = memory_app.set_reporting_periods(
            actor=COORDINATOR, periods=[FIRST_YEAR, SECOND_YEAR], reason="GA Annex 1", on=PERIOD_START
        )
        assert periods == (ReportingPeriod(1, *FIRST_YEAR), ReportingPeriod(2, *SECOND_YEAR))
        grant = memory_app.grant()
        assert grant.reporting_periods == periods
        assert grant.period_of(date(2022, 8, 31)) == periods[0]
        assert grant.period_of(date(2022, 9, 1)) == periods[1]
        version = grant.version
        again = memory_app.set_reporting_periods(
            actor=COORDINATOR, periods=[FIRST_YEAR, SECOND_YEAR], reason="again", on=PERIOD_START
        )
        assert again == periods
        assert memory_app.grant().version == version, "the same periods again record nothing"

    def test_periods_with_a_gap_are_refused_and_nothing_is_recorded(self, memory_app: GrantLedger) -> None:
        sign_alliance(memory_app)
        version = memory_app.grant().version
        with pytest.raises(InvalidInput, match="no gap or overlap"):
            memory_app.set_reporting_periods(
                actor=COORDINATOR, periods=[FIRST_YEAR, (date(2022, 9, 2), PERIOD_END)], reason="x", on=PERIOD_START
            )
        assert memory_app.grant().version == version
        assert memory_app.grant().reporting_periods == ()

    @pytest.mark.parametrize("who", [AUDITOR, officer("NTT")])
    def test_only_the_coordinator_sets_them(self, memory_app: GrantLedger, who: object) -> None:
        sign_alliance(memory_app)
        with pytest.raises(NotAllowed):
            memory_app.set_reporting_periods(actor=who, periods=[FIRST_YEAR, SECOND_YEAR], reason="x", on=PERIOD_START)  # type: ignore[arg-type]

    def test_the_periods_survive_a_reload_and_a_repeated_signing(self, memory_app: GrantLedger) -> None:
        sign_alliance(memory_app)
        memory_app.set_reporting_periods(
            actor=COORDINATOR, periods=[FIRST_YEAR, SECOND_YEAR], reason="GA", on=PERIOD_START
        )
        sign_alliance(memory_app)  # the same terms again: recorded nothing, refused nothing
        assert len(memory_app.repository.get(Grant.ID).reporting_periods) == 2
