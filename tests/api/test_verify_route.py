"""GET /audit/verify: an auditor checks the stored history against its hash chain over HTTP."""

from __future__ import annotations

import contextlib
import re
import sqlite3

from api.main import PREFIX
from api.settings import Settings
from tests.api.conftest import JSON, Alliance, Api, Tokens, bearer
from tests.snapshot_story import build, roll_back

HEX64 = re.compile(r"[0-9a-f]{64}")
#: A position inside the history the alliance fixture records (a budget line opened with the grant).
TARGET = 3


def verdict(api: Api, token: str | None = None) -> JSON:
    response = api.get("/audit/verify", token)
    assert response.status_code == 200, response.text
    body: JSON = response.json()
    return body


def flip_byte(settings: Settings, position: int) -> None:
    """Change one byte of one stored event's state, straight in the SQLite file."""
    path = settings.database_url.removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        (state,) = conn.execute("SELECT state FROM stored_events WHERE rowid = ?", (position,)).fetchone()
        changed = bytearray(state)
        changed[10] ^= 0x01
        conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (bytes(changed), position))


class TestVerifyRoute:
    def test_the_auditor_gets_the_head_seal(self, api: Api, alliance: Alliance) -> None:
        """On an untouched store the auditor gets 200: intact, every recorded event checked and
        sealed (each write was projected before it answered), and the head seal at the last
        position, the same on a second call."""
        positions = [event["position"] for event in api.events()]
        body = verdict(api)
        assert body["intact"] is True
        assert body["checked"] == len(positions)
        assert body["head_position"] == positions[-1]
        assert HEX64.fullmatch(body["head_seal"])
        assert (body["first_bad_position"], body["problem"], body["unsealed"]) == (None, "", 0)
        assert body["head_seal"] in body["summary"]
        assert verdict(api) == body

    def test_only_auditors_may_verify(self, api: Api, alliance: Alliance, tokens: Tokens) -> None:
        """The coordinator and the officers get 403; a request without a token gets 401."""
        for token in (tokens.coordinator, tokens.pointex, tokens.ntt):
            assert api.get("/audit/verify", token).status_code == 403
        response = api.client.get(PREFIX + "/audit/verify")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert api.client.get(PREFIX + "/audit/verify", headers=bearer("glt_not-a-token")).status_code == 401

    def test_a_byte_changed_in_the_file_is_reported(self, api: Api, alliance: Alliance, settings: Settings) -> None:
        """After one byte of one stored event is changed directly in the SQLite file, the route
        still answers 200 but reports the history as not intact and names that position; the
        head it reports is the last position that still checks."""
        before = verdict(api)
        flip_byte(settings, TARGET)
        body = verdict(api)
        assert body["intact"] is False
        assert body["first_bad_position"] == TARGET
        assert body["checked"] == TARGET - 1
        assert body["head_position"] == TARGET - 1
        assert body["head_seal"] != before["head_seal"]
        assert "changed or moved" in body["problem"]
        assert f"TAMPERED at position {TARGET}" in body["summary"]


class TestVerifySnapshots:
    def test_a_rolled_back_snapshot_is_refused_counted_and_named(self, api: Api, settings: Settings) -> None:
        """A budget line's snapshot rolled back in the file: the service still refuses the
        over-budget approval (409, the true EUR 510 remaining), counts the snapshot it left
        aside, and the verdict names it among the snapshots checked."""
        story = build(settings.database_url, None)
        assert verdict(api)["bad_snapshots"] == []
        roll_back(story)
        refused = api.post(f"/claims/{story.pending_claim}/approve", {"on": "2023-04-05"}, api.pointex)
        assert refused.status_code == 409, refused.text
        assert "510.00" in refused.json()["detail"]
        body = verdict(api)
        assert body["snapshots_checked"] == 4
        assert body["snapshots_rejected"] >= 1
        [bad] = body["bad_snapshots"]
        assert (bad["aggregate_type"], bad["aggregate_id"], bad["version"]) == ("BudgetLine", str(story.line), 100)
        assert "seal does not match" in bad["problem"]
