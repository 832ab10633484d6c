"""The auditors' independent recompute: budget lines folded from the raw stored events equal the
read models, and a nudged figure, a line the events do not have, or a claim still pending are
named; it stops at the read models' position and reads encrypted stores."""

from __future__ import annotations

import base64
import os
import uuid
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import update

from api.cli import main
from bench.workload import Workload
from ledger.application import GrantLedger
from ledger.budget import BudgetLine, line_id
from ledger.storage import open_ledger
from projections import tables as t
from projections.db import ReadDatabase, read_url_for
from projections.projector import Projector
from projections.recompute import MEASURES, check_books, recompute
from tests.builders import eur_line, officer, open_mission, selected_sme, sign_alliance


@pytest.mark.parametrize("seed", [3, 11])
def test_the_events_add_up_to_the_read_models(app: GrantLedger, read_db: ReadDatabase, seed: int) -> None:
    """A realistic history (claims in five currencies, partial approvals, payments and bounces,
    own costs, transfers): every budget line's five figures equal the read models'."""
    Workload(app, seed=seed).run(40)
    Projector(app, read_db).catch_up()
    check = check_books(app, read_db)
    assert check.ok, check.problems
    assert check.recomputed.position == app.recorder.max_notification_id()
    assert len(check.recomputed.figures) >= 6 * 6
    assert any(f["pending"] for f in check.recomputed.figures.values()) or any(
        f["committed"] for f in check.recomputed.figures.values()
    )


def test_the_figures_equal_the_budget_lines_as_the_ledger_loads_them(memory_app: GrantLedger) -> None:
    """The fold agrees with the aggregates themselves (allocated, committed, paid, spent)."""
    Workload(memory_app, seed=5).run(30)
    for (partner, category), figures in recompute(memory_app).figures.items():
        line: BudgetLine = memory_app.repository.get(line_id(partner, category))
        booked = {m: getattr(line, m).amount for m in MEASURES if m != "pending"}
        assert {m: figures[m] for m in booked} == booked, (partner, category)


def test_a_nudged_figure_is_named_with_both_values(app: GrantLedger, read_db: ReadDatabase) -> None:
    Workload(app, seed=7).run(20)
    Projector(app, read_db).catch_up()
    with read_db.writing() as conn:
        conn.execute(
            update(t.budget_lines)
            .where(t.budget_lines.c.partner == "NTT", t.budget_lines.c.category == "TRAVEL")
            .values(allocated=t.budget_lines.c.allocated + Decimal("0.01"))
        )
    check = check_books(app, read_db)
    assert not check.ok
    assert len(check.problems) == 1
    assert check.problems[0].startswith("NTT TRAVEL allocated: the read models show ")
    assert "the events add up to" in check.problems[0]
    assert "1 figures differ" in str(check)


def test_events_past_the_read_models_are_left_for_later(memory_app: GrantLedger) -> None:
    """A claim recorded after the read models' position is not counted: the check compares like with like."""
    db = ReadDatabase("sqlite://")
    try:
        sign_alliance(memory_app)
        mission = open_mission(memory_app)
        sme = selected_sme(memory_app, mission)
        Projector(memory_app, db).catch_up()
        memory_app.submit_claim(
            actor=officer("POINTEX"),
            claim_id=uuid.uuid4(),
            sme_id=sme,
            mission_id=mission,
            lines=[eur_line("100.00")],
            on=date(2023, 4, 1),
        )
        assert check_books(memory_app, db).ok
        Projector(memory_app, db).catch_up()
        check = check_books(memory_app, db)
        assert check.ok
        assert check.recomputed.figures[("POINTEX", "FSTP")]["pending"] == Decimal("70.00")
    finally:
        db.close()


def test_an_encrypted_store_recomputes_the_same(tmp_path: os.PathLike[str]) -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    url = f"sqlite:///{tmp_path}/enc.db"
    app = open_ledger(url, cipher_key=key)
    db = ReadDatabase(read_url_for(url, environ={}))
    try:
        Workload(app, seed=9).run(15)
        Projector(app, db).catch_up()
        check = check_books(app, db)
        assert check.ok, check.problems
        assert check.recomputed.events > 50
    finally:
        db.close()
        app.close()


def test_the_command_says_it_and_exits_by_the_verdict(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    app = open_ledger(store_url)
    try:
        Workload(app, seed=2).run(10)
    finally:
        app.close()
    ReadDatabase(read_url_for(store_url, environ={})).close()  # made, empty: verify brings it up to date
    assert main(["--database-url", store_url, "verify", "--recompute"]) == 0
    assert "every figure equals the read models'" in capsys.readouterr().out
    db = ReadDatabase(read_url_for(store_url, environ={}))
    try:
        with db.writing() as conn:
            conn.execute(update(t.budget_lines).values(paid=t.budget_lines.c.paid + Decimal("1.00")))
    finally:
        db.close()
    assert main(["--database-url", store_url, "verify", "--recompute"]) == 1
    assert "figures differ" in capsys.readouterr().out
