"""The workbook an auditor downloads, opened with openpyxl: sheet and column names, cell types
(numbers are numbers, dates are dates), number formats, frozen headers, autofilters, and totals
equal to what the API says (GET /budget, the claims' approved and paid amounts)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from api.demo import load_demo
from api.routes.exports import ExportTable
from api.settings import Settings
from ledger.storage import open_ledger
from tests.api.conftest import Api

SHEETS = [
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
EUR = "#,##0.00"
PLAIN_DECIMAL = re.compile(r"-?[0-9]+\.[0-9]{2}")


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's event store, recorded once for the module."""
    path = tmp_path_factory.mktemp("demo") / "ledger.db"
    app = open_ledger(f"sqlite:///{path}")
    load_demo(app)
    app.close()
    return path


@pytest.fixture
def settings(demo_store: Path, tmp_path: Path) -> Settings:
    """The service on a copy of the demo (its read models built when it starts)."""
    shutil.copy(demo_store, tmp_path / "ledger.db")
    return Settings(database_url=f"sqlite:///{tmp_path}/ledger.db", follow_interval=5.0)


def workbook(api: Api, token: str, **params: Any) -> Workbook:
    response = api.get("/audit/exports/ledger.xlsx", token, **params)
    assert response.status_code == 200, response.text
    return load_workbook(io.BytesIO(response.content))


def header(ws: Worksheet) -> list[Any]:
    return [c.value for c in ws[1]]


def column(ws: Worksheet, title: str) -> list[Any]:
    """The cells of the column headed ``title``, below the header."""
    index = header(ws).index(title)
    return [row[index] for row in ws.iter_rows(min_row=2)]


def amount(money: dict[str, str]) -> Decimal:
    assert money["currency"] == "EUR"
    return Decimal(money["amount"])


