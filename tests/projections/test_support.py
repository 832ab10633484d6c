"""SME support against its caps: the SMEs of a mission with their support there and overall,
and the SMEs close to a cap (a mission's cap per SME or the grant's overall cap), on SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest
from sqlalchemy import Connection

from ledger.application import GrantLedger
from ledger.storage import open_ledger
from projections import glance
from projections.db import ReadDatabase, read_url_for
from projections.projector import Projector
from projections.support import mission_support
from tests.builders import eur, eur_line, grant_terms, officer, open_mission, selected_sme, submit

POINTEX = officer("POINTEX")


@dataclass
class Recorded:
    japan: UUID
    canada: UUID
    smes: dict[str, UUID]


def approved(app: GrantLedger, mission: UUID, sme: UUID, amount: str) -> None:
    """A claim of ``amount`` EUR approved in full (70% of it is the support approved)."""
    claim = submit(app, mission, sme, eur_line(amount))
    app.approve_claim(actor=POINTEX, claim_id=claim, on=date(2023, 4, 10))


def record(app: GrantLedger) -> Recorded:
    """Two POINTEX missions (cap EUR 2,000 per SME, 70%) and an overall cap of EUR 3,000:
    "near" has 1,610.00 approved in Japan (80.5% of its cap), "edge" exactly 1,600.00 (80%),
    "far" 700.00; "both" 1,400.00 in Japan and 1,120.00 in Canada: 2,520.00 overall (84%)."""
    app.sign_grant(**grant_terms(sme_support_cap=eur("3000.00")))
    japan = open_mission(app)
    canada = open_mission(app, code="CAN-2023")
    smes = {key: selected_sme(app, japan, name=name) for key, name in (
        ("near", "Alpha Near S.r.l."), ("edge", "Beta Edge S.r.l."), ("far", "Gamma Far S.r.l."),
        ("both", "Delta Both S.r.l."),
    )}  # fmt: skip
    app.select_sme(actor=POINTEX, mission_id=canada, sme_id=smes["both"], on=date(2022, 12, 6))
    approved(app, japan, smes["near"], "2300.00")
    approved(app, japan, smes["edge"], "2285.72")  # 70% is 1,600.004: 1,600.00
    approved(app, japan, smes["far"], "1000.00")
    approved(app, japan, smes["both"], "2000.00")
    approved(app, canada, smes["both"], "1600.00")
    return Recorded(japan, canada, smes)


@pytest.fixture
def books(store_url: str) -> Iterator[tuple[Connection, Recorded]]:
    app = open_ledger(store_url)
    db = ReadDatabase(read_url_for(store_url, environ={}))
    try:
        recorded = record(app)
        Projector(app, db).catch_up()
        with db.reading() as conn:
            yield conn, recorded
    finally:
        db.close()
        app.close()


class TestMissionSupport:
    def test_each_selected_sme_against_the_missions_cap_and_overall(self, books: tuple[Connection, Recorded]) -> None:
        """By legal name; the support on this mission beside its cap per SME, and the support on
        every mission beside the overall cap."""
        conn, recorded = books
        rows = mission_support(conn, str(recorded.japan))
        assert [row.legal_name for row in rows] == [
            "Alpha Near S.r.l.",
            "Beta Edge S.r.l.",
            "Delta Both S.r.l.",
            "Gamma Far S.r.l.",
        ]
        both = rows[2]
        assert (both.sme_id, both.approved, both.cap, both.remaining) == (
            str(recorded.smes["both"]),
            Decimal("1400.00"),
            Decimal("2000.00"),
            Decimal("600.00"),
        )
        assert (both.approved_overall, both.overall_cap, both.remaining_overall) == (
            Decimal("2520.00"),
            Decimal("3000.00"),
            Decimal("480.00"),
        )
        assert [row.sme_id for row in mission_support(conn, str(recorded.canada))] == [str(recorded.smes["both"])]

    def test_a_mission_without_smes_has_none(self, books: tuple[Connection, Recorded]) -> None:
        conn, _ = books
        assert mission_support(conn, "no-such-mission") == []


class TestNearCap:
    def test_smes_at_or_past_the_share_of_a_cap_the_closest_first(self, books: tuple[Connection, Recorded]) -> None:
        """80% of a mission's cap (1,600.00) counts, exactly; 70% does not; 84% of the overall
        cap is listed as the overall cap's, with what remains."""
        conn, _ = books
        near = glance.smes_near_cap(conn)
        assert [(n.legal_name, n.mission_code, n.approved, n.cap, n.remaining) for n in near] == [
            ("Delta Both S.r.l.", None, Decimal("2520.00"), Decimal("3000.00"), Decimal("480.00")),
            ("Alpha Near S.r.l.", "JPN-2023", Decimal("1610.00"), Decimal("2000.00"), Decimal("390.00")),
            ("Beta Edge S.r.l.", "JPN-2023", Decimal("1600.00"), Decimal("2000.00"), Decimal("400.00")),
        ]

    def test_the_share_is_a_parameter_and_the_list_is_bounded(self, books: tuple[Connection, Recorded]) -> None:
        """At 70% "Delta Both" in Japan (1,400.00 of 2,000.00) and in Canada (1,120.00 is 56%: no)
        join; a limit keeps the closest."""
        conn, _ = books
        near = glance.smes_near_cap(conn, Decimal("0.70"))
        assert ("Delta Both S.r.l.", "JPN-2023") in [(n.legal_name, n.mission_code) for n in near]
        assert ("Delta Both S.r.l.", "CAN-2023") not in [(n.legal_name, n.mission_code) for n in near]
        assert len(near) == 4, "the three at 80%, and Delta Both in Japan"
        assert [n.legal_name for n in glance.smes_near_cap(conn, limit=1)] == ["Delta Both S.r.l."]
        assert Decimal("0.80") == glance.NEAR_CAP
