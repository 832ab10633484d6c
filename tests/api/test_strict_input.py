"""Money, rates and dates over HTTP and on the command line: one strict textual form each, and
every 422 in the user's words (what was wrong, what to write instead)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import pytest

from api.cli import main
from api.cli.common import iso_date
from api.context import open_context
from api.main import create_app
from api.schemas import PATTERN_HINTS
from api.settings import Settings
from tests.api.conftest import JSON, Alliance, Api, Tokens, expense, mission_body, money
from tests.builders import sign_alliance

#: Words of pydantic, the JSON decoder or the UUID parser that a user cannot act on.
JARGON = re.compile(
    r"should match pattern|Input should|JSON decode error|Field required|Extra inputs|uuid_parsing|invalid length|"
    r"valid date or datetime|Datetimes provided|\^\[",
    re.IGNORECASE,
)


def errors_of(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {error["field"]: error["message"] for error in response.json()["errors"]}


def rate(value: Any) -> JSON:
    return {"currency": "USD", "month": "2023-03", "rate": value}


class TestDecimalText:
    @pytest.mark.parametrize(
        ("text", "says"),
        [
            ("1e3", "write the number out in full, e.g. 1000"),
            ("1_000", "without separators"),
            (" 1.10", "has spaces around it"),
            ("1.10 ", "has spaces around it"),
            ("+1.10", "has a plus sign"),
            (".5", "write 0.5 for .5"),
            ("5.", "5 for 5."),
            ("1,10", "use a dot as decimal separator and no thousands separator, e.g. 1234.50"),
            ("\u0661.\u0661", "ASCII digits"),
            ("NaN", "not a finite number"),
            ("001.0987", "has leading zeros; write 1.0987 without them"),
        ],
    )
    def test_a_rate_that_is_not_a_plain_decimal_is_422_saying_what_to_write(
        self, api: Api, tokens: Tokens, alliance: Alliance, text: str, says: str
    ) -> None:
        """Decimal() would take all of these; the API refuses them, naming the field."""
        before = api.event_count()
        message = errors_of(api.post("/exchange-rates", rate(text), tokens.pointex))["body.rate"]
        assert says in message
        assert api.event_count() == before

    @pytest.mark.parametrize("text", ["1e3", "1_000.00", " 100.00", "+100.00", "100.", "1.000,00"])
    def test_an_amount_that_is_not_a_plain_decimal_is_422(
        self, api: Api, tokens: Tokens, alliance: Alliance, text: str
    ) -> None:
        """The same rule for every amount: here the amount of an expense line."""
        body = api.claim_body(alliance, {**expense(), "amount": money(text)})
        assert "body.lines.0.amount.amount" in errors_of(api.post("/claims", body, tokens.pointex))
        assert api.get("/claims").json()["count"] == 0

    def test_a_plain_decimal_is_accepted(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """A leading zero before the dot and many decimals are still plain decimals (the domain
        judges them); padding ("001.0987") is not, since the rules refuse it."""
        response = api.post("/exchange-rates", rate("1.098700"), tokens.pointex)
        assert response.status_code == 201, response.text
        assert response.json()["data"]["rate"] == "1.098700"
        low = api.post("/exchange-rates", {"currency": "CAD", "month": "2023-03", "rate": "0.5"}, tokens.ntt)
        assert low.status_code == 201, low.text


class TestDates:
    @pytest.mark.parametrize(
        ("value", "says"),
        [
            (20230315, 'write the date as a string, YYYY-MM-DD, e.g. "2023-03-15"'),
            (1678838400, "write the date as a string"),
            ("2023-3-15", "use YYYY-MM-DD, e.g. 2023-03-15"),
            ("2023-03-15T00:00:00", "use YYYY-MM-DD, e.g. 2023-03-15"),
            ("20230315", "use YYYY-MM-DD, e.g. 2023-03-15"),
            ("2023-W11-3", "use YYYY-MM-DD, e.g. 2023-03-15"),
            ("2023-02-30", "not a day of the calendar"),
            ("\u0662\u0660\u0662\u0663-03-15", "use YYYY-MM-DD, e.g. 2023-03-15"),
            (None, "write the date as a string"),
        ],
    )
    def test_a_body_date_is_yyyy_mm_dd_text_only(
        self, api: Api, tokens: Tokens, alliance: Alliance, value: Any, says: str
    ) -> None:
        """Integers, timestamps, datetimes, ISO week dates, compact dates, impossible days and
        other scripts' digits: 422 naming the field, nothing recorded."""
        before = api.event_count()
        body = {"legal_name": "X S.r.l.", "country": "IT", "identifier": "IT0000000001", "on": value}
        assert says in errors_of(api.post("/smes", body, tokens.pointex))["body.on"]
        nested = api.claim_body(alliance, expense(day=value))
        assert says in errors_of(api.post("/claims", nested, tokens.pointex))["body.lines.0.expense_date"]
        assert api.event_count() == before

    @pytest.mark.parametrize(
        ("path", "param"),
        [
            ("/budget", "effective"),
            ("/budget", "as_of"),
            ("/audit/events", "effective_from"),
            ("/audit/events", "effective_to"),
        ],
    )
    @pytest.mark.parametrize("value", ["2023-3-1", "20230301", "2023-03-01T00:00:00", "1677628800"])
    def test_a_query_date_is_yyyy_mm_dd_too(
        self, api: Api, alliance: Alliance, path: str, param: str, value: str
    ) -> None:
        """The same rule in query strings."""
        message = errors_of(api.get(path, **{param: value}))[f"query.{param}"]
        assert "use YYYY-MM-DD, e.g. 2023-03-15" in message
        assert api.get(path, **{param: "2023-03-01"}).status_code != 422  # (404 as of a day before any record)

    @pytest.mark.parametrize("text", ["2023-3-1", "20230301", "2023-03-01T00:00", "2023-02-30"])
    def test_a_command_line_date_is_yyyy_mm_dd(self, text: str) -> None:
        """--as-of and --effective take the same form (argparse shows the message)."""
        with pytest.raises(argparse.ArgumentTypeError, match=r"use YYYY-MM-DD, e\.g\. 2023-03-15"):
            iso_date(text)
        assert str(iso_date("2023-03-01")) == "2023-03-01"

    @pytest.mark.parametrize(("cell", "says"), [("1e3", "e.g. 1000"), (" 155.12", "has spaces around it")])
    def test_import_rates_refuses_a_rate_that_is_not_plain(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], cell: str, says: str
    ) -> None:
        """A CSV rate cell follows the same rule: the file is refused, naming the line."""
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
        with open_context(url) as ctx:
            sign_alliance(ctx.app)
        rates = tmp_path / "rates.csv"
        rates.write_text(f"currency,month,rate\nUSD,2023-07,1.0913\nJPY,2023-07,{cell}\n")
        assert main(["--database-url", url, "import-rates", str(rates)]) == 2
        err = capsys.readouterr().err
        assert "line 3" in err
        assert says in err

    def test_a_month_is_yyyy_mm_in_ascii_digits(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """A rate's month: '2023-3' and Arabic-Indic digits are refused with the form to use."""
        for month in ("2023-3", "\u0662\u0660\u0662\u0663-03", "2023-13"):
            message = errors_of(api.post("/exchange-rates", {**rate("1.10"), "month": month}, tokens.pointex))
            assert "use YYYY-MM, e.g. 2023-03" in message["body.month"]


class TestUsersWords:
    @pytest.mark.parametrize(
        ("path", "content", "field", "says"),
        [
            ("/smes", b'{"on": "2023-04', "body", "the body is not valid JSON"),
            ("/smes", b"[1]", "body", "not an object"),
            ("/smes", b"", "body", "the request has no body"),
            ("/smes", b'{"country": "IT"}', "body.on", "is required but missing; add it"),
            ("/smes", b'{"zz": 1}', "body.zz", "remove it"),
            ("/smes", b'{"id": "abc"}', "body.id", "is not an id; ids are UUIDs as the ledger returns them, e.g."),
            ("/smes", b'{"country": "it"}', "body.country", "write the two-letter ISO 3166 code in capitals, e.g. IT"),
            ("/smes", b'{"legal_name": ""}', "body.legal_name", "is empty"),
            ("/smes", b'{"legal_name": 5}', "body.legal_name", "is a number, not text"),
            ("/smes", b'{"identifier": "' + b"x" * 41 + b'"}', "body.identifier", "shorten it to at most 40"),
            ("/exchange-rates", b'{"currency": "usdx"}', "body.currency", "write the three-letter ISO 4217 code"),
            ("/missions/nope/selections", b"{}", "path.mission_id", "is not an id"),
            ("/claims", b'{"lines": []}', "body.lines", "needs at least 1 item"),
            ("/claims", b'{"lines": {}}', "body.lines", "is an object, not a list"),
            (
                "/claims/0b7e7e0e-3c1a-4a52-9d7e-1f2b3c4d5e6f/approve",
                b'{"decisions": [{"line_no": 0}]}',
                "body.decisions.0.line_no",
                "write a whole number at least 1",
            ),
            (
                "/claims/0b7e7e0e-3c1a-4a52-9d7e-1f2b3c4d5e6f/approve",
                b'{"decisions": [{"line_no": "one"}]}',
                "body.decisions.0.line_no",
                "is not a whole number",
            ),
        ],
    )
    def test_every_422_says_what_to_write_instead(
        self, api: Api, tokens: Tokens, path: str, content: bytes, field: str, says: str
    ) -> None:
        """Each error names the field and says what to write, with no parser jargon."""
        response = api.client.post(
            "/api/v1" + path,
            content=content,
            headers={"Authorization": f"Bearer {tokens.pointex}", "Content-Type": "application/json"},
        )
        errors = errors_of(response)
        assert says in errors[field], errors[field]
        for message in (*errors.values(), response.json()["detail"]):
            assert not JARGON.search(message), message

    def test_every_documented_pattern_has_words(self) -> None:
        """Every pattern in the OpenAPI document has a hint the 422 can give, and money and
        dates are documented with exactly the forms the API accepts."""
        document = create_app(Settings(database_url="memory://")).openapi()
        patterns: set[str] = set()

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if isinstance(node.get("pattern"), str):
                    patterns.add(node["pattern"])
                for item in node.values():
                    walk(item)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(document)
        assert patterns
        assert patterns <= set(PATTERN_HINTS), patterns - set(PATTERN_HINTS)
        schemas = document["components"]["schemas"]
        assert schemas["MoneyIn"]["properties"]["amount"]["pattern"] == r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$"
        assert schemas["SmeCreate"]["properties"]["on"]["pattern"] == r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def test_mission_body_still_accepted(api: Api, tokens: Tokens, alliance: Alliance) -> None:
    """The strict forms accept what clients send today: a mission opens with its dates and rate."""
    assert api.post("/missions", mission_body(code="USA-2022"), tokens.coordinator).status_code == 201
