"""Whatever text the ledger accepts, every read model on every store can hold and give back.

Generated text over the whole Unicode range (surrogates, controls, invisible and unassigned
code points included) goes through the real Application into several fields. The ledger's
own acceptance is the only filter: a command refused with InvalidInput is skipped; one it
accepts must project with the real Projector, on SQLite and on PostgreSQL, and read back
through the query functions exactly as the ledger recorded it.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import TypeVar
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.application import GrantLedger
from ledger.claim import ExpenseLine
from ledger.errors import InvalidInput
from ledger.storage import open_ledger
from projections.db import ReadDatabase, read_url_for
from projections.projector import Projector
from projections.queries import AuditFilter, audit_trail, claim_detail, sme_summaries
from tests.builders import eur, officer, open_mission, selected_sme, sign_alliance

T = TypeVar("T")
POINTEX = officer("POINTEX")
DAY = date(2022, 12, 5)

#: Characters that broke or could break a store, a reader or a line, beside the whole range.
NASTY = "\x00\x01\x1b\x7f\x85\t\n\r\u00a0\u00ad\u200b\u200d\u2028\u202e\u2066\ufeff\ufffd\ufffe\ue000\ud800\udfff"
TEXT = st.text(
    st.one_of(st.characters(exclude_categories=()), st.sampled_from(NASTY), st.sampled_from("aé e\u0301'\"\\%_;")),
    max_size=24,
)


@dataclass
class World:
    app: GrantLedger
    db: ReadDatabase
    projector: Projector
    mission: UUID
    sme: UUID


@pytest.fixture
def world(store_url: str) -> Iterator[World]:
    app = open_ledger(store_url)
    db = ReadDatabase(read_url_for(store_url, environ={}))
    try:
        sign_alliance(app)
        mission = open_mission(app)
        yield World(app, db, Projector(app, db), mission, selected_sme(app, mission))
    finally:
        db.close()
        app.close()


def accepted(command: Callable[[], T]) -> T | None:
    """The command's result, or None if the ledger refused its input (nothing recorded)."""
    try:
        return command()
    except InvalidInput:
        return None


_serial = itertools.count()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(legal_name=TEXT, identifier=TEXT, description=TEXT, receipt=TEXT, reason=TEXT, cost_text=TEXT)
def test_accepted_text_projects_and_reads_back(
    world: World, legal_name: str, identifier: str, description: str, receipt: str, reason: str, cost_text: str
) -> None:
    app, n = world.app, next(_serial)
    sme_id = uuid.uuid4()
    registered = accepted(
        lambda: app.register_sme(
            actor=POINTEX, sme_id=sme_id, legal_name=legal_name, country="IT", identifier=f"{identifier}#{n}", on=DAY
        )
    )
    line = accepted(lambda: ExpenseLine("TRAVEL", date(2023, 3, 14), eur("10"), f"{receipt}#{n}", description))
    claim_id = uuid.uuid4()
    submitted = (
        None
        if line is None
        else app.submit_claim(
            actor=POINTEX,
            claim_id=claim_id,
            sme_id=world.sme,
            mission_id=world.mission,
            lines=[line],
            on=date(2023, 4, 1),
        )
    )

    def reject() -> bool:
        app.reject_claim(actor=POINTEX, claim_id=claim_id, reason=reason, on=date(2023, 4, 2))
        return True

    rejected = submitted is not None and accepted(reject)
    cost_id = uuid.uuid4()
    cost = accepted(
        lambda: app.record_cost(
            actor=POINTEX,
            cost_id=cost_id,
            partner="POINTEX",
            category="TRAVEL",
            amount=eur("1"),
            document_ref=f"DOC#{n}",
            description=cost_text,
            on=DAY,
        )
    )

    world.projector.catch_up()  # whatever was accepted must project
    assert world.projector.failure is None
    with world.db.reading() as conn:
        if registered is not None:
            sme = app.sme(sme_id)
            (summary,) = sme_summaries(conn, str(sme_id))
            assert (summary.legal_name, summary.identifier) == (sme.legal_name, sme.identifier)
        if submitted is not None:
            recorded = app.claim(claim_id)
            detail = claim_detail(conn, str(claim_id))
            assert detail is not None
            assert (detail.lines[0].description, detail.lines[0].receipt_ref) == (
                recorded.lines[0].description,
                recorded.lines[0].receipt_ref,
            )
            if rejected:
                event = list(app.events.get(claim_id))[-1]
                assert detail.claim.reason == getattr(event, "reason", None)
        if cost is not None:
            (row,) = audit_trail(conn, AuditFilter(aggregate_id=str(cost_id)))
            assert row["payload"]["description"] == app.cost(cost_id).description
