"""Exports: CSV files and an XLSX workbook that reproduce the read models' figures."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from api.cli import main
from api.context import open_context
from projections.queries import budget_overview
from tests.api.conftest import Alliance, Api, expense, sme_body


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


@pytest.fixture
def demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert main(["--database-url", url, "demo"]) == 0
    capsys.readouterr()
    return url


class TestCommandLine:
    def test_csv_files_match_the_read_models(self, demo: str, tmp_path: Path) -> None:
        """budget.csv's lines and total equal the budget overview to the cent; the audit trail
        has one row per event; claims.csv one row per claim."""
        out = tmp_path / "export"
        assert main(["--database-url", demo, "export", "--format", "csv", "--output", str(out)]) == 0
        budget = read_csv(out / "budget.csv")
        with open_context(demo) as ctx, ctx.read_db.reading() as conn:
            overview = budget_overview(conn)
            events = ctx.app.recorder.max_notification_id()
        assert overview is not None
        total = budget[-1]
        assert total["partner"] == "TOTAL"
        assert Decimal(total["allocated"]) == overview.total == Decimal("500000.00")
        assert Decimal(total["paid"]) == overview.totals().paid
        for row, line in zip(budget[:-1], overview.lines, strict=True):
            assert (row["partner"], row["category"], Decimal(row["remaining"])) == (
                line.partner,
                line.category,
                line.remaining,
            )
        assert len(read_csv(out / "audit_trail.csv")) == events
        assert len(read_csv(out / "claims.csv")) == 81

    def test_xlsx_workbook_has_a_sheet_per_table_with_exact_amounts(self, demo: str, tmp_path: Path) -> None:
        """The workbook's budget sheet holds numeric cells equal to the exact figures."""
        path = tmp_path / "ledger.xlsx"
        assert main(["--database-url", demo, "export", "--format", "xlsx", "--output", str(path)]) == 0
        book = load_workbook(path)
        assert book.sheetnames == [
            "Cover",
            "Budget",
            "Claims",
            "Claim lines",
            "Payments",
            "Own costs",
            "Transfers",
            "Exchange rates",
            "SME support",
            "Audit trail",
        ]
        rows = list(book["Budget"].iter_rows(values_only=True))
        assert rows[0][:3] == ("Partner", "Category", "Allocated (EUR)")
        assert rows[-1][0] == "TOTAL"
        assert Decimal(str(rows[-1][2])) == Decimal("500000")


class TestDownloads:
    def test_auditors_download_csv_and_xlsx(self, api: Api, alliance: Alliance) -> None:
        """The auditor gets each table as CSV and the workbook; claims.csv lists the claim."""
        claim = api.submit(alliance, expense("300.00", "EUR", "HOTEL-1", "ACCOMMODATION"))
        response = api.get("/audit/exports/claims.csv", api.tokens.auditor)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [row["claim_id"] for row in rows] == [claim["id"]]
        assert rows[0]["requested_eur"] == "210.00"
        workbook = api.get("/audit/exports/ledger.xlsx", api.tokens.auditor)
        assert workbook.status_code == 200
        assert load_workbook(io.BytesIO(workbook.content)).sheetnames[-1] == "Audit trail"

    def test_downloads_neutralise_formulas_and_keep_amounts_numeric(self, api: Api, alliance: Alliance) -> None:
        """An SME named =HYPERLINK(...) and a rejection reason starting with '@' reach the
        downloads quote-prefixed, as text; the amounts stay numbers."""
        name = '=HYPERLINK("http://x","click")'
        sme = api.ok(api.post("/smes", sme_body("IT09876543210", legal_name=name), api.pointex))
        selection = {"sme_id": sme["id"], "on": "2022-12-06"}
        api.ok(api.post(f"/missions/{alliance.mission_id}/selections", selection, api.pointex))
        claim = api.submit(alliance, expense("300.00", "EUR", "HOTEL-9", "ACCOMMODATION"), sme_id=sme["id"])
        api.ok(
            api.post(
                f"/claims/{claim['id']}/reject",
                {"reason": "@SUM(A1) receipt unreadable", "on": "2023-04-10"},
                api.pointex,
            ),
            200,
        )
        smes = list(csv.DictReader(io.StringIO(api.get("/audit/exports/sme_support.csv", api.tokens.auditor).text)))
        ours = [row for row in smes if row["sme_id"] == sme["id"]]
        assert [row["legal_name"] for row in ours] == ["'" + name] * 2  # the mission, then all missions
        assert [Decimal(row["cap_eur"]) for row in ours] == [Decimal("2000.00"), Decimal("60000.00")]
        claims = list(csv.DictReader(io.StringIO(api.get("/audit/exports/claims.csv", api.tokens.auditor).text)))
        assert [row["reason"] for row in claims] == ["'@SUM(A1) receipt unreadable"]
        workbook = load_workbook(io.BytesIO(api.get("/audit/exports/ledger.xlsx", api.tokens.auditor).content))
        legal_name, cap = workbook["SME support"]["B2"], workbook["SME support"]["F2"]  # ours sorts first
        assert (legal_name.value, legal_name.data_type) == ("'" + name, "s")
        assert (cap.value, cap.data_type) == (2000, "n")

    def test_auditors_download_both_journals(self, api: Api, alliance: Alliance) -> None:
        """ledger.journal and ledger.beancount come as text, with the pending claim flagged '!'."""
        api.submit(alliance, expense("300.00", "EUR", "HOTEL-1", "ACCOMMODATION"))
        hledger = api.get("/audit/exports/ledger.journal", api.tokens.auditor)
        assert hledger.status_code == 200
        assert " ! Claim Submitted" in hledger.text
        beancount = api.get("/audit/exports/ledger.beancount", api.tokens.auditor)
        assert 'option "operating_currency" "EUR"' in beancount.text
