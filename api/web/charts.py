"""Burn charts drawn as inline SVG on the server: no JavaScript, nothing to load, and allowed by
the strict CSP (SVG elements with classes, styled by static/app.css; no style attribute).

A chart shows one series of projections.burn over business time: what is paid, spent as own
costs and committed, stacked, against the allocation (a step line), with the action period
and today marked. Everything here is pure: the scales, the ticks and the drawing; the figures
come from the series as they are (exact decimals, converted to float only for coordinates).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from markupsafe import Markup, escape

from api.web.render import amount
from projections.burn import BurnPoint, Series

#: The stacked bands, bottom up: (measure, label, CSS class).
BANDS = (
    ("paid", "Paid", "band-paid"),
    ("spent", "Own costs", "band-spent"),
    ("committed", "Committed", "band-committed"),
)
ONE = Decimal(1)


@dataclass(frozen=True)
class Size:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int

    @property
    def plot(self) -> tuple[float, float, float, float]:
        """The plot area: x from, x to, y bottom, y top (SVG y grows downwards)."""
        return float(self.left), float(self.width - self.right), float(self.height - self.bottom), float(self.top)


LARGE = Size(760, 300, 84, 24, 28, 44)
SMALL = Size(380, 190, 70, 14, 24, 36)


@dataclass(frozen=True)
class Scale:
    """A linear map from [low, high] onto [start, end] (screen coordinates)."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        span = self.high - self.low
        share = 0.0 if span == 0 else (value - self.low) / span
        return round(self.start + share * (self.end - self.start), 1)


def nice_step(top: Decimal, count: int = 5) -> Decimal:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving at most ``count`` steps to ``top``."""
    if top <= 0:
        return ONE
    rough = top / count
    power = Decimal(10) ** (len(str(int(rough))) - 1) if rough >= 1 else ONE
    for factor in (1, 2, Decimal("2.5"), 5, 10):
        step = power * factor
        if step * count >= top:
            return step
    return power * 10


def value_ticks(top: Decimal, count: int = 5) -> list[Decimal]:
    """0, step, 2 x step ... up to the first tick at or above ``top``."""
    step = nice_step(top, count)
    ticks = [Decimal(0)]
    while ticks[-1] < top:
        ticks.append(ticks[-1] + step)
    return ticks


def thousands(value: Decimal) -> str:
    """A tick's label: whole euros with thousands separators (120,000; 2,500)."""
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


def date_ticks(start: date, end: date, most: int = 8) -> list[date]:
    """The first days of months from ``start`` to ``end``, every 1, 2, 3, 6 or 12 months, at
    most ``most`` of them."""
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    every = next((n for n in (1, 2, 3, 6, 12, 24, 60) if months / n <= most), 120)
    ticks = []
    year, month = start.year, start.month
    if start.day != 1:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    while date(year, month, 1) <= end:
        if (year * 12 + month - 1) % every == 0:
            ticks.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return ticks


@dataclass(frozen=True)
class Mark:
    on: date
    label: str
    css: str
    #: The date lies beyond the chart's right edge: drawn there, with an arrow.
    beyond: bool = False


def domain(series: Series, period: tuple[date, date], today: date) -> tuple[date, date]:
    """The dates a chart spans: the action period, widened to every movement, and to today
    when today is not long after the period (an eighth of it); else today is marked beyond."""
    start, end = period
    if series.points:
        start, end = min(start, series.points[0].on), max(end, series.points[-1].on)
    if end < today <= end + (end - start) / 8:
        end = today
    return start, end


def marks(period: tuple[date, date], today: date, span: tuple[date, date], effective: date | None) -> list[Mark]:
    found = [
        Mark(period[0], f"start {period[0].isoformat()}", "mark-period"),
        Mark(period[1], f"end {period[1].isoformat()}", "mark-period"),
    ]
    if effective is not None:
        found.append(Mark(effective, f"as effective on {effective.isoformat()}", "mark-asked"))
    found.append(Mark(min(today, span[1]), f"today {today.isoformat()}", "mark-today", beyond=today > span[1]))
    return found


def _steps(
    points: list[tuple[date, Decimal]], x: Scale, y: Scale, span: tuple[date, date]
) -> list[tuple[float, float]]:
    """The corners of a step line: each value holds until the next change, from ``span[0]``
    (zero before the first change) to ``span[1]``."""
    day0 = span[0].toordinal()
    corners = [(x(0), y(0))]
    for on, value in points:
        at = x(on.toordinal() - day0)
        corners += [(at, corners[-1][1]), (at, y(float(value)))]
    corners.append((x(span[1].toordinal() - day0), corners[-1][1]))
    return corners


