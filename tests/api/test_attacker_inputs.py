"""An attacker's values at the JSON writes that move money or correct records (claims, approvals,
payments and reversals, own costs, transfers, corrections): amounts that Decimal() or a JSON
parser would take (exponents, NaN, infinities, 40 digits, JSON numbers, tiny fractions), JSON
nested 100,000 deep, 1 MB strings, NUL bytes and lone surrogates in text, impossible dates.

Each is a 4xx problem in the user's words (the field it names, no parser jargon), never a 5xx,
and the log's head is unchanged. The values are sent to a ledger where the valid body of each
write would be recorded, so only the value itself can be what is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.main import PREFIX, create_app
from api.settings import Settings
from tests.api.conftest import JSON, Alliance, Api, bearer, expense, make_tokens, money
from tests.api.test_strict_input import JARGON
from tests.api.writes import WRITES

Where = tuple[str | int, ...]
SURROGATE = re.compile("[\ud800-\udfff]")
#: A number in exponent form, as Decimal writes 0.0000000001 (1E-10).
EXPONENT = re.compile(r"\b\d+(\.\d+)?E[-+]?\d+\b")
#: A negative zero as a JSON string or number: "-0", "-0.00", -0.0.
NEGATIVE_ZERO = re.compile(r'(?<![\w.-])"?-0(?:\.0+)?(?![.\d])')


class Raw:
    """A JSON token sent as written (a number literal, NaN), not as a string."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