class TestWorkbook:
    def test_sheets_and_their_columns_have_readable_names(self, api: Api) -> None:
        """The cover, then one sheet per table, headed with names a person reads (units and UTC
        said); the audit trail's JSON payload is its last column."""
        book = workbook(api, api.tokens.auditor)
        assert book.sheetnames == SHEETS
        claims = header(book["Claims"])
        assert claims[:5] == ["Claim", "SME (legal name)", "SME identifier", "Mission", "Partner"]
        assert {"Submitted on", "Decided on", "State", "Requested (EUR)", "Outstanding (EUR)"} <= set(claims)
        lines = header(book["Claim lines"])
        for title in ("Receipt", "Currency", "Amount (original currency)", "Rate (per EUR)", "Rate month"):
            assert title in lines
        assert {"Bank reference", "Value date", "Reversed", "Reversal reason"} <= set(header(book["Payments"]))
        trail = header(book["Audit trail"])
        assert trail[:3] == ["Position", "Recorded at (UTC)", "Effective date"]
        assert trail[-1] == "Payload (JSON)"
        assert not any(re.fullmatch(r"[0-9a-f-]{36}", str(title)) for title in claims + lines + trail)

    def test_numbers_are_numbers_and_dates_are_dates(self, api: Api) -> None:
        """EUR amounts are numeric cells formatted #,##0.00; original amounts have their
        currency's decimals (JPY none); dates are date cells, recorded times datetimes."""
        book = workbook(api, api.tokens.auditor)
        claims = book["Claims"]
        for cell in column(claims, "Requested (EUR)"):
            assert (cell.data_type, cell.number_format) == ("n", EUR)
        for cell in column(claims, "Submitted on"):
            assert cell.is_date
            assert isinstance(cell.value, datetime)
        lines = book["Claim lines"]
        formats = {
            currency.value: amount.number_format
            for currency, amount in zip(
                column(lines, "Currency"), column(lines, "Amount (original currency)"), strict=True
            )
        }
        assert formats["JPY"] == "#,##0"
        assert formats["USD"] == formats["EUR"] == EUR
        assert all(cell.is_date for cell in column(lines, "Expense date"))
        assert all(cell.data_type == "n" for cell in column(lines, "Rate (per EUR)") if cell.value is not None)
        assert all(cell.is_date for cell in column(book["Payments"], "Value date"))
        recorded = column(book["Audit trail"], "Recorded at (UTC)")
        assert all(cell.is_date and isinstance(cell.value, datetime) for cell in recorded)
        assert all(cell.data_type == "n" for cell in column(book["Audit trail"], "Position"))

    def test_headers_are_frozen_filtered_and_wide_enough(self, api: Api) -> None:
        """Every table sheet freezes its header row and has an autofilter over all its cells;
        columns are wide enough for their header and names."""
        book = workbook(api, api.tokens.auditor)
        for name in SHEETS[1:]:
            ws = book[name]
            assert ws.freeze_panes == "A2", name
            assert ws.auto_filter.ref == f"A1:{get_column_letter(ws.max_column)}{ws.max_row}", name
            for number, title in enumerate(header(ws), start=1):
                assert ws.column_dimensions[get_column_letter(number)].width >= len(str(title)), (name, title)
        names = column(book["Claims"], "SME (legal name)")
        letter = get_column_letter(header(book["Claims"]).index("SME (legal name)") + 1)
        assert book["Claims"].column_dimensions[letter].width >= max(len(c.value) for c in names) > 20

    def test_budget_sheet_equals_get_budget(self, api: Api) -> None:
        """Every line and the TOTAL row equal GET /budget to the cent, as numbers."""
        book = workbook(api, api.tokens.auditor)
        budget = api.budget()
        rows = list(book["Budget"].iter_rows(min_row=2, values_only=True))
        shown = [*budget["lines"], budget["totals"]]
        assert len(rows) == len(shown) == 43
        keys = ("allocated", "pending", "committed", "paid", "own_costs", "remaining", "remaining_after_pending")
        for row, line in zip(rows, shown, strict=True):
            assert row[:2] == (line["partner"], line["category"] or None)
            assert [Decimal(str(v)) for v in row[2:]] == [amount(line[key]) for key in keys]
        assert rows[-1][0] == "TOTAL"
        assert Decimal(str(rows[-1][2])) == amount(budget["total"]) == Decimal("500000")

    def test_claims_sheet_sums_equal_the_claims_api(self, api: Api) -> None:
        """One row per claim; approved, paid, settled short and outstanding sum to what GET
        /claims says; for every approved, partly paid or paid claim approved = paid + settled
        short + outstanding (DOMAIN.md), and the demo has a claim settled short."""
        book = workbook(api, api.tokens.auditor)
        page = api.get("/claims", api.tokens.auditor, limit=500).json()
        claims = page["data"]
        ws = book["Claims"]
        assert ws.max_row - 1 == page["count"] == len(claims) == 81

        def total(title: str) -> Decimal:
            return sum((Decimal(str(c.value)) for c in column(ws, title) if c.value is not None), Decimal(0))

        def api_total(key: str) -> Decimal:
            return sum((amount(c[key]) for c in claims if c.get(key)), Decimal(0))

        assert total("Approved (EUR)") == api_total("approved") > 0
        assert total("Paid (EUR)") == api_total("paid") > 0
        assert total("Settled short (EUR)") == api_total("settled_short") > 0
        assert total("Outstanding (EUR)") == api_total("outstanding") > 0
        for row in ws.iter_rows(min_row=2, values_only=True):
            state, approved, paid, short, outstanding = row[7], row[9], row[10], row[11], row[12]
            if state in {"approved", "partly_paid", "paid"}:
                parts = (Decimal(str(v or 0)) for v in (paid, short, outstanding))
                assert Decimal(str(approved)) == sum(parts, Decimal(0))
            if state in {"submitted", "rejected", "withdrawn"}:
                assert outstanding is None

    def test_the_cover_names_the_grant_the_head_and_who_exported(self, api: Api) -> None:
        """Grant code and title, the export's UTC time, the head (as the response headers give
        it), the auditor's name and role, and that all partners' rows are in it."""
        response = api.get("/audit/exports/ledger.xlsx", api.tokens.auditor)
        book = load_workbook(io.BytesIO(response.content))
        fields = {row[0]: row[1] for row in book["Cover"].iter_rows(min_row=2, values_only=True)}
        assert fields["grant"] == "EU-ALLIANCE"
        assert str(fields["grant_title"]).startswith("European Alliance")
        assert isinstance(fields["exported_at_utc"], datetime)
        assert fields["event_position"] == int(response.headers["X-Ledger-Position"])
        assert fields["head_seal"] == response.headers["X-Ledger-Head-Seal"]
        who = (fields["exported_by"], fields["role"], fields["partners"])
        assert who == ("arthur.auditor", "auditor", "all partners")

    def test_sme_support_sets_each_mission_and_the_whole_grant_against_its_cap(self, api: Api) -> None:
        """Per SME, its mission rows against the mission cap and one row over all missions
        against EUR 60,000 whose approved amount is the sum of its missions'."""
        rows = list(workbook(api, api.tokens.auditor)["SME support"].iter_rows(min_row=2, values_only=True))
        overall = [row for row in rows if str(row[4]).startswith("all missions")]
        assert len(overall) == len({row[0] for row in rows}) > 10
        for total in overall:
            missions = [row for row in rows if row[0] == total[0] and row is not total and row not in overall]
            assert Decimal(str(total[5])) == Decimal("60000")
            assert Decimal(str(total[7])) == sum((Decimal(str(row[7])) for row in missions), Decimal(0))
            assert all(Decimal(str(row[5])) <= Decimal("2000") for row in missions)


class TestCsvZip:
    def test_the_zip_holds_every_table_and_a_manifest(self, api: Api) -> None:
        """ledger.zip: one UTF-8 CSV per table with its header, amounts as plain decimals, dates
        as YYYY-MM-DD, and manifest.json with the head and each file's SHA-256."""
        response = api.get("/audit/exports/ledger.zip", api.tokens.auditor)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/zip"
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        names = [f"{table.value}.csv" for table in ExportTable]
        assert sorted(archive.namelist()) == sorted([*names, "manifest.json"])
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["position"] == int(response.headers["X-Ledger-Position"])
        assert manifest["exported_by"] == "arthur.auditor"
        for name in names:
            assert manifest["files"][name] == hashlib.sha256(archive.read(name)).hexdigest()
        budget = list(csv.DictReader(io.StringIO(archive.read("budget.csv").decode("utf-8"))))
        assert budget[-1]["partner"] == "TOTAL"
        assert Decimal(budget[-1]["paid"]) == amount(api.budget()["totals"]["paid"])
        claims = list(csv.DictReader(io.StringIO(archive.read("claims.csv").decode("utf-8"))))
        assert len(claims) == 81
        assert all(PLAIN_DECIMAL.fullmatch(row["requested_eur"]) for row in claims)
        assert all(date.fromisoformat(row["submitted_on"]) for row in claims)
        assert archive.read("claims.csv").decode("utf-8") == api.get("/audit/exports/claims.csv").text
