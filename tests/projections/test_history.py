"""One record's history (projections.history): its events and its state at a version, the
state flattened into fields and compared with the version before; the record and event
types the trail's filters may name; and the trail newest first, paged back by position."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest

from ledger.application import GrantLedger
from projections.db import ReadDatabase
from projections.history import VersionNotRecorded, compare, flatten, record_history, record_types
from projections.queries import AuditFilter, audit_trail
from tests.projections.findable import Findable, projected

Books = tuple[GrantLedger, ReadDatabase, Findable]
EUR_10 = {"amount": "10.00", "currency": "EUR"}


@pytest.fixture
def books(store_url: str) -> Iterator[Books]:
    with projected(store_url) as opened:
        yield opened


class TestRecordHistory:
    def test_every_version_and_the_state_at_each(self, books: Books) -> None:
        """A paid claim: submitted, approved, paid; at version 2 approved and nothing paid yet."""
        app, db, found = books
        claim_id = found.claims["paid"]
        with db.reading() as conn:
            latest = record_history(conn, app, claim_id)
            then = record_history(conn, app, claim_id, 2)
        assert latest is not None
        assert then is not None
        assert [e["event_type"] for e in latest.events] == ["Submitted", "Approved", "ReimbursementPaid"]
        assert (latest.aggregate_type, latest.version, latest.latest) == ("Claim", 3, 3)
        assert latest.state["state"] == "paid"
        assert (then.version, then.state["state"], then.state["paid"]["amount"]) == (2, "approved", "0.00")

    def test_an_unknown_record_or_version(self, books: Books) -> None:
        app, db, found = books
        with db.reading() as conn:
            assert record_history(conn, app, UUID(int=1)) is None
            with pytest.raises(VersionNotRecorded, match=r"version 9 of record .* \(it has 3\)"):
                record_history(conn, app, found.claims["paid"], 9)


class TestComparing:
    def test_nested_values_flatten_to_labelled_fields(self) -> None:
        """Lists count from 1; money is one field; an empty list is a field too."""
        state = {"lines": [{"amount": EUR_10, "ref": "R-1"}], "state": "paid", "payments": {}}
        assert flatten(state) == {
            ("lines", "1", "amount"): EUR_10,
            ("lines", "1", "ref"): "R-1",
            ("state",): "paid",
            ("payments",): {},
        }

    def test_what_changed_from_the_version_before(self) -> None:
        before = {"state": "approved", "paid": {"amount": "0.00", "currency": "EUR"}, "note": "x"}
        after = {"state": "paid", "paid": EUR_10, "payments": {"p1": EUR_10}}
        changes = {f.path: f.change for f in compare(after, before)}
        assert changes == {
            ("state",): "changed",
            ("paid",): "changed",
            ("payments", "p1"): "new",
            ("note",): "removed",
        }
        assert {f.change for f in compare(after, None)} == {""}, "the first version: nothing to compare"
        assert {f.change for f in compare(after, after)} == {""}


def test_the_record_types_and_their_events_are_the_ledgers() -> None:
    """Every aggregate's recorded events, and not the library's bases (Event, Created)."""
    types = record_types()
    assert {"Claim", "BudgetLine", "Sme", "Mission", "Payment", "Cost", "ExchangeRate", "Grant"} <= set(types)
    assert {"Submitted", "Approved", "ReimbursementPaid", "Rejected"} <= set(types["Claim"])
    assert not {"Event", "Created"} & {name for events in types.values() for name in events}


def test_the_trail_newest_first_paged_back(books: Books) -> None:
    """Newest first, then the page before the last position seen; the same rows as log order."""
    _app, db, _found = books
    with db.reading() as conn:
        everything = [row["position"] for row in audit_trail(conn, limit=10_000)]
        first = audit_trail(conn, limit=5, newest_first=True)
        second = audit_trail(conn, AuditFilter(before_position=first[-1]["position"]), limit=5, newest_first=True)
        claims = audit_trail(conn, AuditFilter(aggregate_type="Claim"), limit=10_000, newest_first=True)
    assert [row["position"] for row in first + second] == everything[::-1][:10]
    assert {row["aggregate_type"] for row in claims} == {"Claim"}
    assert [row["position"] for row in claims] == sorted((row["position"] for row in claims), reverse=True)