#: Amounts, as strings and as JSON numbers. "-0" is 0 (ledger.money), refused where an amount
#: must be positive; an approval may accept 0 of a line (see test_minus_zero_accepted_is_zero).
AMOUNTS: list[Any] = [
    "1e999999",
    "1E3",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "inf",
    "0.0000000001",
    "1" * 40,
    "-" + "9" * 40,
    "1" * 40 + ".00",
    "0." + "0" * 39 + "1",
    "",
    " ",
    "12.34\u0000",
    "\ud800",
    Raw("1000"),
    Raw("1000.00"),
    Raw("1e999999"),
    Raw("-1e999999"),
    Raw("NaN"),
    Raw("Infinity"),
    Raw("-0"),
    Raw("0.0000000001"),
    Raw("1" * 40),
    Raw("null"),
    Raw("true"),
    Raw('["1000.00"]'),
]
#: Where zero is no amount (a claim line, a payment, a cost, a transfer).
ZERO_AMOUNTS: list[Any] = ["-0", "-0.00", "0", "0.00"]
RATES: list[Any] = [
    "1e999999",
    "NaN",
    "Infinity",
    "-Infinity",
    "-0",
    "0",
    "1" * 40,
    "0." + "0" * 39 + "1",
    Raw("150"),
    Raw("150.0"),
    Raw("1e999999"),
    Raw("NaN"),
    Raw("Infinity"),
]
MB = 1_000_000
TEXTS: list[Any] = [
    "A" * MB,
    "\u00e9" * (MB // 2),
    "R-\u00001",
    "\u0000",
    "bank\u0000return",
    "\ud800",
    "R-\udfff-1",
    "\ud83d",
    Raw("12"),
    Raw("[]"),
]
DATES: list[Any] = [
    "2023-02-30",
    "2023-02-29",
    "2023-04-31",
    "2023-13-01",
    "2023-00-10",
    "99999-01-01",
    "0000-01-01",
    "2023-4-1",
    "2023-04-02T00:00:00",
    "2023-04-02\u0000",
    "\ud800",
    Raw("20230402"),
]


def _payment_body(ids: dict[str, str]) -> JSON:
    return {"amount": money("100.00"), "bank_reference": "SEPA-A1", "on": "2023-04-20"}


#: write -> (path with {ids}, valid body, the fields to attack by kind).
TARGETS: dict[str, tuple[str, Any, dict[str, list[Where]]]] = {
    "claim": (
        "/claims",
        lambda ids: {
            "sme_id": ids["sme"],
            "mission_id": ids["mission"],
            "lines": [expense(receipt="R-ATTACK-1")],
            "on": "2023-04-02",
        },
        {
            "amount": [("lines", 0, "amount", "amount")],
            "text": [("lines", 0, "receipt_ref"), ("lines", 0, "description")],
            "date": [("lines", 0, "expense_date"), ("on",)],
        },
    ),
    "approve": (
        "/claims/{pending}/approve",
        lambda ids: {
            "on": "2023-04-10",
            "reason": "receipts checked",
            "decisions": [{"line_no": 1, "accepted": money("150.00"), "reason": "taxi receipt missing"}],
        },
        {
            "accepted": [("decisions", 0, "accepted", "amount")],
            "text": [("reason",), ("decisions", 0, "reason")],
            "date": [("on",)],
        },
    ),
    "payment": (
        "/claims/{approved}/payments",
        _payment_body,
        {"amount": [("amount", "amount")], "text": [("bank_reference",)], "date": [("on",)]},
    ),
    "reversal": (
        "/payments/{payment}/reversal",
        lambda ids: {"reason": "bank return", "on": "2023-05-02"},
        {"text": [("reason",)], "date": [("on",)]},
    ),
    "cost": (
        "/costs",
        lambda ids: {
            "partner": "POINTEX",
            "category": "TRAVEL",
            "amount": money("412.80"),
            "document_ref": "INV-ATTACK",
            "description": "staff travel to Tokyo",
            "on": "2023-03-20",
        },
        {
            "amount": [("amount", "amount")],
            "text": [("document_ref",), ("description",)],
            "date": [("on",)],
        },
    ),
    "transfer": (
        "/budget/transfers",
        next(write.body for write in WRITES if write.name == "transfer"),
        {"amount": [("amount", "amount")], "text": [("decision_ref",), ("reason",)], "date": [("on",)]},
    ),
    "rate correction": (
        "/exchange-rates/JPY/2023-03/correction",
        lambda ids: {"rate": "150.00", "reason": "typed from the February table"},
        {"rate": [("rate",)], "text": [("reason",)]},
    ),
    "SME correction": (
        "/smes/{sme}/correction",
        lambda ids: {"legal_name": "Tessuti S.p.A.", "country": "IT", "reason": "extract", "on": "2023-01-10"},
        {"text": [("legal_name",), ("reason",)], "date": [("on",)]},
    ),
    "payment correction": (
        "/payments/{payment}/correction",
        lambda ids: {"bank_reference": "SEPA-C", "value_date": "2023-04-21", "reason": "bank statement"},
        {"text": [("bank_reference",), ("reason",)], "date": [("value_date",)]},
    ),
}
VALUES = {
    "amount": AMOUNTS + ZERO_AMOUNTS,
    "accepted": AMOUNTS,
    "rate": RATES,
    "text": TEXTS,
    "date": DATES,
}


def _cases() -> Iterator[Any]:
    for write, (_, _, fields) in TARGETS.items():
        for kind, places in fields.items():
            for where in places:
                for index, value in enumerate(VALUES[kind]):
                    shown = repr(value) if len(repr(value)) <= 24 else f"{repr(value)[:12]}...{len(str(value))}"
                    yield pytest.param(write, where, value, id=f"{write}-{'.'.join(map(str, where))}-{index}-{shown}")


def replaced(body: Any, where: Where, value: Any) -> Any:
    if not where:
        return value
    head, rest = where[0], where[1:]
    if isinstance(body, dict):
        return {**body, str(head): replaced(body[str(head)], rest, value)}
    copy = list(body)
    copy[int(head)] = replaced(copy[int(head)], rest, value)
    return copy


def encoded(body: Any) -> bytes:
    """The body as JSON text, each Raw token written as it is (not quoted)."""
    raws: list[str] = []

    def mark(value: Any) -> Any:
        if isinstance(value, Raw):
            raws.append(value.text)
            return f"\x01RAW{len(raws) - 1}\x01"
        if isinstance(value, dict):
            return {key: mark(item) for key, item in value.items()}
        if isinstance(value, list):
            return [mark(item) for item in value]
        return value

    text = json.dumps(mark(body), ensure_ascii=False)
    text = SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)  # as JSON escapes
    for number, raw in enumerate(raws):
        text = text.replace(f'"\\u0001RAW{number}\\u0001"', raw)
    return text.encode()


