"""The command line's documents: ``grantledger attach`` reads files from disk into the same use
cases as the API; ``grantledger documents`` lists a record's, writes a period's zip, lists what is
missing and prunes orphans (tests/api/test_documents.py for the HTTP side)."""

from __future__ import annotations

import hashlib
import uuid
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from api.cli import main
from api.demo_documents import receipt_pdf, receipt_png
from ledger.storage import open_ledger
from tests.builders import COORDINATOR, eur, eur_line, officer, open_mission, selected_sme, sign_alliance, submit

PDF = receipt_pdf("Tessuti Avanzati", ["Receipt R-1", "EUR 400.00"])
PNG = receipt_png("INV-7")
PERIODS = ((date(2021, 9, 1), date(2022, 8, 31)), (date(2022, 9, 1), date(2023, 8, 31)))
COST = uuid.UUID("3f0a3a55-5b8e-4d3b-9c1e-9d0c7b0d6a21")


@dataclass(frozen=True)
class Ledger:
    url: str
    claim: uuid.UUID
    files: Path


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    """POINTEX: a pending claim of two lines (receipts R-1, R-2) and an own cost in period 2;
    a PDF, a PNG and an HTML file on disk."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    app = open_ledger(url)
    try:
        sign_alliance(app)
        app.set_reporting_periods(actor=COORDINATOR, periods=PERIODS, reason="months 1-12, 13-24", on=date(2021, 9, 1))
        mission = open_mission(app)
        sme = selected_sme(app, mission)
        claim = submit(app, mission, sme, eur_line("400.00", "R-1"), eur_line("100.00", "R-2", "ACCOMMODATION"))
        app.record_cost(
            actor=officer("POINTEX"),
            cost_id=COST,
            partner="POINTEX",
            category="TRAVEL",
            amount=eur("412.80"),
            document_ref="INV-7",
            description="staff travel to Tokyo",
            on=date(2023, 3, 20),
        )
    finally:
        app.close()
    files = tmp_path / "files"
    files.mkdir()
    (files / "flight.pdf").write_bytes(PDF)
    (files / "invoice.png").write_bytes(PNG)
    (files / "receipt.pdf").write_bytes(b"<!DOCTYPE html><html><script>alert(1)</script></html>")
    return Ledger(url, claim, files)


def run(ledger: Ledger, *args: str) -> int:
    return main(["--database-url", ledger.url, *args])


def events(ledger: Ledger) -> int:
    app = open_ledger(ledger.url)
    try:
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


class TestAttach:
    def test_a_file_attaches_to_a_claims_line_and_is_listed(
        self, ledger: Ledger, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """By the claim's first 8 characters: the digest is printed, and `documents` lists it."""
        assert run(ledger, "attach", str(ledger.claim)[:8], "--line", "1", str(ledger.files / "flight.pdf")) == 0
        digest = hashlib.sha256(PDF).hexdigest()
        assert f"attached flight.pdf to line 1 of claim {ledger.claim}: sha256 {digest}" in capsys.readouterr().out
        assert run(ledger, "documents", str(ledger.claim)) == 0
        out = capsys.readouterr().out
        assert "flight.pdf" in out
        assert "application/pdf" in out
        assert digest in out

    def test_a_cost_takes_a_file_without_a_line(self, ledger: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
        assert run(ledger, "attach", str(COST), str(ledger.files / "invoice.png")) == 0
        assert f"attached invoice.png to cost {COST}" in capsys.readouterr().out
        assert run(ledger, "documents", str(COST)[:8]) == 0
        assert "image/png" in capsys.readouterr().out

    def test_refusals_record_nothing(self, ledger: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
        """HTML named receipt.pdf, a claim without --line, a file that is not there, an unknown
        id: exit 2 with the reason, and no event recorded."""
        before = events(ledger)
        assert run(ledger, "attach", str(ledger.claim), "--line", "1", str(ledger.files / "receipt.pdf")) == 2
        assert "HTML" in capsys.readouterr().err
        assert run(ledger, "attach", str(ledger.claim), str(ledger.files / "flight.pdf")) == 2
        assert "--line N" in capsys.readouterr().err
        assert run(ledger, "attach", str(ledger.claim), "--line", "1", str(ledger.files / "nowhere.pdf")) == 2
        assert "nowhere.pdf: cannot be read" in capsys.readouterr().err
        assert run(ledger, "attach", "deadbeef", "--line", "1", str(ledger.files / "flight.pdf")) == 2
        assert "no claim or cost starting with deadbeef" in capsys.readouterr().err
        assert events(ledger) == before


class TestDocuments:
    def test_what_is_missing(self, ledger: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
        """With a receipt on line 1 only: line 2 and the cost are missing."""
        assert run(ledger, "attach", str(ledger.claim), "--line", "1", str(ledger.files / "flight.pdf")) == 0
        capsys.readouterr()
        assert run(ledger, "documents", "--missing", "--partner", "pointex") == 0
        out = capsys.readouterr().out
        assert "R-2" in out
        assert "INV-7" in out
        assert "R-1" not in out
        assert "2 without a document" in out

    def test_a_periods_zip(self, ledger: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """The cost's invoice (dated in period 2) is in period 2's zip, with a manifest of its digest."""
        assert run(ledger, "attach", str(COST), str(ledger.files / "invoice.png")) == 0
        out = tmp_path / "period-2.zip"
        assert run(ledger, "documents", "--period", "2", "--partner", "POINTEX", "--zip", str(out)) == 0
        assert f"wrote 1 documents of POINTEX, reporting period 2 to {out}" in capsys.readouterr().out
        with zipfile.ZipFile(out) as archive:
            assert hashlib.sha256(PNG).hexdigest() in archive.read("MANIFEST.sha256").decode()
        assert run(ledger, "documents", "--zip", str(out)) == 2
        assert run(ledger, "documents", "--period", "9", "--zip", str(tmp_path / "none.zip")) == 2
        assert "reporting period 9 is not set" in capsys.readouterr().err
        assert not (tmp_path / "none.zip").exists()

    def test_pruning_orphans(self, ledger: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
        """Nothing is orphaned here: nothing is removed, and an attached document stays readable."""
        assert run(ledger, "attach", str(COST), str(ledger.files / "invoice.png")) == 0
        assert run(ledger, "documents", "--prune-orphans", "--older-than", "0") == 0
        assert "removed 0 orphan documents" in capsys.readouterr().out
        app = open_ledger(ledger.url)
        try:
            assert app.document_bytes(hashlib.sha256(PNG).hexdigest()) == PNG
        finally:
            app.close()
