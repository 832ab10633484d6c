"""Burn over business time (projections.burn): every line's figures on every business date
equal the independent fold of the events dated by then (tests/projections/fold.py), summed per
partner too; the last point is budget_overview's figures; the books as recorded up to a
position and as effective on a date; on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest

from ledger.application import GrantLedger
from projections.burn import Burn, BurnPoint, burn, line_ids
from projections.db import ReadDatabase
from projections.queries import ZERO, AsOf, budget_overview
from tests.projections.findable import Findable, projected
from tests.projections.fold import MEASURES, Logged, effective_dates, fold, read_log

Books = tuple[GrantLedger, ReadDatabase, Findable, list[Logged]]


@pytest.fixture
def books(store_url: str) -> Iterator[Books]:
    with projected(store_url) as (app, db, found):
        yield app, db, found, read_log(app)


def figures(point: BurnPoint) -> dict[str, Decimal]:
    return {measure: getattr(point, measure) for measure in MEASURES}


def differences(found: Burn, log: list[Logged], days: list[date], *, stop: int | None = None) -> list[str]:
    """Where the series, read on each of ``days``, differ from the fold of the events up to
    ``stop`` dated on or before that day: per line, per partner and for the whole grant."""
    wrong = []
    for day in days:
        expected = fold(log, stop=stop, effective_on=day).budget()
        for key in sorted(set(expected) | set(found.keys)):
            want = expected.get(key, dict.fromkeys(MEASURES, ZERO))
            got = figures(found.line(*key).at(day))
            if got != want:
                wrong.append(f"{key} on {day}: burn {got}, fold {want}")
        for partner in {key[0] for key in expected}:
            want = {m: sum((f[m] for k, f in expected.items() if k[0] == partner), ZERO) for m in MEASURES}
            got = figures(found.partner(partner).at(day))
            if got != want:
                wrong.append(f"{partner} on {day}: burn {got}, fold {want}")
        grant = {m: sum((f[m] for f in expected.values()), ZERO) for m in MEASURES}
        if figures(found.grant().at(day)) != grant:
            wrong.append(f"the grant on {day}: burn {figures(found.grant().at(day))}, fold {grant}")
    return wrong


def every_day(log: list[Logged]) -> list[date]:
    """Each business date of the log, the day before the first, and the day after each."""
    days = effective_dates(log)
    return sorted({days[0] - timedelta(days=1), *days, *(day + timedelta(days=1) for day in days)})


class TestAgainstTheFold:
    def test_every_line_on_every_business_date(self, books: Books) -> None:
        """Per line, per partner and for the grant: the figures as effective on each day
        (a transfer, costs, approvals, payments, a bank return, a rejection) are the fold's."""
        _app, db, _found, log = books
        with db.reading() as conn:
            found = burn(conn)
        assert found is not None
        assert differences(found, log, every_day(log)) == []

    def test_as_recorded_up_to_a_position(self, books: Books) -> None:
        """What was known at a position, on every business date: the fold of the events up to it."""
        _app, db, _found, log = books
        for logged in log[:: max(1, len(log) // 12)]:
            with db.reading() as conn:
                found = burn(conn, AsOf(position=logged.position))
            if fold(log, stop=logged.position).grant is None:
                assert found is None
                continue
            assert found is not None
            assert differences(found, log, effective_dates(log), stop=logged.position) == []

    def test_a_series_changes_only_where_a_figure_does(self, books: Books) -> None:
        """One point per business date with a movement, in date order, each one different."""
        _app, db, _found, _log = books
        with db.reading() as conn:
            found = burn(conn)
        assert found is not None
        points = found.line("POINTEX", "FSTP").points
        assert [p.on for p in points] == sorted({p.on for p in points})
        assert all(figures(a) != figures(b) or a.on == b.on for a, b in itertools.pairwise(points))
        assert found.line("POINTEX", "FSTP").at(points[0].on - timedelta(days=1)).allocated == ZERO


class TestAgainstTheBudget:
    def test_the_last_point_is_the_budget_now_and_at_the_end_date(self, books: Books) -> None:
        """Each line's last figures are budget_overview's as booked (INDIRECT without the computed
        indirect costs), now and as effective on the last date."""
        _app, db, _found, log = books
        end = effective_dates(log)[-1]
        with db.reading() as conn:
            found = burn(conn)
            now, then = budget_overview(conn), budget_overview(conn, AsOf(effective=end))
            ids = line_ids(conn)
        assert found is not None
        assert now is not None
        assert then is not None
        assert set(found.keys) == {(line.partner, line.category) for line in now.lines} == set(ids)
        for overview in (now, then):
            for line in overview.booked():
                last = found.line(line.partner, line.category).last
                assert last is not None
                assert (last.committed, last.paid, last.spent, last.remaining) == (
                    line.committed,
                    line.paid,
                    line.spent,
                    line.remaining,
                ), line
        assert (found.period_start, found.period_end) == (now.period_start, now.period_end)

    def test_as_effective_on_a_date_the_series_stop_there(self, books: Books) -> None:
        """As effective on a day: no point after it, and the last one is the budget on that day."""
        _app, db, _found, log = books
        day = date(2023, 4, 23)  # both payments made, the bank return (04-25) not yet
        with db.reading() as conn:
            found = burn(conn, AsOf(effective=day))
            overview = budget_overview(conn, AsOf(effective=day))
        assert found is not None
        assert overview is not None
        fstp = found.line("POINTEX", "FSTP")
        assert fstp.points[-1].on <= day
        line = next(line for line in overview.lines if (line.partner, line.category) == ("POINTEX", "FSTP"))
        assert fstp.at(day).paid == line.paid == Decimal("864.15") + Decimal("70.00")
        assert differences(found, log, [day]) == []


def test_before_the_grant_there_is_no_burn(tmp_path: object) -> None:
    """No grant signed yet: None, as budget_overview."""
    from projections.db import read_url_for

    url = f"sqlite:///{tmp_path}/empty.db"
    db = ReadDatabase(read_url_for(url, environ={}))
    try:
        with db.reading() as conn:
            assert burn(conn) is None
    finally:
        db.close()
