"""The auditors' independent recompute: budget lines folded from the raw stored events equal the
read models, and a nudged figure, a line the events do not have, or a claim still pending are
named; it stops at the read models' position and reads encrypted stores."""

from __future__ import annotations

import base64
import os
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import update

from api.cli import main
from bench.workload import Workload
from ledger.application import GrantLedger
from ledger.budget import BudgetLine, line_id
from ledger.storage import open_ledger
from projections import recompute as recompute_module
from projections import tables as t
from projections.db import ReadDatabase, read_url_for
from projections.projector import Projector
from projections.recompute import MEASURES, _notification_rows, _parsed, _sqlite_rows, check_books, recompute
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


def test_a_plain_sqlite_store_is_read_straight_from_its_table_with_the_same_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SQLite file's own table read in one transaction (no notifications built, ids as stored)
    gives the records the recorder's paged query by topic gives, up to the head or any position;
    other stores take the recorder's query."""
    app = open_ledger(f"sqlite:///{tmp_path}/plain.db")
    try:
        Workload(app, seed=13).run(25)
        head = app.recorder.max_notification_id()
        assert head is not None
        for upto in (None, head // 2, head // 3):
            rows = _sqlite_rows(app, upto)
            assert rows is not None
            direct = [(n, uuid.UUID(originator), topic, state) for n, originator, topic, state in rows]
            paged = [
                (n, uuid.UUID(originator), topic, state)
                for n, originator, topic, state in _notification_rows(app, upto, 7)
            ]
            assert direct == paged
            assert direct[-1][0] <= (head if upto is None else upto)
            with monkeypatch.context() as patched:
                patched.setattr(recompute_module, "_sqlite_rows", lambda _app, _upto: None)
                by_pages = recompute(app, upto=upto, batch=7)
            assert recompute(app, upto=upto) == by_pages
        halfway = recompute(app, upto=head // 2)
        assert halfway.position == head // 2
        assert halfway.events == len(list(_notification_rows(app, head // 2, 100)))
        assert halfway.figures != recompute(app).figures
    finally:
        app.close()
    key = base64.b64encode(os.urandom(32)).decode()
    encrypted = open_ledger(f"sqlite:///{tmp_path}/encrypted.db", cipher_key=key)
    memory = open_ledger("memory://")
    try:
        assert _sqlite_rows(encrypted, None) is None
        assert _sqlite_rows(memory, None) is None
    finally:
        encrypted.close()
        memory.close()


def test_a_revoked_approval_is_pending_again_and_decisions_only_count_by_their_claim(memory_app: GrantLedger) -> None:
    """Pending is what was requested from submission to decision, again after an approval is
    revoked, and gone once decided again (the decisions' own figures are not read)."""
    sign_alliance(memory_app)
    mission = open_mission(memory_app)
    sme = selected_sme(memory_app, mission)
    claim_id = uuid.uuid4()
    actor = officer("POINTEX")
    memory_app.submit_claim(
        actor=actor, claim_id=claim_id, sme_id=sme, mission_id=mission, lines=[eur_line("100.00")], on=date(2023, 4, 1)
    )
    pending = recompute(memory_app).figures[("POINTEX", "FSTP")]
    assert pending["pending"] == Decimal("70.00")
    memory_app.approve_claim(actor=actor, claim_id=claim_id, decisions=[], reason="ok", on=date(2023, 4, 2))
    approved = recompute(memory_app).figures[("POINTEX", "FSTP")]
    assert (approved["pending"], approved["committed"]) == (Decimal(0), Decimal("70.00"))
    memory_app.revoke_approval(actor=actor, claim_id=claim_id, reason="wrong SME", on=date(2023, 4, 3))
    revoked = recompute(memory_app).figures[("POINTEX", "FSTP")]
    assert (revoked["pending"], revoked["committed"]) == (Decimal("70.00"), Decimal(0))
    memory_app.reject_claim(actor=actor, claim_id=claim_id, reason="receipt illegible", on=date(2023, 4, 4))
    assert recompute(memory_app).figures[("POINTEX", "FSTP")]["pending"] == Decimal(0)


@pytest.mark.parametrize("stored", [b'{"amount": 1} trailing', b' {"amount": 1}', b"[1, 2]", b"", b'{"amount": '])
def test_a_state_that_is_not_one_json_object_is_refused_by_its_topic(stored: bytes) -> None:
    with pytest.raises(ValueError, match=r"a stored ledger\.budget:Paid event does not hold one JSON object"):
        _parsed(stored, "ledger.budget:Paid")
    assert _parsed(b'{"amount": {"_data_": ["1.00", "EUR"]}}', "t") == {"amount": {"_data_": ["1.00", "EUR"]}}
