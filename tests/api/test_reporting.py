"""Reporting over HTTP: the periods with each partner's state, a partner's statement (JSON and
XLSX), and the workflow: officers lock and sign their partner's statement, the coordinator
sends one back or submits the period. Refusals are problem details with the ledger's words."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI

from api.security import ServiceStore
from ledger.reporting import TITLES, Column
from ledger.statement import statement_digest
from projections.chain import seal_at
from projections.statements import partner_statement, statement_content
from tests.api.conftest import JSON, Alliance, Api, grant_body, money
from tests.builders import PARTNERS

PERIODS = {
    "periods": [{"start": "2021-09-01", "end": "2022-08-31"}, {"start": "2022-09-01", "end": "2023-08-31"}],
    "reason": "months 1-12 and 13-24",
    "on": "2021-09-01",
}
STEP = {"on": "2022-10-03"}
HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Consortium:
    """The API with the grant signed, its two periods set and a token per partner's officer."""

    api: Api
    officers: dict[str, str]
    app: FastAPI

    def step(self, partner: str, action: str, token: str | None = None, **body: Any) -> Any:
        path = f"/reporting/periods/1/statements/{partner}/{action}"
        return self.api.post(path, {**STEP, **body}, token or self.officers[partner])

    def statement(self, partner: str, number: int = 1) -> JSON:
        response = self.api.get(f"/reporting/periods/{number}/statements/{partner}")
        assert response.status_code == 200, response.text
        body: JSON = response.json()
        return body

    def sign_all(self) -> None:
        for partner in self.officers:
            self.api.ok(self.step(partner, "lock"), 200)
            self.api.ok(self.step(partner, "sign"), 200)


def cost(partner: str, category: str, amount: str, on: str, ref: str) -> JSON:
    return {
        "partner": partner,
        "category": category,
        "amount": money(amount),
        "document_ref": ref,
        "description": "staff costs",
        "on": on,
    }


@pytest.fixture
def consortium(api: Api, store: ServiceStore, app: FastAPI) -> Consortium:
    """POINTEX spent EUR 1,000.00 on personnel in period 1 and EUR 200.00 on travel in period 2."""
    api.ok(api.post("/grant", grant_body(), api.tokens.coordinator))
    api.ok(api.post("/reporting/periods", PERIODS, api.tokens.coordinator), 200)
    officers = {
        p.code: store.create_token(name=f"officer.{p.code.lower()}", role="officer", partner=p.code) for p in PARTNERS
    }
    api.ok(api.post("/costs", cost("POINTEX", "PERSONNEL", "1000.00", "2022-03-01", "PAY-1"), officers["POINTEX"]))
    api.ok(api.post("/costs", cost("POINTEX", "TRAVEL", "200.00", "2022-10-01", "TRV-1"), officers["POINTEX"]))
    return Consortium(api, officers, app)


def figures(statement: JSON) -> dict[str, str]:
    return {c["column"]: c["costs"]["amount"] for c in statement["columns"]}


