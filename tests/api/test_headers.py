"""Security headers on every response; a strict Content-Security-Policy on HTML pages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.api.conftest import Tokens, bearer

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
URL = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


def directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


class TestEveryResponse:
    def test_api_data_is_never_sniffed_nor_cached(self, client: TestClient, tokens: Tokens) -> None:
        """A read, a refusal (401) and /health all carry nosniff, no-store and no-referrer."""
        answers = [
            client.get("/api/v1/claims", headers=bearer(tokens.auditor)),
            client.get("/api/v1/claims"),
            client.get("/health"),
        ]
        assert [a.status_code for a in answers] == [200, 401, 200]
        for answer in answers:
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["cache-control"] == "no-store"
            assert answer.headers["referrer-policy"] == "no-referrer"
            assert "content-security-policy" not in answer.headers  # JSON, not a page

    def test_the_openapi_document_is_not_sniffed(self, client: TestClient) -> None:
        answer = client.get("/openapi.json")
        assert answer.status_code == 200
        assert answer.headers["x-content-type-options"] == "nosniff"


class TestHtmlPages:
    def test_docs_run_no_inline_script_and_load_only_from_the_app(self, client: TestClient) -> None:
        """/docs: every script has a src (none inline), each from the app itself; the policy
        allows no inline script, no eval, no framing, and no other origin."""
        page = client.get("/docs")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        scripts = SCRIPT_TAG.findall(page.text)
        assert scripts, page.text
        assert all("src=" in attributes and not body.strip() for attributes, body in scripts), scripts
        for url in URL.findall(page.text):
            assert re.match(r"/[^/]", url), url  # a path on this service, not //host/...
        policy = directives(page.headers["content-security-policy"])
        assert policy["script-src"] == ["'self'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["default-src"] == ["'none'"]
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["referrer-policy"] == "no-referrer"
        init = client.get("/docs/swagger-init.js")
        assert init.status_code == 200
        assert init.headers["content-type"].startswith("text/javascript")
        assert 'url: "/openapi.json"' in init.text

    def test_redoc_has_a_strict_script_policy_too(self, client: TestClient) -> None:
        """/redoc: no inline script, scripts only from the app, no framing."""
        page = client.get("/redoc")
        assert page.status_code == 200
        assert all("src=" in attributes and not body.strip() for attributes, body in SCRIPT_TAG.findall(page.text))
        policy = directives(page.headers["content-security-policy"])
        assert policy["script-src"] == ["'self'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert page.headers["x-frame-options"] == "DENY"