# --- one ledger for the whole module: every case is refused, so none changes it -----------
@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, Api, dict[str, str]]]:
    """The grant, the Japan mission and an SME; a pending claim, an approved unpaid one, and a
    paid one with its payment; the JPY rate of March 2023."""
    path: Path = tmp_path_factory.mktemp("attacker")
    app = create_app(Settings(database_url=f"sqlite:///{path}/ledger.db", follow_interval=5.0))
    with TestClient(app) as client:
        api = Api(client, make_tokens(app.state.store))
        alliance = api.sign_alliance()
        pending = api.submit(alliance, expense(receipt="R-P1"), expense("200.00", receipt="R-P2"))
        approved = api.submit(alliance, expense(receipt="R-A1"))
        api.approve(approved["id"])
        paid = api.submit(alliance, expense(receipt="R-D1"))
        api.approve(paid["id"])
        payment = api.pay(paid["id"], "700.00")
        ids = {
            "mission": alliance.mission_id,
            "sme": alliance.sme_id,
            "pending": pending["id"],
            "approved": approved["id"],
            "payment": payment["id"],
        }
        yield app, api, ids


def head(app: FastAPI) -> int:
    return app.state.context.app.recorder.max_notification_id() or 0


def send(api: Api, path: str, content: bytes) -> httpx2.Response:
    headers = {**bearer(api.tokens.coordinator if path.startswith("/budget") else api.pointex)}
    headers["Content-Type"] = "application/json"
    return api.client.post(PREFIX + path, content=content, headers=headers)


def assert_refused_in_words(response: httpx2.Response, field: str | None) -> None:
    """A 4xx problem that names the field at fault (when the body could be read) in words."""
    assert 400 <= response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    assert response.headers["content-type"] == "application/problem+json", response.text[:500]
    problem = response.json()
    assert problem["status"] == response.status_code
    detail: str = problem["detail"]
    assert detail.strip(), response.text
    assert not JARGON.search(detail), detail[:500]
    assert len(detail) < 2000, f"the detail echoes the input: {len(detail)} characters"
    if "errors" in problem or response.status_code != 422:  # the edge's refusals say so
        assert "nothing was recorded" in detail or "not recorded" in detail, detail[:500]
    if field is None:
        return
    assert response.status_code == 422, response.text[:500]
    if "errors" not in problem:  # refused by the ledger's own check of the text: it names the field
        assert field.rsplit(".", 1)[-1] in detail, (field, detail[:500])
        return
    fields = {error["field"]: error["message"] for error in problem["errors"]}
    assert any(name == field or name.startswith(field + ".") for name in fields), fields
    for message in fields.values():
        assert not JARGON.search(message), message
        assert len(message) < 500, message[:200]


class TestAttackerValues:
    @pytest.mark.parametrize(("write", "where", "value"), list(_cases()))
    def test_each_value_is_a_4xx_in_words_and_records_nothing(
        self, shared: tuple[FastAPI, Api, dict[str, str]], write: str, where: Where, value: Any
    ) -> None:
        """The write's valid body with one field replaced: 422 naming that field, head unchanged."""
        app, api, ids = shared
        path, body, _ = TARGETS[write]
        before = head(app)
        response = send(api, path.format(**ids), encoded(replaced(body(ids), where, value)))
        field = "body." + ".".join(str(part) for part in where[: 3 if where[0] in {"lines", "decisions"} else 1])
        assert_refused_in_words(response, field)
        assert head(app) == before
        if isinstance(value, str) and "e" not in value.lower():  # shown as written, not as 1E-10
            assert not EXPONENT.search(response.text), response.text[:500]

    def test_the_valid_bodies_are_recorded(self, shared: tuple[FastAPI, Api, dict[str, str]]) -> None:
        """The control, run last in this module: each write's valid body is recorded, so what
        refused the others was the value. (Run in this order: the rate correction and the
        reversal change what the other writes find.)"""
        app, api, ids = shared
        for write in ("claim", "approve", "payment", "cost", "transfer", "SME correction", "payment correction"):
            path, body, _ = TARGETS[write]
            before = head(app)
            response = send(api, path.format(**ids), encoded(body(ids)))
            assert response.status_code in {200, 201}, (write, response.text)
            assert head(app) > before, write
        for write in ("reversal", "rate correction"):
            path, body, _ = TARGETS[write]
            response = send(api, path.format(**ids), encoded(body(ids)))
            assert response.status_code in {200, 201}, (write, response.text)