class TestReading:
    def test_the_periods_list_every_partner_in_draft(self, consortium: Consortium) -> None:
        """Two periods, each with the six partners' statements in draft."""
        body = consortium.api.get("/reporting/periods").json()
        assert body["count"] == 2
        first, second = body["data"]
        assert (first["number"], first["start"], first["end"]) == (1, "2021-09-01", "2022-08-31")
        assert second["start"] == "2022-09-01"
        assert {s["partner"] for s in first["statements"]} == {p.code for p in PARTNERS}
        assert {s["state"] for s in first["statements"] + second["statements"]} == {"draft"}
        assert not first["submitted"]

    def test_a_statement_has_the_figures_of_its_period(self, consortium: Consortium) -> None:
        """Period 1 of POINTEX: A 1,000.00, E 7% of it, 90% of 1,070.00 requested; travel of
        period 2 is not in it. The statement names its columns as the EU form does."""
        body = consortium.statement("pointex")
        assert body["partner"] == "POINTEX"
        assert body["state"] == "draft"
        assert body["digest"] is None
        shown = figures(body)
        assert shown["A"] == "1000.00"
        assert shown["C.1"] == "0.00"
        assert shown["E"] == "70.00"
        assert [c["title"] for c in body["columns"]] == [TITLES[c] for c in Column]
        assert body["total"]["amount"] == "1070.00"
        assert body["requested"]["amount"] == "963.00"
        assert body["cumulative_requested"]["amount"] == "963.00"
        assert body["certificate_due"] is False
        assert HEX64.fullmatch(body["seal"])
        later = consortium.statement("POINTEX", 2)
        assert figures(later)["C.1"] == "200.00"
        # period 2: 90% of (200.00 + 7% of it) = 192.60, after 963.00 in period 1
        assert later["requested"]["amount"] == "192.60"
        assert later["cumulative_requested"]["amount"] == "1155.60"

    def test_unknown_periods_and_partners_are_404s(self, consortium: Consortium) -> None:
        """A period that does not exist names those that do; an unknown partner names the partners."""
        missing = consortium.api.get("/reporting/periods/3/statements/POINTEX")
        assert missing.status_code == 404
        assert "the periods are 1, 2" in missing.json()["detail"]
        nobody = consortium.api.get("/reporting/periods/1/statements/ACME")
        assert nobody.status_code == 404
        assert "POINTEX" in nobody.json()["detail"]


class TestWorkflow:
    def test_an_officer_locks_and_signs_at_the_head(self, consortium: Consortium) -> None:
        """Locked, then signed: the digest is that of the statement's content at the position it
        was signed at, and the seal is the chain's seal there."""
        locked = consortium.api.ok(consortium.step("POINTEX", "lock", reason="for review"), 200)
        assert locked["state"] == "locked"
        assert locked["reason"] == "for review"
        signed = consortium.api.ok(consortium.step("POINTEX", "sign"), 200)
        assert signed["state"] == "signed"
        assert signed["signer"] == "officer.pointex"
        context = consortium.app.state.context
        with context.read_db.reading() as conn:
            statement = partner_statement(conn, "POINTEX", 1, position=signed["position"])
            assert statement is not None
            assert signed["seal"] == seal_at(conn, signed["position"])
        assert signed["digest"] == statement_digest(statement_content(statement))
        assert figures(signed)["A"] == "1000.00"

    def test_only_the_partners_officers_lock_and_only_the_coordinator_sends_back(self, consortium: Consortium) -> None:
        """NTT's officer may not lock POINTEX's statement; an officer may not send one back."""
        other = consortium.step("POINTEX", "lock", consortium.officers["NTT"])
        assert other.status_code == 403
        assert "POINTEX" in other.json()["detail"]
        consortium.api.ok(consortium.step("POINTEX", "lock"), 200)
        officer = consortium.step("POINTEX", "send-back", reason="no")
        assert officer.status_code == 403
        back = consortium.step("POINTEX", "send-back", consortium.api.tokens.coordinator, reason="June is missing")
        data = consortium.api.ok(back, 200)
        assert data["state"] == "draft"
        assert data["reason"] == "June is missing"

    def test_a_send_back_needs_a_reason(self, consortium: Consortium) -> None:
        response = consortium.step("POINTEX", "send-back", consortium.api.tokens.coordinator)
        assert response.status_code == 422
        assert "reason" in response.text

    def test_a_locked_period_refuses_a_cost_dated_in_it(self, consortium: Consortium) -> None:
        """Once POINTEX's statement is locked, a cost dated in period 1 is a 409 that says so."""
        consortium.api.ok(consortium.step("POINTEX", "lock"), 200)
        late = cost("POINTEX", "TRAVEL", "50.00", "2022-05-01", "TRV-LATE")
        refused = consortium.api.post("/costs", late, consortium.officers["POINTEX"])
        assert refused.status_code == 409
        assert "locked" in refused.json()["detail"]
        assert figures(consortium.statement("POINTEX"))["C.1"] == "0.00"

    def test_the_coordinator_submits_once_every_statement_is_signed(self, consortium: Consortium) -> None:
        """Submitting with a statement unsigned is refused; once all are signed the period and
        every statement are submitted, still showing the figures they were signed with."""
        coordinator = consortium.api.tokens.coordinator
        early = consortium.api.post("/reporting/periods/1/submit", STEP, coordinator)
        assert early.status_code == 409
        consortium.sign_all()
        by_officer = consortium.api.post("/reporting/periods/1/submit", STEP, consortium.officers["POINTEX"])
        assert by_officer.status_code == 403
        period = consortium.api.ok(consortium.api.post("/reporting/periods/1/submit", STEP, coordinator), 200)
        assert period["submitted"] is True
        assert {s["state"] for s in period["statements"]} == {"submitted"}
        assert {(s["locked_by"], s["submitted_by"]) for s in period["statements"] if s["partner"] == "NTT"} == {
            ("officer.ntt", "claire.coordinator")
        }
        assert all(HEX64.fullmatch(s["digest"]) for s in period["statements"])
        shown = consortium.statement("POINTEX")
        assert shown["state"] == "submitted"
        assert figures(shown)["A"] == "1000.00"


