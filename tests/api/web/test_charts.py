"""The SVG drawing of a burn chart (api/web/charts.py): scales, round ticks with thousands
separators, month ticks, the action period and today marked, the bands stacked, and a drawing
that is well-formed SVG naming itself for assistive technology."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

from api.web.charts import Scale, date_ticks, domain, draw, marks, nice_step, thousands, value_ticks
from projections.burn import BurnPoint, Series

SVG = "{http://www.w3.org/2000/svg}"
PERIOD = (date(2021, 9, 1), date(2023, 8, 31))
D = Decimal


def point(on: date, allocated: str, committed: str = "0", paid: str = "0", spent: str = "0") -> BurnPoint:
    return BurnPoint(on, D(allocated), D(0), D(committed), D(paid), D(spent))


SERIES = Series(
    (
        point(date(2021, 9, 1), "21200.00"),
        point(date(2023, 4, 10), "21200.00", committed="934.15"),
        point(date(2023, 4, 20), "21200.00", committed="70.00", paid="864.15"),
    )
)


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own drawing, parsed to check it


class TestScales:
    def test_a_linear_map_onto_screen_coordinates(self) -> None:
        y = Scale(0, 100, 250, 50)  # upwards: SVG y grows down
        assert (y(0), y(50), y(100)) == (250, 150, 50)
        assert Scale(5, 5, 0, 10)(5) == 0, "an empty domain does not divide by zero"

    def test_round_steps_and_ticks(self) -> None:
        assert nice_step(D("21200")) == 5000
        assert nice_step(D("9")) == 2
        assert nice_step(D("480000")) == 100000
        assert nice_step(D(0)) == 1
        assert value_ticks(D("21200")) == [0, 5000, 10000, 15000, 20000, 25000]
        assert value_ticks(D("20000")) == [0, 5000, 10000, 15000, 20000], "the top itself when round"

    def test_tick_labels_have_thousands_separators(self) -> None:
        assert [thousands(t) for t in value_ticks(D("480000"))] == [
            "0",
            "100,000",
            "200,000",
            "300,000",
            "400,000",
            "500,000",
        ]
        assert thousands(D("2.5")) == "2.50"

    def test_month_ticks_on_the_first_days_at_most_so_many(self) -> None:
        ticks = date_ticks(*PERIOD)
        assert ticks[0] == date(2021, 10, 1)
        assert ticks[-1] == date(2023, 7, 1)
        assert all(t.day == 1 and t.month in (1, 4, 7, 10) for t in ticks)
        assert len(ticks) <= 8
        assert date_ticks(date(2023, 1, 1), date(2023, 3, 31)) == [date(2023, 1, 1), date(2023, 2, 1), date(2023, 3, 1)]


class TestMarks:
    def test_today_inside_or_soon_after_the_period_is_on_the_chart(self) -> None:
        assert domain(SERIES, PERIOD, date(2022, 5, 1)) == PERIOD
        soon = date(2023, 10, 1)
        assert domain(SERIES, PERIOD, soon) == (PERIOD[0], soon)
        today = [m for m in marks(PERIOD, soon, (PERIOD[0], soon), None) if m.css == "mark-today"]
        assert today[0].on == soon
        assert not today[0].beyond

    def test_today_long_after_the_period_is_marked_beyond_the_edge(self) -> None:
        later = date(2026, 12, 2)
        span = domain(SERIES, PERIOD, later)
        assert span == PERIOD
        found = {m.css: m for m in marks(PERIOD, later, span, date(2023, 4, 15))}
        assert found["mark-today"].beyond
        assert found["mark-today"].on == PERIOD[1]
        assert found["mark-asked"].on == date(2023, 4, 15)
        svg = draw(SERIES, ident="c", title="t", period=PERIOD, today=later)
        assert "today 2026-12-02 →" in svg

    def test_the_period_marks_stand_at_its_start_and_end(self) -> None:
        root = parsed(draw(SERIES, ident="c", title="t", period=PERIOD, today=date(2023, 1, 1)))
        lines = {float(line.get("x1", "0")) for line in root.iter(f"{SVG}line") if line.get("class") == "mark-period"}
        assert lines == {84.0, 736.0}, "the plot's left and right edges (the domain is the period)"
        today = next(line for line in root.iter(f"{SVG}line") if line.get("class") == "mark-today")
        assert 84 < float(today.get("x1", "0")) < 736


class TestDrawing:
    def test_well_formed_with_its_name_and_description(self) -> None:
        root = parsed(draw(SERIES, ident="main", title="POINTEX FSTP", period=PERIOD, today=date(2026, 12, 2)))
        assert root.get("role") == "img"
        assert root.get("aria-labelledby") == "main-title main-desc"
        assert root.findtext(f"{SVG}title") == "POINTEX FSTP"
        desc = root.findtext(f"{SVG}desc") or ""
        assert "allocated EUR 21,200.00" in desc
        assert "paid EUR 864.15" in desc
        assert "committed EUR 70.00" in desc
        assert "remaining EUR 20,265.85" in desc
        assert not any("style" in element.attrib for element in root.iter()), "no inline style (CSP)"

    def test_only_the_bands_with_figures_are_drawn(self) -> None:
        root = parsed(draw(SERIES, ident="c", title="t", period=PERIOD, today=date(2026, 12, 2)))
        classes = [path.get("class") for path in root.iter(f"{SVG}path")]
        assert classes == ["band-paid", "band-committed", "allocated"], "no own costs on this line"

    def test_the_allocation_steps_at_its_changes(self) -> None:
        moved = Series((point(date(2021, 9, 1), "1000.00"), point(date(2022, 9, 1), "2000.00")))
        root = parsed(draw(moved, ident="c", title="t", period=PERIOD, today=date(2026, 12, 2)))
        allocated = next(p for p in root.iter(f"{SVG}path") if p.get("class") == "allocated").get("d", "")
        heights = {corner.split(",")[1] for corner in allocated.removeprefix("M").split(" L")}
        assert len(heights) == 3, "zero, then 1,000, then 2,000"

    def test_as_effective_on_a_day_nothing_is_drawn_after_it(self) -> None:
        svg = draw(SERIES, ident="c", title="t", period=PERIOD, today=date(2026, 12, 2), effective=date(2023, 4, 15))
        assert "committed EUR 934.15" in svg
        assert "paid EUR 0.00" in svg
        assert "as effective on 2023-04-15" in svg

    def test_titles_are_escaped(self) -> None:
        svg = draw(Series(()), ident="c", title="<b>&", period=PERIOD, today=date(2022, 1, 1))
        assert "&lt;b&gt;&amp;" in svg
        assert "<b>" not in svg
