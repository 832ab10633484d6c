"""The bound on a JSON write's body (api.edge.JSON_MAX_BYTES): a larger body is a 413 problem in
the user's words, whether its Content-Length declares it or it comes chunked without one, and
nothing is recorded; uploads keep their own, larger limit (api.multipart)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx2
import pytest
from fastapi import FastAPI

from api.edge import JSON_MAX_BYTES
from api.main import PREFIX
from ledger.actors import Role
from tests.api.conftest import JSON, Alliance, Api, Tokens, bearer, checked
from tests.api.test_documents import PDF, attach, pdf
from tests.api.writes import UNKNOWN_IDS, WRITES, Write

LIMIT_WORDS = "1.0 MB (1,048,576 bytes)"


def head(app: FastAPI) -> int:
    """The position of the log's last event."""
    return app.state.context.app.recorder.max_notification_id() or 0


def padded(body: JSON, size: int) -> bytes:
    """``body`` as JSON, padded with trailing spaces (still valid JSON) to exactly ``size`` bytes."""
    raw = json.dumps(body).encode()
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


def chunks(raw: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """The body as a stream, which the client sends chunked (no Content-Length)."""
    for start in range(0, len(raw), size):
        yield raw[start : start + size]


def writer(tokens: Tokens, write: Write) -> str:
    return tokens.pointex if Role.OFFICER in write.roles else tokens.coordinator


def assert_too_large(response: httpx2.Response, *, declared: int | None) -> None:
    """A 413 problem saying the limit, what was sent when it was declared, and what to do."""
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 413
    assert body["type"] == "about:blank"
    detail = body["detail"]
    assert LIMIT_WORDS in detail
    assert "nothing was recorded" in detail
    assert "Send only the fields" in detail
    if declared is not None:
        assert f"{declared:,} bytes" in detail


class TestJsonBodyLimit:
    def test_an_oversized_claim_is_413_and_records_nothing(self, api: Api, alliance: Alliance, app: FastAPI) -> None:
        """A claim body of the limit plus one byte (Content-Length declared): 413 in words, the log's
        head unchanged, no claim listed; the same claim without the padding is then 201."""
        body = api.claim_body(alliance)
        before, listed = head(app), api.get("/claims").json()["count"]
        response = api.client.post(
            PREFIX + "/claims",
            content=padded(body, JSON_MAX_BYTES + 1),
            headers={**bearer(api.pointex), "Content-Type": "application/json"},
        )
        assert_too_large(checked(response), declared=JSON_MAX_BYTES + 1)
        assert head(app) == before
        assert api.get("/claims").json()["count"] == listed
        assert api.post("/claims", body, api.pointex).status_code == 201

    def test_a_chunked_oversized_claim_is_413_and_records_nothing(
        self, api: Api, alliance: Alliance, app: FastAPI
    ) -> None:
        """The same body sent chunked, without a Content-Length: refused once it passes the limit."""
        before = head(app)
        raw = padded(api.claim_body(alliance), 3 * JSON_MAX_BYTES)
        response = api.client.post(
            PREFIX + "/claims",
            content=chunks(raw),
            headers={**bearer(api.pointex), "Content-Type": "application/json"},
        )
        assert "content-length" not in {k.lower() for k in response.request.headers}
        assert_too_large(checked(response), declared=None)
        assert head(app) == before

    def test_a_body_of_exactly_the_limit_is_read(self, api: Api, alliance: Alliance, app: FastAPI) -> None:
        """The limit itself is allowed, declared or chunked: both claims are recorded."""
        for number, send in enumerate(("declared", "chunked")):
            body = api.claim_body(alliance)
            body["lines"][0]["receipt_ref"] = f"R-LIMIT-{number}"
            raw = padded(body, JSON_MAX_BYTES)
            response = api.client.post(
                PREFIX + "/claims",
                content=raw if send == "declared" else chunks(raw),
                headers={**bearer(api.pointex), "Content-Type": "application/json"},
            )
            assert response.status_code == 201, (send, response.text)
        assert api.get("/claims").json()["count"] == 2

    def test_an_idempotent_replay_of_a_padded_body_is_the_first_answer(self, api: Api, alliance: Alliance) -> None:
        """A body read by the bounded edge still keys its Idempotency-Key record by its content."""
        body = api.claim_body(alliance)
        headers = {**bearer(api.pointex), "Content-Type": "application/json", "Idempotency-Key": "limit-1"}
        first = api.client.post(PREFIX + "/claims", content=padded(body, 10_000), headers=headers)
        again = api.client.post(PREFIX + "/claims", content=json.dumps(body).encode(), headers=headers)
        assert first.status_code == 201, first.text
        assert again.status_code == 201, again.text
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert api.get("/claims").json()["count"] == 1

    @pytest.mark.parametrize("write", [pytest.param(w, id=w.name) for w in WRITES])
    def test_every_json_write_refuses_an_oversized_body(
        self, api: Api, tokens: Tokens, app: FastAPI, write: Write
    ) -> None:
        """Every JSON write of the API, by a role that may make it: 413 before anything is looked up."""
        before = head(app)
        response = api.client.post(
            PREFIX + write.path.format(**UNKNOWN_IDS),
            content=padded(write.body(UNKNOWN_IDS), JSON_MAX_BYTES + 1),
            headers={**bearer(writer(tokens, write)), "Content-Type": "application/json"},
        )
        assert_too_large(response, declared=JSON_MAX_BYTES + 1)
        assert head(app) == before

    def test_the_role_is_still_checked_first(self, api: Api, tokens: Tokens, app: FastAPI) -> None:
        """An auditor sending an oversized claim: 403 (the role), as for any body; nothing recorded."""
        before = head(app)
        response = api.client.post(
            PREFIX + "/claims",
            content=b" " * (JSON_MAX_BYTES + 1),
            headers={**bearer(tokens.auditor), "Content-Type": "application/json"},
        )
        assert response.status_code == 403, response.text
        assert head(app) == before

    def test_the_openapi_document_lists_the_413_for_json_writes(self, api: Api) -> None:
        """Clients read the limit from the schema: each JSON write documents its 413."""
        paths = api.client.get("/openapi.json").json()["paths"]
        assert LIMIT_WORDS in paths[PREFIX + "/claims"]["post"]["responses"]["413"]["description"]
        assert "413" not in paths[PREFIX + "/claims"]["get"]["responses"]


class TestUploadsKeepTheirLimit:
    def test_a_document_larger_than_the_json_limit_is_attached(
        self, api: Api, alliance: Alliance, app: FastAPI
    ) -> None:
        """A 1.5 MB PDF (over the JSON limit, under the documents' 20 MB): attached, 201."""
        claim = api.submit(alliance)
        big = PDF[:-6] + b" " * (3 * JSON_MAX_BYTES // 2) + b"%%EOF\n"
        response = attach(api, claim["id"], pdf("scan.pdf", big))
        assert response.status_code == 201, response.text
        assert response.json()["data"]["count"] == 1
