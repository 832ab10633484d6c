"""What one benchmark run was asked to do, handed to every section."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console


@dataclass(frozen=True)
class Options:
    #: Small sizes and short load phases: checks that every section completes (CI smoke).
    quick: bool
    #: Scratch space for stores, journals and cached histories.
    workdir: Path
    #: PostgreSQL server for the PostgreSQL figures (None: those figures are skipped).
    postgres_url: str | None
    console: Console = field(default_factory=lambda: Console(width=None if sys.stdout.isatty() else 150))
    #: Event-log sizes for the rebuild figures (approximate: whole claims are generated).
    rebuild_events: tuple[int, ...] = (100_000, 1_000_000)

    def say(self, message: str) -> None:
        self.console.print(f"[dim]{message}[/]")
