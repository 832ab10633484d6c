"""Per-entity history: every event of one record, and its state at any version."""

from __future__ import annotations

from tests.api.conftest import Alliance, Api, expense


class TestEntityHistory:
    def test_a_claims_events_and_its_state_then_and_now(self, api: Api, alliance: Alliance) -> None:
        """A claim's history lists who did what and why, in order; at version 1 it was submitted
        with nothing approved, at the latest version it is paid with the approved amount."""
        claim = api.submit(alliance, expense("182000", "JPY", "JAL-7781"))
        api.approve(claim["id"], reason="receipts checked")
        api.pay(claim["id"], "879.66")
        now = api.get(f"/audit/entities/{claim['id']}").json()
        assert now["aggregate_type"] == "Claim"
        assert [e["event_type"] for e in now["events"]] == ["Submitted", "Approved", "ReimbursementPaid"]
        assert now["events"][1]["reason"] == "receipts checked"
        assert now["events"][1]["actor_id"] == "paola.pointex"
        assert now["state"]["state"] == "paid"
        assert now["state"]["approved"] == {"amount": "879.66", "currency": "EUR"}
        then = api.get(f"/audit/entities/{claim['id']}", version=1).json()
        assert then["version"] == 1
        assert then["state"]["state"] == "submitted"
        assert then["state"]["approved"] is None
        assert [e["event_type"] for e in then["events"]] == ["Submitted"]

    def test_unknown_records_and_versions_are_404(self, api: Api, alliance: Alliance) -> None:
        """An id with no events, or a version past the last one, is not found."""
        assert api.get("/audit/entities/00000000-0000-0000-0000-000000000001").status_code == 404
        response = api.get(f"/audit/entities/{alliance.sme_id}", version=99)
        assert response.status_code == 404
        assert "it has 2" in response.json()["detail"]