class TestAdjustments:
    def test_a_late_cost_of_a_submitted_period_is_declared_in_the_next(self, consortium: Consortium) -> None:
        """After period 1 is submitted, a POINTEX travel cost dated in it, declared in period 2,
        is shown apart in period 2's statement (JSON and XLSX) and counted in its figures;
        period 1 as submitted does not change."""
        from openpyxl import load_workbook

        consortium.sign_all()
        consortium.api.ok(
            consortium.api.post("/reporting/periods/1/submit", STEP, consortium.api.tokens.coordinator), 200
        )
        before = consortium.statement("POINTEX")
        late = {**cost("POINTEX", "TRAVEL", "50.00", "2022-05-01", "TRV-LATE"), "declared_on": "2022-11-02"}
        consortium.api.ok(consortium.api.post("/costs", late, consortium.officers["POINTEX"]))
        assert consortium.statement("POINTEX") == before
        second = consortium.statement("POINTEX", 2)
        assert second["adjustments"] == [{"period": 1, "column": "C.1", "amount": money("50.00")}]
        assert figures(second)["C.1"] == "250.00"
        response = consortium.api.get("/reporting/periods/2/statements/POINTEX.xlsx")
        sheet = load_workbook(io.BytesIO(response.content))["POINTEX"]
        rows = list(sheet.iter_rows(values_only=True))
        block = next(i for i, row in enumerate(rows) if str(row[0]).startswith("Adjustments of earlier periods"))
        assert rows[block + 2][:2] == (1, "C.1 Travel and subsistence")
        assert Decimal(str(rows[block + 2][2])) == Decimal("50.00")


