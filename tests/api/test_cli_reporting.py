"""The command line's reporting: a partner's statement as JSON (the API's body) or XLSX, and
the workflow commands, through api.reporting as the API goes (tests/api/test_reporting.py)."""

from __future__ import annotations

import importlib.util
import io
import json
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from api.cli import main
from ledger.statement import StatementState
from ledger.storage import open_ledger
from tests.builders import COORDINATOR, PARTNERS, eur, officer, sign_alliance

PERIODS = ((date(2021, 9, 1), date(2022, 8, 31)), (date(2022, 9, 1), date(2023, 8, 31)))


@pytest.fixture
def url(tmp_path: Path) -> str:
    """The alliance with two periods; POINTEX spent EUR 1,000.00 on personnel in period 1."""
    store = f"sqlite:///{tmp_path / 'ledger.db'}"
    app = open_ledger(store)
    try:
        sign_alliance(app)
        app.set_reporting_periods(
            actor=COORDINATOR, periods=PERIODS, reason="months 1-12 and 13-24", on=date(2021, 9, 1)
        )
        app.record_cost(
            actor=officer("POINTEX"),
            cost_id=uuid.uuid4(),
            partner="POINTEX",
            category="PERSONNEL",
            amount=eur("1000.00"),
            document_ref="PAY-1",
            description="staff costs",
            on=date(2022, 3, 1),
        )
    finally:
        app.close()
    assert run(store, "project") == 0  # the read models a reading command needs
    return store


def run(url: str, *args: str) -> int:
    return main(["--database-url", url, *args])


def statement_json(url: str, capsys: pytest.CaptureFixture[str], partner: str = "POINTEX") -> dict[str, object]:
    capsys.readouterr()
    assert run(url, "statement", "--partner", partner, "--period", "1") == 0
    body: dict[str, object] = json.loads(capsys.readouterr().out)
    return body


class TestStatement:
    def test_json_is_printed_with_the_figures(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        """--format json (the default) prints the API's statement body: A 1,000.00, E 70.00,
        963.00 requested, in draft, at the read models' position."""
        body = statement_json(url, capsys, "pointex")
        columns = {c["column"]: c["costs"]["amount"] for c in body["columns"]}  # type: ignore[attr-defined]
        assert (columns["A"], columns["E"]) == ("1000.00", "70.00")
        assert body["requested"] == {"amount": "963.00", "currency": "EUR"}
        assert (body["partner"], body["state"], body["digest"]) == ("POINTEX", "draft", None)

    def test_xlsx_is_written_with_the_same_figures(
        self, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--format xlsx --output: the sheet's figures are the JSON's, as numbers."""
        from openpyxl import load_workbook

        body = statement_json(url, capsys)
        output = tmp_path / "out" / "pointex.xlsx"
        assert (
            run(url, "statement", "--partner", "POINTEX", "--period", "1", "--format", "xlsx", "--output", str(output))
            == 0
        )
        assert f"wrote {output}" in capsys.readouterr().out
        sheet = load_workbook(io.BytesIO(output.read_bytes()))["POINTEX"]
        rows = {row[0]: row for row in sheet.iter_rows(values_only=True) if row[0] is not None}
        for column in body["columns"]:  # type: ignore[attr-defined]
            assert Decimal(str(rows[column["column"]][2])) == Decimal(column["costs"]["amount"])
        assert rows["Event position"][1] == body["position"]

    def test_an_unknown_period_is_refused_in_words(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        assert run(url, "statement", "--partner", "POINTEX", "--period", "7") == 2
        assert "there is no reporting period 7" in capsys.readouterr().err


class TestWorkflow:
    def test_every_partner_locks_and_signs_then_the_period_is_submitted(
        self, url: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The officers' commands, then the coordinator's: the statements are submitted, each
        with the digest it was signed with; submitting before then is refused."""
        for partner in PARTNERS:
            assert (
                run(url, "statement-lock", "--partner", partner.code.lower(), "--period", "1", "--on", "2022-10-03")
                == 0
            )
            assert f"{partner.code}'s statement for period 1 is locked" in capsys.readouterr().out
        assert run(url, "submit-period", "--period", "1") == 2
        assert "not yet signed" in capsys.readouterr().err
        for partner in PARTNERS:
            assert run(url, "statement-sign", "--partner", partner.code, "--period", "1") == 0
            out = capsys.readouterr().out
            assert "is signed" in out
            assert "digest" in out
        signed = statement_json(url, capsys)
        assert run(url, "submit-period", "--period", "1", "--reason", "periodic report 1") == 0
        assert "period 1 (2021-09-01 to 2022-08-31) is submitted" in capsys.readouterr().out
        shown = statement_json(url, capsys)
        assert shown["state"] == "submitted"
        assert shown["digest"] == signed["digest"]
        assert shown["position"] == signed["position"]
        app = open_ledger(url)
        try:
            assert {app.statement(p.code, 1).state for p in PARTNERS} == {StatementState.SUBMITTED}  # type: ignore[union-attr]
        finally:
            app.close()

    def test_the_coordinator_sends_a_statement_back_with_a_reason(
        self, url: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """statement-send-back needs --reason and makes the statement a draft again."""
        assert run(url, "statement-lock", "--partner", "POINTEX", "--period", "1") == 0
        with pytest.raises(SystemExit):
            run(url, "statement-send-back", "--partner", "POINTEX", "--period", "1")
        capsys.readouterr()
        assert run(url, "statement-send-back", "--partner", "POINTEX", "--period", "1", "--reason", "June missing") == 0
        assert "POINTEX's statement for period 1 is draft" in capsys.readouterr().out
        assert statement_json(url, capsys)["reason"] == "June missing"


class TestPdf:
    def test_pdf_is_the_web_apps_rendering_or_says_it_is_not_there_yet(
        self, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--format pdf writes the web app's PDF; a release without its renderer refuses in words."""
        output = tmp_path / "statement.pdf"
        status = run(
            url, "statement", "--partner", "POINTEX", "--period", "1", "--format", "pdf", "--output", str(output)
        )
        if importlib.util.find_spec("api.web.statement_pdf") is None:
            assert status == 2
            assert "not available yet" in capsys.readouterr().err
            assert not output.exists()
        else:
            assert status == 0
            assert output.read_bytes().startswith(b"%PDF")
