"""GET /audit/verify?expect_head=: the auditor checks the history against a head written down before."""

from __future__ import annotations

from api.settings import Settings
from tests.api.conftest import JSON, Alliance, Api
from tests.api.test_verify_route import TARGET, flip_byte


def verdict(api: Api, **query: str) -> JSON:
    response = api.get("/audit/verify", api.tokens.auditor, **query)
    assert response.status_code == 200, response.text
    body: JSON = response.json()
    return body


class TestExpectHead:
    def test_the_reported_head_is_the_anchor(self, api: Api, alliance: Alliance) -> None:
        """`head` is POSITION:SEAL; given back as expect_head (or its seal alone) it matches;
        without it, anchor_matches is null."""
        body = verdict(api)
        assert body["head"] == f"{body['head_position']}:{body['head_seal']}"
        assert body["anchor_matches"] is None
        for anchor in (body["head"], body["head_seal"]):
            anchored = verdict(api, expect_head=anchor)
            assert anchored["intact"] is True
            assert anchored["anchor_matches"] is True
            assert anchored["anchor_problem"] == ""

    def test_a_head_the_history_never_had_differs(self, api: Api, alliance: Alliance) -> None:
        """A wrong seal at the head's position: 200, the chain intact, the anchor not matched, and
        the problem names the position."""
        body = verdict(api)
        anchored = verdict(api, expect_head=f"{body['head_position']}:{'ab' * 32}")
        assert anchored["intact"] is True
        assert anchored["anchor_matches"] is False
        assert f"up to position {body['head_position']} differs" in anchored["anchor_problem"]
        assert "DIFFERS FROM THE ANCHOR" in anchored["summary"]

    def test_a_changed_byte_fails_the_anchor_too(self, api: Api, alliance: Alliance, settings: Settings) -> None:
        before = verdict(api)
        flip_byte(settings, TARGET)
        anchored = verdict(api, expect_head=before["head"])
        assert anchored["intact"] is False
        assert anchored["anchor_matches"] is False

    def test_a_malformed_head_is_422_after_the_role_check(self, api: Api, alliance: Alliance) -> None:
        assert api.get("/audit/verify", api.tokens.auditor, expect_head="not-a-seal").status_code == 422
        assert api.get("/audit/verify", api.tokens.coordinator, expect_head="not-a-seal").status_code == 403