def _path(corners: list[tuple[float, float]], *, closed: bool = False) -> str:
    text = "M" + " L".join(f"{cx:g},{cy:g}" for cx, cy in corners)
    return text + (" Z" if closed else "")


def _stack(points: tuple[BurnPoint, ...], upto: date) -> list[tuple[date, list[Decimal]]]:
    """Per change up to ``upto``: the tops of the bands (paid, + own costs, + committed)."""
    stacked = []
    for point in points:
        if point.on > upto:
            break
        total, tops = Decimal(0), []
        for measure, _label, _css in BANDS:
            total += getattr(point, measure)
            tops.append(total)
        stacked.append((point.on, tops))
    return stacked


def describe(series: Series, title: str, upto: date) -> str:
    """The chart in words (its accessible description)."""
    last = series.at(upto)
    used = ", ".join(f"{label.lower()} EUR {amount(getattr(last, m))}" for m, label, _ in BANDS)
    return (
        f"{title}: on {upto.isoformat()} allocated EUR {amount(last.allocated)}; {used}; "
        f"remaining EUR {amount(last.remaining)}; pending claims EUR {amount(last.pending)}."
    )


def draw(
    series: Series,
    *,
    ident: str,
    title: str,
    period: tuple[date, date],
    today: date,
    effective: date | None = None,
    small: bool = False,
) -> Markup:
    """The chart of ``series`` as an SVG element (its title and description name it)."""
    size = SMALL if small else LARGE
    span = domain(series, period, today)
    upto = min(effective or today, span[1])
    stack = _stack(series.points, upto)
    highest = max([p.allocated for p in series.points] + [tops[-1] for _, tops in stack] + [Decimal(0)])
    ticks = value_ticks(highest, 4 if small else 5)
    left, right, bottom, top = size.plot
    x = Scale(0, float((span[1] - span[0]).days or 1), left, right)
    y = Scale(0, float(ticks[-1]), bottom, top)
    clip = min(upto, span[1])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart{" chart-small" if small else ""}" '
        f'viewBox="0 0 {size.width} {size.height}" role="img" aria-labelledby="{ident}-title {ident}-desc">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(describe(series, title, upto))}</desc>',
    ]
    for tick in ticks:
        at = y(float(tick))
        parts.append(f'<line class="grid" x1="{left:g}" x2="{right:g}" y1="{at:g}" y2="{at:g}"/>')
        parts.append(f'<text class="tick" x="{left - 6:g}" y="{at + 4:g}" text-anchor="end">{thousands(tick)}</text>')
    for tick_day in date_ticks(span[0], span[1], 4 if small else 8):
        at = x((tick_day - span[0]).days)
        label = tick_day.strftime("%b %Y") if not small else tick_day.strftime("%m/%y")
        parts.append(f'<line class="axis" x1="{at:g}" x2="{at:g}" y1="{bottom:g}" y2="{bottom + 4:g}"/>')
        parts.append(f'<text class="tick" x="{at:g}" y="{bottom + 17:g}" text-anchor="middle">{label}</text>')
    parts.append(f'<line class="axis" x1="{left:g}" x2="{right:g}" y1="{bottom:g}" y2="{bottom:g}"/>')
    lower = [(on, Decimal(0)) for on, _ in stack]
    for index, (_measure, _label, css) in enumerate(BANDS):
        upper = [(on, tops[index]) for on, tops in stack]
        if upper and any(value != low for (_, value), (_, low) in zip(upper, lower, strict=True)):
            outline = _steps(upper, x, y, (span[0], clip)) + list(reversed(_steps(lower, x, y, (span[0], clip))))
            parts.append(f'<path class="{css}" d="{_path(outline, closed=True)}"/>')
        lower = upper
    allocated = [(p.on, p.allocated) for p in series.points if p.on <= upto]
    parts.append(f'<path class="allocated" d="{_path(_steps(allocated, x, y, (span[0], clip)))}"/>')
    for index, mark in enumerate(marks(period, today, span, effective)):
        at = x((mark.on - span[0]).days)
        parts.append(f'<line class="{mark.css}" x1="{at:g}" x2="{at:g}" y1="{bottom:g}" y2="{top - 4:g}"/>')
        anchor = "end" if mark.beyond or at > (left + right) / 2 else "start"
        shift = -4 if anchor == "end" else 4
        label = mark.label + (" →" if mark.beyond else "")
        row = top - 8 if index % 2 == 0 else top + 6
        parts.append(
            f'<text class="mark-label {mark.css}-label" x="{at + shift:g}" y="{row:g}" text-anchor="{anchor}">'
            f"{escape(label)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it is escaped above
