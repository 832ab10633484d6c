"""``python -m bench``: run the benchmarks, print the table, write the JSON.

Every figure is measured beside its baseline in this one run (see BENCHMARKS.md)."""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.options import Options
from bench.report import Figure, render, write_json

#: Section name -> module with ``run(options) -> list[Figure]``, in the order of the issue.
SECTIONS = {
    "commands": "bench.commands",
    "rebuild": "bench.rebuild",
    "balances": "bench.balances",
    "http": "bench.http",
    "snapshots": "bench.snapshots",
    "web": "bench.web",
    "statements": "bench.statements",
    "scaleout": "bench.scaleout",
}
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run in well under two minutes")
    parser.add_argument("--only", action="append", choices=sorted(SECTIONS), help="run only these sections")
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"), help="where to write the figures")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("GRANTLEDGER_BENCH_POSTGRES", DEFAULT_POSTGRES),
        help="PostgreSQL URL for the PostgreSQL figures; 'none' skips them",
    )
    parser.add_argument("--workdir", type=Path, help="scratch folder (default: a temporary one, removed after)")
    parser.add_argument(
        "--events",
        type=int,
        action="append",
        help="event-log size for the rebuild figures (repeatable; default 100000 and 1000000, quick: 20000)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="grantledger-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    events = tuple(args.events or ((20_000,) if args.quick else (100_000, 1_000_000)))
    options = Options(
        quick=args.quick,
        workdir=workdir,
        postgres_url=None if args.postgres == "none" else args.postgres,
        rebuild_events=events,
    )
    figures: list[Figure] = []
    started = time.perf_counter()
    try:
        for name in args.only or list(SECTIONS):
            options.console.rule(name)
            section = importlib.import_module(SECTIONS[name])
            figures.extend(section.run(options))
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    render(figures, options.console)
    settings = {"quick": args.quick, "sections": args.only or list(SECTIONS), "rebuild_events": events}
    settings["seconds"] = round(time.perf_counter() - started, 1)
    write_json(args.json, figures, settings)
    options.console.print(f"figures written to {args.json} in {settings['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
