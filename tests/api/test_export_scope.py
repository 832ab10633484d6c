"""Who may download the books: auditors and the coordinator every partner's (or one partner's,
asked for); a financial officer only their own partner's, with the rows filtered to it."""

from __future__ import annotations

import csv
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from api.cli import main
from tests.api.conftest import Alliance, Api, expense

DOWNLOADS = (
    "/audit/exports/ledger.xlsx",
    "/audit/exports/ledger.zip",
    "/audit/exports/budget.csv",
    "/audit/exports/claims.csv",
    "/audit/exports/ledger.journal",
    "/audit/exports/ledger.beancount",
)


def table(api: Api, name: str, token: str, **params: str) -> list[dict[str, str]]:
    response = api.get(f"/audit/exports/{name}.csv", token, **params)
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


@pytest.fixture
def books(api: Api, alliance: Alliance) -> Alliance:
    """A POINTEX claim approved and paid, an NTT cost: rows of two partners."""
    claim = api.submit(alliance, expense("300.00", "EUR", "HOTEL-1", "ACCOMMODATION"))
    api.approve(claim["id"])
    api.pay(claim["id"], "210.00")
    cost = {
        "partner": "NTT",
        "category": "TRAVEL",
        "amount": {"amount": "120.00", "currency": "EUR"},
        "document_ref": "NTT-TRAIN-7",
        "description": "train to the kick-off",
        "on": "2023-04-03",
    }
    assert api.post("/costs", cost, api.tokens.ntt).status_code == 201
    return alliance


class TestWhoDownloads:
    @pytest.mark.parametrize("path", DOWNLOADS)
    @pytest.mark.parametrize("who", ["auditor", "coordinator", "pointex"])
    def test_auditors_the_coordinator_and_officers_download(
        self, api: Api, books: Alliance, path: str, who: str
    ) -> None:
        """Each download answers 200 to an auditor, the coordinator and an officer."""
        assert api.get(path, getattr(api.tokens, who)).status_code == 200

    @pytest.mark.parametrize("path", DOWNLOADS)
    def test_an_officer_asking_for_another_partner_is_refused(self, api: Api, books: Alliance, path: str) -> None:
        """POINTEX's officer asking for NTT's books: 403, saying what they may ask for instead."""
        response = api.get(path, api.tokens.pointex, partner="NTT")
        assert response.status_code == 403
        assert "partner=POINTEX" in response.json()["detail"]

    @pytest.mark.parametrize("path", DOWNLOADS)
    def test_without_a_token_nothing_is_downloaded(self, api: Api, books: Alliance, path: str) -> None:
        assert api.client.get("/api/v1" + path).status_code == 401

    def test_an_unknown_partner_is_a_422_naming_the_partners(self, api: Api, books: Alliance) -> None:
        response = api.get("/audit/exports/ledger.xlsx", api.tokens.auditor, partner="ACME")
        assert response.status_code == 422
        assert "POINTEX" in response.text


class TestOfficersGetTheirPartnersRows:
    def test_every_table_holds_only_their_partners_rows(self, api: Api, books: Alliance) -> None:
        """POINTEX's officer: budget lines, claims, payments and costs of POINTEX only (the NTT
        cost is not there), the TOTAL being POINTEX's; the auditor sees both partners."""
        token = api.tokens.pointex
        budget = table(api, "budget", token)
        assert {row["partner"] for row in budget[:-1]} == {"POINTEX"}
        pointex = api.get("/partners/POINTEX/budget", token).json()
        assert Decimal(budget[-1]["allocated"]) == sum(
            (Decimal(line["allocated"]["amount"]) for line in pointex["lines"]), Decimal(0)
        )
        assert {row["partner"] for row in table(api, "claims", token)} == {"POINTEX"}
        assert {row["partner"] for row in table(api, "payments", token)} == {"POINTEX"}
        assert table(api, "own_costs", token) == []
        assert {row["partner"] for row in table(api, "own_costs", api.tokens.auditor)} == {"NTT"}
        assert len({row["partner"] for row in table(api, "budget", api.tokens.auditor)[:-1]}) == 6

    def test_asking_for_their_own_partner_in_any_case_is_the_same(self, api: Api, books: Alliance) -> None:
        """partner=pointex from POINTEX's officer: 200 and the same rows as without it."""
        mine = table(api, "claims", api.tokens.pointex)
        assert mine
        assert table(api, "claims", api.tokens.pointex, partner="pointex") == mine

    def test_the_cover_says_whose_rows_the_workbook_holds(self, api: Api, books: Alliance) -> None:
        response = api.get("/audit/exports/ledger.xlsx", api.tokens.pointex)
        fields = {r[0]: r[1] for r in load_workbook(io.BytesIO(response.content))["Cover"].iter_rows(values_only=True)}
        assert (fields["exported_by"], fields["role"]) == ("paola.pointex", "officer")
        assert str(fields["partners"]).startswith("POINTEX only")
        archive = zipfile.ZipFile(io.BytesIO(api.get("/audit/exports/ledger.zip", api.tokens.pointex).content))
        assert "POINTEX only" in archive.read("manifest.json").decode()

    def test_their_journal_holds_only_their_lines(self, api: Api, books: Alliance) -> None:
        text = api.get("/audit/exports/ledger.journal", api.tokens.pointex).text
        accounts = {line.split()[0] for line in text.splitlines() if line.startswith("    ")}
        assert accounts
        assert all(":POINTEX:" in a for a in accounts if not a.startswith("Equity:Memo:Requested"))
        assert "only POINTEX's budget lines" in text.splitlines()[3]

    def test_the_coordinator_may_ask_for_one_partner(self, api: Api, books: Alliance) -> None:
        budget = table(api, "budget", api.tokens.coordinator, partner="ntt")
        assert {row["partner"] for row in budget[:-1]} == {"NTT"}


class TestCommandLine:
    def test_csv_as_a_zip_and_for_one_partner(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """--output x.zip writes the zip; --partner filters the rows; an unknown partner exits 2."""
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
        assert main(["--database-url", url, "demo"]) == 0
        out = tmp_path / "books.zip"
        args = ["--database-url", url, "export", "--format", "csv", "--partner", "pointex", "--output", str(out)]
        assert main(args) == 0
        archive = zipfile.ZipFile(out)
        claims = list(csv.DictReader(io.StringIO(archive.read("claims.csv").decode("utf-8"))))
        assert claims
        assert {row["partner"] for row in claims} == {"POINTEX"}
        capsys.readouterr()
        assert main(["--database-url", url, "export", "--format", "xlsx", "--partner", "ACME", "--output", "x"]) == 2
        assert "POINTEX" in capsys.readouterr().err