class TestConsortium:
    def test_the_summary_puts_the_partners_side_by_side_under_the_eu_cap(self, consortium: Consortium) -> None:
        """Period 1: POINTEX's 1,070.00 (963.00 requested) is the consortium's; period 2
        requests 192.60 after the 963.00 of period 1, leaving 448,844.40 of the EU cap."""
        first = consortium.api.get("/reporting/periods/1/summary").json()
        assert [p["partner"] for p in first["partners"]] == sorted(p.code for p in PARTNERS)
        pointex = next(p for p in first["partners"] if p["partner"] == "POINTEX")
        assert (pointex["state"], pointex["total"]["amount"], pointex["requested"]["amount"]) == (
            "draft",
            "1070.00",
            "963.00",
        )
        assert first["totals"]["A"] == money("1000.00")
        assert first["total_eligible"] == money("1070.00")
        assert (first["eu_cap"], first["requested_before"]) == (money("450000.00"), money("0.00"))
        assert first["cap_remaining"] == money("449037.00")
        second = consortium.api.get("/reporting/periods/2/summary").json()
        assert (second["requested_before"], second["requested"]) == (money("963.00"), money("192.60"))
        assert second["cap_remaining"] == money("448844.40")
        assert consortium.api.get("/reporting/periods/3/summary").status_code == 404

    def test_the_fstp_report_lists_the_smes_paid_in_the_period(self, api: Api, alliance: Alliance) -> None:
        """A claim paid EUR 700.00 in April 2023 is period 2's: the SME, its country, the call and
        its cumulative support against the EUR 60,000 cap; period 1 has none. The period's
        workbook has the same row, after a sheet per partner and the summary."""
        from openpyxl import load_workbook

        api.ok(api.post("/reporting/periods", PERIODS, api.tokens.coordinator), 200)
        claim = api.submit(alliance)
        api.approve(claim["id"])
        api.pay(claim["id"], "700.00")
        assert api.get("/reporting/periods/1/fstp").json()["count"] == 0
        report = api.get("/reporting/periods/2/fstp").json()
        assert report["count"] == 1
        (row,) = report["data"]
        assert (row["partner"], row["sme_id"], row["country"], row["mission_code"]) == (
            "POINTEX",
            alliance.sme_id,
            "IT",
            "JPN-2023",
        )
        assert (row["paid"], row["cumulative"], row["cap"]) == (money("700.00"), money("700.00"), money("60000.00"))
        assert report["total"] == money("700.00")
        summary = api.get("/reporting/periods/2/summary").json()
        assert summary["totals"]["D.1"] == report["total"]
        response = api.get("/reporting/periods/2/statements.xlsx")
        book = load_workbook(io.BytesIO(response.content))
        assert book.sheetnames[-2:] == ["Consortium summary", "FSTP report"]
        rows = list(book["FSTP report"].iter_rows(values_only=True))
        listed = next(r for r in rows if r[0] == "POINTEX")
        assert listed[1] == row["legal_name"]
        assert [Decimal(str(v)) for v in listed[5:8]] == [Decimal("700"), Decimal("700"), Decimal("60000")]
        stamp = {r[0]: r[1] for r in rows if r[0] in {"Event position", "Head seal"}}
        assert stamp == {"Event position": report["position"], "Head seal": report["seal"]}
        sheet = list(book["Consortium summary"].iter_rows(values_only=True))
        consortium_row = next(r for r in sheet if r[0] == "Consortium")
        assert Decimal(str(consortium_row[2 + list(Column).index(Column.D1)])) == Decimal("700")


class TestDownloads:
    def test_the_xlsx_has_the_statements_figures(self, consortium: Consortium) -> None:
        """The partner's sheet: a row per column with its costs, rate and contribution as numbers
        (2 decimals), the totals, and the position, seal and digest of the statement."""
        from openpyxl import load_workbook

        consortium.api.ok(consortium.step("POINTEX", "lock"), 200)
        signed = consortium.api.ok(consortium.step("POINTEX", "sign"), 200)
        response = consortium.api.get("/reporting/periods/1/statements/pointex.xlsx")
        assert response.status_code == 200, response.text
        assert response.headers["x-ledger-position"] == str(signed["position"])
        book = load_workbook(io.BytesIO(response.content))
        assert book.sheetnames == ["POINTEX"]
        rows = {row[0]: row for row in book["POINTEX"].iter_rows(values_only=True) if row[0] is not None}
        assert rows["Event position"][1] == signed["position"]
        assert rows["Head seal"][1] == signed["seal"]
        assert rows["Digest"][1] == signed["digest"]
        for column in signed["columns"]:
            row = rows[column["column"]]
            assert row[1] == column["title"]
            assert Decimal(str(row[2])) == Decimal(column["costs"]["amount"])
            assert Decimal(str(row[3])) == Decimal(column["funding_rate"])
            assert Decimal(str(row[4])) == Decimal(column["contribution"]["amount"])
        money_cell = next(c for c in book["POINTEX"]["C"] if c.value == 1000)
        assert (money_cell.data_type, money_cell.number_format) == ("n", "#,##0.00")

    def test_the_period_workbook_has_a_sheet_per_partner(self, consortium: Consortium) -> None:
        """A sheet per partner (by code), each with its own figures."""
        from openpyxl import load_workbook

        response = consortium.api.get("/reporting/periods/1/statements.xlsx")
        assert response.status_code == 200, response.text
        book = load_workbook(io.BytesIO(response.content))
        codes = sorted(p.code for p in PARTNERS)
        assert book.sheetnames[: len(codes)] == codes
        for code in codes:
            rows = {row[0]: row for row in book[code].iter_rows(values_only=True) if row[0] is not None}
            assert Decimal(str(rows["A"][2])) == Decimal("1000" if code == "POINTEX" else "0"), code