class TestStructure:
    @pytest.mark.parametrize(
        "content",
        [
            pytest.param(b"[" * 100_000 + b"]" * 100_000, id="100000 nested lists"),
            pytest.param(b'{"on": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", id="nested lists in a field"),
            pytest.param(b'{"a":' * 100_000 + b"1" + b"}" * 100_000, id="100000 nested objects"),
            pytest.param(b"[" * 100_000, id="100000 unclosed lists"),
            pytest.param(b'{"on": "2023-04-02", "reason": "' + b"\xed\xa0\x80" + b'"}', id="surrogate as UTF-8 bytes"),
            pytest.param(b'{"on": "2023-04-02", "reason": "\xff"}', id="not UTF-8"),
            pytest.param(b'{"on": "2023-04-02", "\\ud800": 1}', id="lone surrogate in a key"),
            pytest.param(b'{"on": "2023-04-02", "reason": "x"}\x00', id="NUL after the object"),
            pytest.param(b"\x00", id="NUL body"),
            pytest.param(b'"' + b"A" * MB + b'"', id="1 MB string as the body"),
            pytest.param(b"1" * MB, id="1 MB number as the body"),
            pytest.param(b'{"on": ' + b"1" * 5000 + b"}", id="5000-digit integer"),
        ],
    )
    @pytest.mark.parametrize("write", ["claim", "approve", "payment", "reversal", "transfer", "payment correction"])
    def test_a_body_that_cannot_be_read_is_a_4xx_in_words(
        self, shared: tuple[FastAPI, Api, dict[str, str]], write: str, content: bytes
    ) -> None:
        """Nesting past any parser's depth, bytes that are not UTF-8, surrogates: 400 or 422 saying
        what is wrong with the body, never a 5xx; the head unchanged."""
        app, api, ids = shared
        path = TARGETS[write][0]
        before = head(app)
        response = send(api, path.format(**ids), content)
        assert_refused_in_words(response, None)
        assert head(app) == before

    def test_minus_zero_accepted_is_zero(self, shared: tuple[FastAPI, Api, dict[str, str]]) -> None:
        """An approval may accept nothing of a line: "-0" reads as 0 (ledger.money), recorded as
        0.00, never as a negative zero."""
        _, api, ids = shared
        claim = api.submit(
            Alliance(mission_id=ids["mission"], sme_id=ids["sme"]),
            expense(receipt="R-Z1"),
            expense("200.00", receipt="R-Z2"),
        )
        body = {"on": "2023-04-10", "decisions": [{"line_no": 2, "accepted": money("-0"), "reason": "no receipt"}]}
        response = send(api, f"/claims/{claim['id']}/approve", encoded(body))
        assert response.status_code == 200, response.text
        lines = response.json()["data"]["lines"]
        assert [line["accepted"]["amount"] for line in lines if line["line_no"] == 2] == ["0.00"]
        events = api.events(aggregate_id=claim["id"])
        assert events[-1]["event_type"] == "Approved", events[-1]
        for shown in (response.text, json.dumps(events)):
            assert not NEGATIVE_ZERO.search(shown), NEGATIVE_ZERO.search(shown)
