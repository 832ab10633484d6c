"""Every export names the head of the hash chain it was made at, so that auditors hold an anchor
outside the ledger: `grantledger verify --expect-head` later tells whether the history is still
the one the books were exported from. The CSV files get a manifest, the workbook a first sheet,
the journals comment lines both tools skip, the downloads response headers."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from beancount import loader
from openpyxl import load_workbook

from api.cli import main
from api.context import open_context
from api.routes.exports import ExportTable
from projections.chain import verify
from tests.api.conftest import Alliance, Api, expense

STAMP = re.compile(r"GrantLedger export at event position (\d+), head seal ([0-9a-f]{64})")


@pytest.fixture
def demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert main(["--database-url", url, "demo"]) == 0
    capsys.readouterr()
    return url


def head_of(url: str) -> tuple[int, str]:
    """The head verify finds, from the raw stored events."""
    with open_context(url) as ctx:
        verdict = verify(ctx.app, ctx.read_db)
    assert verdict.intact
    return verdict.head_position, verdict.head_seal


def export(url: str, kind: str, output: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["--database-url", url, "export", "--format", kind, "--output", str(output)]) == 0
    return capsys.readouterr().out


class TestCommandLine:
    def test_csv_files_come_with_a_manifest(
        self, demo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """manifest.json beside the CSV files holds the head verify finds and each file's SHA-256;
        the command prints the head and the --expect-head line, which verify then accepts."""
        position, seal = head_of(demo)
        out = tmp_path / "export"
        printed = export(demo, "csv", out, capsys)
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        assert (manifest["position"], manifest["head_seal"]) == (position, seal)
        assert manifest["expect_head"] == f"{position}:{seal}"
        assert set(manifest["files"]) == {f"{table.value}.csv" for table in ExportTable}
        for name, digest in manifest["files"].items():
            assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
        assert f"GrantLedger export at event position {position}, head seal {seal}" in printed
        assert f"--expect-head {position}:{seal}" in printed
        assert main(["--database-url", demo, "verify", "--expect-head", manifest["expect_head"]]) == 0

    def test_the_workbook_opens_on_the_head(
        self, demo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The XLSX workbook's first sheet, "Cover", names position, head seal and export time."""
        position, seal = head_of(demo)
        path = tmp_path / "ledger.xlsx"
        printed = export(demo, "xlsx", path, capsys)
        book = load_workbook(path)
        assert book.sheetnames[0] == "Cover"
        fields = {row[0]: row[1] for row in book["Cover"].iter_rows(min_row=2, values_only=True)}
        assert (fields["event_position"], fields["head_seal"], fields["expect_head"]) == (
            position,
            seal,
            f"{position}:{seal}",
        )
        assert isinstance(fields["exported_at_utc"], datetime)
        assert f"head seal {seal}" in printed

    @pytest.mark.parametrize("kind", ["hledger", "beancount"])
    def test_journals_start_with_the_head_and_still_load(
        self, demo: str, tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Both journals open with comment lines naming the head; hledger and beancount's loader
        read them without an error."""
        position, seal = head_of(demo)
        path = tmp_path / f"ledger.{kind}"
        export(demo, kind, path, capsys)
        text = path.read_text(encoding="utf-8")
        first = text.splitlines()[0]
        assert first.startswith("; ")
        assert STAMP.search(first) is not None
        assert STAMP.search(first).groups() == (str(position), seal)  # type: ignore[union-attr]
        if kind == "beancount":
            _entries, errors, _options = loader.load_file(str(path))
            assert not errors, errors[:3]
        else:
            hledger = shutil.which("hledger")
            if hledger is None:
                pytest.skip("hledger is not installed")
            subprocess.run([hledger, "-f", str(path), "bal", "Assets:Remaining"], check=True, capture_output=True)


class TestDownloads:
    def test_every_download_names_the_head(self, api: Api, alliance: Alliance) -> None:
        """Each CSV table, the workbook and both journals come with X-Ledger-Position and
        X-Ledger-Head-Seal equal to the head the verify route reports; the workbook's first sheet
        and the journals' first lines say the same."""
        api.submit(alliance, expense("300.00", "EUR", "HOTEL-1", "ACCOMMODATION"))
        verdict = api.get("/audit/verify", api.tokens.auditor).json()
        expected = (str(verdict["head_position"]), verdict["head_seal"])
        paths = [f"/audit/exports/{table.value}.csv" for table in ExportTable]
        for path in [
            *paths,
            "/audit/exports/ledger.xlsx",
            "/audit/exports/ledger.zip",
            "/audit/exports/ledger.journal",
            "/audit/exports/ledger.beancount",
        ]:
            response = api.get(path, api.tokens.auditor)
            assert response.status_code == 200, path
            assert (response.headers["X-Ledger-Position"], response.headers["X-Ledger-Head-Seal"]) == expected, path
        book = load_workbook(io.BytesIO(api.get("/audit/exports/ledger.xlsx", api.tokens.auditor).content))
        assert book.sheetnames[0] == "Cover"
        assert (book["Cover"]["A6"].value, book["Cover"]["B6"].value) == ("head_seal", verdict["head_seal"])
        for kind in ("journal", "beancount"):
            first = api.get(f"/audit/exports/ledger.{kind}", api.tokens.auditor).text.splitlines()[0]
            match = STAMP.search(first)
            assert match is not None
            assert match.groups() == expected
