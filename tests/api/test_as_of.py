"""A question about a point in time that holds no grant says which kind of date it was about:
``as_of`` and ``position`` ask what had been recorded, ``effective`` what had taken effect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.api.conftest import Api


@pytest.mark.usefixtures("alliance")
class TestNoGrantAtThatPoint:
    def test_as_of_a_day_before_anything_was_recorded_points_to_effective(self, api: Api) -> None:
        """The README's tour on a demo recorded today: as_of=2023-03-31 finds nothing recorded,
        and the 404 says so and offers effective=2023-03-31, which answers."""
        for path in ("/budget", "/partners/POINTEX/budget"):
            answer = api.get(path, as_of="2023-03-31")
            assert answer.status_code == 404
            detail = answer.json()["detail"]
            assert "nothing had been recorded by the end of 2023-03-31" in detail
            assert "effective=2023-03-31" in detail
        assert api.get("/budget", effective="2023-03-31").status_code == 200

    def test_yesterday_is_a_recording_date_too(self, api: Api) -> None:
        yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
        assert f"by the end of {yesterday} (UTC)" in api.get("/budget", as_of=yesterday).json()["detail"]

    def test_position_before_the_grant(self, api: Api) -> None:
        detail = api.get("/budget", position=0).json()["detail"]
        assert "recorded after event position 0" in detail

    def test_effective_before_the_grant(self, api: Api) -> None:
        answer = api.get("/budget", effective="2021-08-31")
        assert answer.status_code == 404
        assert "had not taken effect on 2021-08-31" in answer.json()["detail"]
