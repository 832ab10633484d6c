"""Benchmark figures: ours beside a baseline measured in the same run, the ratio, and the bar.

A ratio is always "how many times better than the baseline": ours / baseline for rates,
baseline / ours for times and latencies. A figure may also carry an absolute limit (a p99 in
milliseconds, a peak memory in MiB) that ours must stay within.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


@dataclass(frozen=True)
class Figure:
    section: str
    name: str
    unit: str
    ours: float
    baseline: float | None = None
    baseline_name: str = ""
    higher_is_better: bool = True
    #: Required ratio (ours against the baseline), if the issue sets one.
    bar: float | None = None
    #: Absolute limit on ours (at least it when higher is better, at most it otherwise).
    limit: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or not self.baseline or not self.ours:
            return None
        return self.ours / self.baseline if self.higher_is_better else self.baseline / self.ours

    @property
    def meets(self) -> bool | None:
        """True or False against the bar and limit; None when neither applies."""
        checks = []
        if self.bar is not None and self.ratio is not None:
            checks.append(self.ratio >= self.bar)
        if self.limit is not None:
            checks.append(self.ours >= self.limit if self.higher_is_better else self.ours <= self.limit)
        return all(checks) if checks else None

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {"ratio": self.ratio, "meets": self.meets}


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:,.3g}"


def _verdict(figure: Figure) -> str:
    bars = []
    if figure.bar is not None:
        bars.append(f">= {figure.bar:g}x")
    if figure.limit is not None:
        bars.append(f"{'>=' if figure.higher_is_better else '<='} {_number(figure.limit)} {figure.unit}")
    if not bars:
        return ""
    mark = {True: "[green]meets[/]", False: "[red]misses[/]", None: "[yellow]n/a[/]"}[figure.meets]
    return f"{mark} {' and '.join(bars)}"


def render(figures: Iterable[Figure], console: Console) -> None:
    table = Table(title="GrantLedger benchmarks (ratio > 1: ours is better)", show_lines=False)
    for column in ("section", "figure", "ours", "baseline", "ratio", "bar"):
        table.add_column(column, justify="right" if column in {"ours", "ratio"} else "left")
    for figure in figures:
        baseline = f"{_number(figure.baseline)} ({figure.baseline_name})" if figure.baseline_name else "-"
        ratio = "-" if figure.ratio is None else f"{figure.ratio:.2f}x"
        name = figure.name + (f"\n[dim]{figure.note}[/]" if figure.note else "")
        table.add_row(figure.section, name, f"{_number(figure.ours)} {figure.unit}", baseline, ratio, _verdict(figure))
    console.print(table)


def write_json(path: Path, figures: list[Figure], settings: dict[str, Any]) -> None:
    document = {"machine": machine(), "settings": settings, "figures": [f.as_json() for f in figures]}
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
