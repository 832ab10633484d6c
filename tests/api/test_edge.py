"""The edge of every write (api.edge): the role is checked before the body or any record, the
body is read once (a key named twice is refused; the same JSON laid out differently is the
same idempotent request), and a 422 says in the user's words what to write instead."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api import docs, web
from api.edge import GuardedRoute, read_json_body
from api.main import PREFIX, create_app
from api.settings import Settings
from ledger.actors import Role
from tests.api.conftest import (
    Alliance,
    Api,
    Tokens,
    bearer,
    checked,
    expense,
)
from tests.api.writes import DIGEST, UNKNOWN, UNKNOWN_IDS, UPLOADS, WRITES, Body, Ids, paid_ids


@pytest.fixture
def paid(api: Api, alliance: Alliance) -> Ids:
    return paid_ids(api, alliance)


ALL_ROUTES = [pytest.param(path, body, id=name) for name, path, body, _ in [*WRITES, *UPLOADS]]
COORDINATOR_MAY_NOT = [
    pytest.param(path, body, id=name) for name, path, body, r in [*WRITES, *UPLOADS] if Role.COORDINATOR not in r
]
OFFICER_MAY_NOT = [pytest.param(path, body, id=name) for name, path, body, r in WRITES if Role.OFFICER not in r]


def send(api: Api, path: str, content: bytes, token: str | None, key: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers.update(bearer(token))
    if key is not None:
        headers["Idempotency-Key"] = key
    return checked(api.client.post(PREFIX + path, content=content, headers=headers))


def status_and_detail(response: Any) -> tuple[int, str]:
    body = response.json()
    return response.status_code, str(body.get("detail", ""))


def refused_whatever_the_body(api: Api, token: str, path: str, body: Body, ids: Ids) -> None:
    """A malformed body, a valid body naming unknown ids, and a valid body: all 403, nothing recorded."""
    before = api.event_count()
    bodies = [
        b'{"on": "2023-04',  # not JSON
        b"{}",  # every field missing
        json.dumps(body(UNKNOWN_IDS)).encode(),
        json.dumps(body(ids)).encode(),
    ]
    for known, content in zip((UNKNOWN_IDS, UNKNOWN_IDS, UNKNOWN_IDS, ids), bodies, strict=True):
        status, detail = status_and_detail(send(api, path.format(**known), content, token))
        assert status == 403, (path, content, detail)
        assert "may not" in detail
        assert "only " in detail
    assert api.event_count() == before


class TestRoleFirst:
    @pytest.mark.parametrize(("path", "body"), ALL_ROUTES)
    def test_an_auditor_write_is_403_whatever_the_body(
        self, api: Api, tokens: Tokens, paid: Ids, path: str, body: Body
    ) -> None:
        """Auditors never write: every write route answers 403 before it reads the body or
        looks anything up (not 422 for a bad body, not 404 for unknown ids)."""
        refused_whatever_the_body(api, tokens.auditor, path, body, paid)

    @pytest.mark.parametrize(("path", "body"), COORDINATOR_MAY_NOT)
    def test_the_coordinator_on_an_officer_write_is_403_whatever_the_body(
        self, api: Api, tokens: Tokens, paid: Ids, path: str, body: Body
    ) -> None:
        """Claims, decisions, payments, reversals, costs and selections are officers' work."""
        refused_whatever_the_body(api, tokens.coordinator, path, body, paid)

    @pytest.mark.parametrize(("path", "body"), OFFICER_MAY_NOT)
    def test_an_officer_on_a_coordinator_write_is_403_whatever_the_body(
        self, api: Api, tokens: Tokens, paid: Ids, path: str, body: Body
    ) -> None:
        """Signing the grant, transfers and missions are the coordinator's."""
        refused_whatever_the_body(api, tokens.pointex, path, body, paid)

    @pytest.mark.parametrize(("path", "body"), ALL_ROUTES)
    def test_no_token_is_401_before_the_body_is_read(self, api: Api, path: str, body: Body) -> None:
        """Without a token the answer is 401 even for a body that is not JSON."""
        assert send(api, path.format(**UNKNOWN_IDS), b"{not json", None).status_code == 401
        assert send(api, path.format(**UNKNOWN_IDS), b"{not json", "glt_unknown").status_code == 401

    def test_an_allowed_role_still_gets_422_and_404(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """The gate opens for the right role: then the body is validated and ids looked up."""
        assert send(api, "/claims", b"{}", tokens.pointex).status_code == 422
        claim = {"sme_id": UNKNOWN, "mission_id": alliance.mission_id, "lines": [expense()], "on": "2023-04-02"}
        assert send(api, "/claims", json.dumps(claim).encode(), tokens.pointex).status_code == 404

    def test_another_partners_officer_is_refused_after_the_lookup(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """The partner scope needs the record: an unknown claim is 404 for NTT's officer, and
        POINTEX's mission is 403 naming the mission."""
        assert send(api, f"/claims/{UNKNOWN}/approve", b'{"on": "2023-04-10"}', tokens.ntt).status_code == 404
        claim = {"sme_id": alliance.sme_id, "mission_id": alliance.mission_id, "lines": [expense()], "on": "2023-04-02"}
        status, detail = status_and_detail(send(api, "/claims", json.dumps(claim).encode(), tokens.ntt))
        assert (status, "JPN-2023" in detail) == (403, True)

    def test_every_write_route_declares_its_roles(self) -> None:
        """One mechanism: every route of the API's routers is a GuardedRoute, every POST has its
        roles, they are the ones the use cases allow, and the OpenAPI document lists them (the
        HTML docs pages and the web app's pages are no API resource and take no token)."""
        app = create_app(Settings(database_url="memory://"))
        routers = [r.original_router for r in app.routes if hasattr(r, "original_router")]
        included = [route for router in routers if router not in web.ROUTERS for route in router.routes]  # pages: CSRF
        assert included
        pages = {getattr(route, "path", None) for route in docs.router.routes}
        included = [route for route in included if getattr(route, "path", None) not in pages]
        assert all(isinstance(route, GuardedRoute) for route in included)
        declared = {
            route.path: frozenset(route.roles)
            for route in included
            if isinstance(route, GuardedRoute) and "POST" in (route.methods or ())
        }
        expected = {
            path.replace("{mission}", "{mission_id}")
            .replace("{claim}", "{claim_id}")
            .replace("{pending}", "{claim_id}")
            .replace("{payment}", "{payment_id}")
            .replace("{sme}", "{sme_id}")
            .replace(UNKNOWN, "{cost_id}")
            .replace(DIGEST, "{sha256}"): roles
            for _, path, _, roles in [*WRITES, *UPLOADS]
        }
        assert declared == expected
        document = app.openapi()
        for path, roles in expected.items():
            assert set(document["paths"][PREFIX + path]["post"]["x-allowed-roles"]) == {r.value for r in roles}


class TestDuplicateKeys:
    def test_a_key_named_twice_is_422_naming_it(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """{"rate": "1.10", "rate": "9.99"}: json.loads would keep the last one silently; the
        edge refuses it, names the key, and records nothing."""
        before = api.event_count()
        content = b'{"currency": "USD", "month": "2023-03", "rate": "1.10", "rate": "9.99"}'
        response = send(api, "/exchange-rates", content, tokens.pointex)
        assert response.status_code == 422
        assert response.json()["errors"] == [
            {
                "field": "body.rate",
                "message": "the body names 'rate' twice in one object; give each field once",
                "type": "duplicate_key",
            }
        ]
        assert api.event_count() == before

    def test_a_nested_key_named_twice_is_located(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """Inside a list of lines the error names the line and the key."""
        line = '{"cost_type": "TRAVEL", "expense_date": "2023-03-14", "receipt_ref": "R-1", '
        line += '"amount": {"amount": "10.00", "amount": "1000.00", "currency": "EUR"}}'
        content = (
            f'{{"sme_id": "{alliance.sme_id}", "mission_id": "{alliance.mission_id}", '
            f'"lines": [{line}], "on": "2023-04-02"}}'
        ).encode()
        response = send(api, "/claims", content, tokens.pointex)
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["body.lines.0.amount.amount"]

    def test_a_body_read_once_gives_its_canonical_form(self) -> None:
        """Key order and whitespace do not change the canonical form; a duplicate is located."""
        one = read_json_body(b'{"b": 1, "a": {"y": [1, 2], "x": "\\u00e9"}}', "application/json")
        two = read_json_body('{"a":{"x":"é","y":[1,2]},"b":1}'.encode(), None)
        assert one.digest_bytes == two.digest_bytes
        assert one.duplicate is None
        assert read_json_body(b'{"a": [{"k": 1, "k": 2}]}', "application/json").duplicate == ("a", 0, "k")
        assert read_json_body(b"not json", "application/json").digest_bytes == b"not json"
        assert read_json_body(b"[" * 100_000, "application/json").unreadable


RATE = b'{"currency": "USD", "month": "2023-03", "rate": "1.0987"}'


class TestIdempotentLayout:
    def test_the_same_json_laid_out_differently_is_the_same_request(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """Same key, same content with other key order and whitespace: the first response
        again (replayed), one rate recorded."""
        first = send(api, "/exchange-rates", RATE, tokens.pointex, "k-1")
        assert first.status_code == 201
        before = api.event_count()
        laid_out = b'{\n  "rate":"1.0987",\n  "month":"2023-03","currency":"USD"}'
        again = send(api, "/exchange-rates", laid_out, tokens.pointex, "k-1")
        assert again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert api.event_count() == before

    def test_other_content_under_the_same_key_is_still_refused(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """Canonical form is not a looser match: another rate under the same key is 422."""
        send(api, "/exchange-rates", RATE, tokens.pointex, "k-2")
        other = send(api, "/exchange-rates", RATE.replace(b"1.0987", b"1.09870"), tokens.pointex, "k-2")
        assert other.status_code == 422
        assert other.json()["title"] == "Idempotency-Key reused"


class TestIdempotencyKeyCharacters:
    @pytest.mark.parametrize(
        "key",
        [
            b"k\x00y",
            b"k\x01y",
            b"\x1b[31mred",
            b"k\x7f",
            b"two words",
            b"tab\tkey",
            "k\u202e\u00e9".encode(),
            b"caf\xe9",
            b"",
            b"a" * 201,
        ],
        ids=["nul", "control", "escape", "del", "space", "tab", "utf8-bidi", "latin1", "empty", "too-long"],
    )
    def test_only_visible_ascii_is_a_key(self, api: Api, tokens: Tokens, alliance: Alliance, key: bytes) -> None:
        """NUL (a 500 on PostgreSQL before), control, format and non-ASCII characters, spaces, an
        empty or a 201-character key: 422 saying what a key may hold, the key never echoed, and
        nothing recorded or remembered."""
        before = api.event_count()
        headers = [
            (b"Authorization", f"Bearer {tokens.pointex}".encode()),
            (b"Content-Type", b"application/json"),
            (b"Idempotency-Key", key),
        ]
        response = api.client.post(PREFIX + "/exchange-rates", content=RATE, headers=headers)
        assert response.status_code == 422, response.text
        detail = response.json()["detail"]
        assert "must be 1 to 200 visible ASCII characters" in detail
        assert not key or key.decode("latin-1") not in detail
        assert api.event_count() == before

    def test_any_visible_ascii_up_to_200_characters_is_a_key(
        self, api: Api, tokens: Tokens, alliance: Alliance
    ) -> None:
        """Every visible ASCII character, and a key of exactly 200, are keys like any other."""
        visible = "".join(chr(c) for c in range(0x21, 0x7F))
        assert send(api, "/exchange-rates", RATE, tokens.pointex, visible).status_code == 201
        again = send(api, "/exchange-rates", RATE, tokens.pointex, "k" * 200)
        assert again.status_code == 201


class TestBodiesThatAreNotJson:
    @pytest.mark.parametrize(
        ("content", "status", "says"),
        [
            (b"not json", 422, "the body is not valid JSON"),
            (b'{"on": "2023-04-10",}', 422, "no trailing commas"),
            (b"\xff\xfe\x00", 400, "the body is not UTF-8 text"),
            (b"[" * 100_000, 400, "nests lists or objects too deeply"),
            (b'{"on": ' + b"1" * 5000 + b"}", 400, "too many digits"),
        ],
    )
    def test_a_body_that_is_not_json_keeps_its_clear_4xx(
        self, api: Api, tokens: Tokens, content: bytes, status: int, says: str
    ) -> None:
        """Not JSON, a trailing comma, not UTF-8, nested too deep, an integer of 5000 digits: a
        4xx saying so, never a 500."""
        response = send(api, "/smes", content, tokens.pointex)
        assert response.status_code == status
        assert says in response.json()["detail"]
