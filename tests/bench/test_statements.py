"""The statements' benchmark (bench/statements.py) and the books it shares with the recompute
(bench.histories.books): both compare their answers with hledger's before they report a time,
on the largest history of the run, rebuilt and exported once; an answer that differs is refused."""

from __future__ import annotations

import os
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bench import balances, statements
from bench.histories import books
from bench.options import Options
from bench.workload import REPORTING_PERIODS
from projections import replay
from projections import tables as t
from projections.db import ReadDatabase

REQUIRE_HLEDGER = os.environ.get("GRANTLEDGER_REQUIRE_HLEDGER") == "1"
#: Two small histories (about 30 and 60 claims): the figures are on the larger.
SIZES = (300, 600)


@pytest.fixture
def options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Options:
    if shutil.which("hledger") is None:
        message = "hledger is not installed (apt-get install hledger; .ci/run installs it)"
        if REQUIRE_HLEDGER:
            pytest.fail(message)
        pytest.skip(message)
    monkeypatch.setenv("GRANTLEDGER_BENCH_CACHE", str(tmp_path / "cache"))
    workdir = tmp_path / "work"
    workdir.mkdir()
    return Options(quick=True, workdir=workdir, postgres_url=None, rebuild_events=SIZES)


def test_every_partners_statement_is_compared_then_timed(options: Options) -> None:
    (figure,) = statements.run(options)
    history = books(options, SIZES[-1])
    assert figure.bar == statements.BAR
    assert figure.ours > 0
    assert figure.baseline is not None
    assert figure.baseline > 0
    assert f"{history.events:,} events" in figure.note
    assert "period 2 (2023-03-01 to 2023-08-31)" in figure.note
    assert "-b 2023-03-01 -e 2023-09-01" in figure.note  # hledger's end is exclusive
    assert "6 partners' statements" in figure.note


def test_the_workloads_periods_each_hold_costs(options: Options) -> None:
    """The reporting periods the benchmark sets cut the generated history: each holds own costs
    and FSTP payments, and a statement's figures depend on its dates."""
    history = books(options, SIZES[-1])
    first, second = (statements.statements(history.read, number) for number in (1, 2))
    for found in (first, second):
        costs = found["costs"]
        assert isinstance(costs, dict)
        assert any(":OwnCosts:" in account for account in costs)
        assert any(account.endswith(":FSTP") for account in costs)
    assert first["costs"] != second["costs"]
    db = ReadDatabase(f"sqlite:///{history.read}", create=False)
    try:
        with db.reading() as conn:
            periods = conn.execute(select(t.reporting_periods.c.start, t.reporting_periods.c.end)).tuples().all()
    finally:
        db.close()
    assert [tuple(p) for p in periods] == list(REPORTING_PERIODS)


def test_the_books_are_made_once_for_the_recompute_and_the_statements(
    options: Options, monkeypatch: pytest.MonkeyPatch
) -> None:
    rebuilt: list[int] = []
    real = replay.rebuild

    def counted(*args: object, **kwargs: object) -> int:
        count = real(*args, **kwargs)  # type: ignore[arg-type]
        rebuilt.append(count)
        return count

    monkeypatch.setattr(replay, "rebuild", counted)
    recompute = balances.recompute_figure(options, 1)
    statements.run(options)
    history = books(options, SIZES[-1])
    assert rebuilt == [history.events]
    assert recompute.bar == balances.RECOMPUTE_BAR
    assert recompute.baseline is not None
    assert f"{history.events:,} events" in recompute.note
    assert "equal on" in recompute.note


def test_a_statement_that_differs_from_hledger_is_refused(options: Options) -> None:
    """A cent moved in the read models after the journal was exported: no time is reported."""
    history = books(options, SIZES[-1])
    db = ReadDatabase(f"sqlite:///{history.read}")
    m = t.movements.c
    try:
        with db.writing() as conn:
            position, seq = conn.execute(
                select(m.position, m.seq)
                .where(m.measure == "paid", m.category == "FSTP", m.effective_date >= date(2023, 3, 1))
                .limit(1)
            ).one()
            conn.execute(
                update(t.movements).where(m.position == position, m.seq == seq).values(delta=m.delta + Decimal("0.01"))
            )
    finally:
        db.close()
    with pytest.raises(RuntimeError, match="hledger disagrees"):
        statements.run(options)
