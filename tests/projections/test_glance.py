"""The home pages' small reads (projections.glance) on the demo's read models."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.demo import load_demo
from ledger.storage import open_ledger
from projections import glance, lists
from projections.db import ReadDatabase
from projections.projector import Projector


@pytest.fixture(scope="module")
def read_db() -> Iterator[ReadDatabase]:
    app = open_ledger("memory://")
    db = ReadDatabase("sqlite://")
    try:
        load_demo(app)
        Projector(app, db).catch_up()
        yield db
    finally:
        db.close()
        app.close()


class TestLabels:
    def test_rows_get_the_same_names_as_from_every_sme_and_only_theirs_are_read(self, read_db: ReadDatabase) -> None:
        """Labels for the rows a page shows name each row's SME as the full labels do, and
        hold no other SME (a page with ten rows does not read every SME's name)."""
        with read_db.reading() as conn:
            every = glance.labels(conn)
            waiting, _ = glance.waiting_longest(conn, limit=3)
            payments, _ = lists.list_payments(conn, limit=2)
            rows = [*waiting, *payments]
            some = glance.labels(conn, rows)
        named = {row.sme_id for row in rows}
        assert named
        assert len(every.smes) > len(named)
        assert some.smes == {sme: every.smes[sme] for sme in named}
        assert all(some.sme(row.sme_id) == every.sme(row.sme_id) != row.sme_id for row in rows)
        assert some.missions == every.missions

    def test_no_rows_read_no_sme(self, read_db: ReadDatabase) -> None:
        with read_db.reading() as conn:
            assert glance.labels(conn, []).smes == {}
            assert glance.labels(conn, []).missions
