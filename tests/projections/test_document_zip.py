"""The documents zip: every file at a safe path whatever its uploaded name, a manifest that GNU
``sha256sum -c`` checks inside the unzipped folder, and a CSV manifest a spreadsheet reads safely."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import shutil
import subprocess
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from projections.document_zip import MANIFEST, MANIFEST_CSV, MAX_NAME, safe_name, write_documents_zip
from projections.documents import DocumentRow

CLAIM = "1f2e3d4c-0000-4000-8000-000000000001"
COST = "9a8b7c6d-0000-4000-8000-000000000002"
HOSTILE = [
    "../../etc/passwd",
    "..\\..\\windows\\system32\\config",
    "/absolute/path.pdf",
    "bell\x07and\x1b[31mescape\x00nul.pdf",
    "name with\nnewline.pdf",
    "carriage\rreturn.png",
    "x" * 5000 + ".pdf",
    ".hidden",
    "-rf .pdf",
    "CON.pdf",
    "reçu hôtel – Tōkyō.jpeg",
    "領収書.pdf",
    "",
    "....",
    "receipt.exe",
    '=HYPERLINK("http://evil").pdf',
]
#: What a safe path is made of: the folder, the line, the digest's start and a safe name.
SAFE_PATH = re.compile(
    r"(claim|cost)-[0-9a-f-]{8,36}(/line-[0-9]+)?/[0-9a-f]{8}-[A-Za-z0-9_][A-Za-z0-9._-]*\.(pdf|jpg|png)"
)


def _row(data: bytes, filename: str, *, line: int | None = 1, live: bool = True, **changes: object) -> DocumentRow:
    values: dict[str, object] = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "holder_kind": "claim" if line is not None else "cost",
        "holder_id": CLAIM if line is not None else COST,
        "partner": "POINTEX",
        "line": line,
        "receipt_ref": "R-77",
        "filename": filename,
        "media_type": "application/pdf",
        "size": len(data),
        "attached_on": date(2023, 4, 1),
        "recorded_at": datetime(2023, 4, 1, 9, 30, tzinfo=UTC),
        "attached_by": "officer.pointex",
        "live": live,
        "superseded_reason": "" if live else "wrong scan",
        "position": 7,
    }
    return DocumentRow(**(values | changes))  # type: ignore[arg-type]


def _zip(rows: list[DocumentRow], store: dict[str, bytes], title: str = "EU-ALLIANCE period 1") -> bytes:
    out = io.BytesIO()
    write_documents_zip(rows, store.__getitem__, out, title=title)
    return out.getvalue()


def _hostile() -> tuple[list[DocumentRow], dict[str, bytes]]:
    store: dict[str, bytes] = {}
    rows = []
    for n, name in enumerate(HOSTILE):
        data = b"%PDF-1.4 document " + str(n).encode()
        store[hashlib.sha256(data).hexdigest()] = data
        rows.append(_row(data, name, line=n % 3 + 1 if n % 4 else None))
    return rows, store


def _extract(archive: bytes, into: Path) -> list[Path]:
    """Write every member where its name says, without the library's own sanitising (what a
    careless unzip tool would do), refusing any that would land outside ``into``."""
    written = []
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        for info in z.infolist():
            target = (into / info.filename).resolve()
            assert target.is_relative_to(into.resolve()), info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(info))
            written.append(target)
    return written


class TestSafePaths:
    def test_every_hostile_name_lands_at_a_safe_path_inside_the_folder(self, tmp_path: Path) -> None:
        """Path climbing, absolute paths, controls, a newline, 5000 characters, hidden and
        reserved names, accents and other scripts: each file is at a plain path under the folder."""
        rows, store = _hostile()
        names = zipfile.ZipFile(io.BytesIO(_zip(rows, store))).namelist()
        documents = [n for n in names if n not in (MANIFEST, MANIFEST_CSV)]
        assert len(documents) == len(HOSTILE)
        for name in documents:
            assert SAFE_PATH.fullmatch(name), name
            assert all(len(part) <= 255 for part in name.split("/")), name
        assert len(set(documents)) == len(documents)
        extracted = _extract(_zip(rows, store), tmp_path)
        assert sorted(p.relative_to(tmp_path).as_posix() for p in extracted) == sorted(names)

    @pytest.mark.skipif(shutil.which("unzip") is None, reason="Info-ZIP's unzip is not installed")
    def test_the_real_unzip_writes_nothing_outside_the_folder(self, tmp_path: Path) -> None:
        """Info-ZIP's unzip, as an auditor runs it, writes every file inside the folder and no other."""
        rows, store = _hostile()
        (tmp_path / "docs.zip").write_bytes(_zip(rows, store))
        folder = tmp_path / "out"
        subprocess.run(["unzip", "-q", str(tmp_path / "docs.zip"), "-d", str(folder)], check=True)
        outside = {p.name for p in tmp_path.iterdir()}
        assert outside == {"docs.zip", "out"}
        assert len([p for p in folder.rglob("*") if p.is_file()]) == len(HOSTILE) + 2

    @pytest.mark.parametrize(
        ("filename", "media_type", "expected"),
        [
            ("../../etc/passwd", "application/pdf", "etc_passwd.pdf"),
            ("receipt.PDF", "application/pdf", "receipt.pdf"),
            ("photo.jpeg", "image/jpeg", "photo.jpg"),
            ("receipt.exe", "image/png", "receipt.exe.png"),
            ("reçu hôtel.pdf", "application/pdf", "recu_hotel.pdf"),
            (".profile", "application/pdf", "profile.pdf"),
            ("nul.txt", "application/pdf", "_nul.txt.pdf"),
            ("領収書.pdf", "application/pdf", "document.pdf"),
            ("line\none.pdf", "application/pdf", "line_one.pdf"),
        ],
    )
    def test_safe_name(self, filename: str, media_type: str, expected: str) -> None:
        """The name keeps what is safe of the original and ends with its media type's extension."""
        assert safe_name(filename, media_type) == expected

    def test_a_long_name_is_cut(self) -> None:
        """A 5000-character name is cut to MAX_NAME characters before the extension."""
        assert safe_name("a" * 5000 + ".pdf", "application/pdf") == "a" * MAX_NAME + ".pdf"

    def test_the_same_document_twice_on_one_line_gets_two_paths(self) -> None:
        """A document superseded and attached again to the same line is listed twice, at two paths."""
        data = b"%PDF-1.4 again"
        rows = [_row(data, "r.pdf", live=False), _row(data, "r.pdf", position=9)]
        names = zipfile.ZipFile(io.BytesIO(_zip(rows, {rows[0].sha256: data}))).namelist()
        short = rows[0].sha256[:8]
        assert names[:2] == [f"claim-1f2e3d4c/line-1/{short}-r.pdf", f"claim-1f2e3d4c/line-1/{short}-r-2.pdf"]

    def test_holders_sharing_a_short_id_keep_their_whole_id(self) -> None:
        """Two holders whose ids start alike are told apart by their whole id."""
        data = b"%PDF-1.4 twin"
        twin = CLAIM[:8] + "-ffff-4000-8000-000000000009"
        rows = [_row(data, "a.pdf"), _row(data, "a.pdf", holder_id=twin)]
        names = zipfile.ZipFile(io.BytesIO(_zip(rows, {rows[0].sha256: data}))).namelist()
        assert names[0].startswith(f"claim-{CLAIM}/")
        assert names[1].startswith(f"claim-{twin}/")


class TestManifest:
    def test_sha256sum_checks_every_document_in_the_unzipped_folder(self, tmp_path: Path) -> None:
        """GNU sha256sum --strict -c MANIFEST.sha256, run inside the folder, passes every
        document and takes the comment lines (one before each document) as comments."""
        rows, store = _hostile()
        archive = _zip(rows, store, title="EU-ALLIANCE\nperiod 1 # POINTEX")
        _extract(archive, tmp_path)
        done = subprocess.run(
            ["sha256sum", "--strict", "-c", MANIFEST], cwd=tmp_path, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.count(": OK") == len(HOSTILE)
        assert "improperly formatted" not in done.stderr
        manifest = (tmp_path / MANIFEST).read_text()
        lines = manifest.splitlines()
        assert lines[0] == "# EU-ALLIANCE period 1 # POINTEX"
        comments = [n for n, line in enumerate(lines) if line.startswith("# claim") or line.startswith("# cost")]
        assert len(comments) == len(HOSTILE)
        assert all(not lines[n + 1].startswith("#") for n in comments)
        assert f"# claim {CLAIM}, line 2, receipt R-77, size " in manifest
        assert f"# cost {COST}, receipt R-77, size " in manifest

    def test_sha256sum_names_a_document_changed_after_unzipping(self, tmp_path: Path) -> None:
        """A document changed after it was unzipped fails the check, by its path."""
        data = b"%PDF-1.4 receipt"
        row = _row(data, "receipt.pdf")
        _extract(_zip([row], {row.sha256: data}), tmp_path)
        path = next(tmp_path.glob("claim-*/line-1/*.pdf"))
        path.write_bytes(b"%PDF-1.4 forged")
        done = subprocess.run(["sha256sum", "-c", MANIFEST], cwd=tmp_path, capture_output=True, text=True, check=False)
        assert done.returncode == 1
        assert f"{path.relative_to(tmp_path).as_posix()}: FAILED" in done.stdout

    def test_the_csv_lists_every_document_with_safe_cells(self) -> None:
        """manifest.csv has a row per document (kind, id, line, reference, digest, size, path),
        a name that reads as a formula quoted, and a superseded document marked so."""
        data, other = b"%PDF-1.4 one", b"%PDF-1.4 two"
        rows = [
            _row(data, '=HYPERLINK("http://evil").pdf'),
            _row(other, "old.pdf", line=None, live=False, receipt_ref="INV-9"),
        ]
        archive = zipfile.ZipFile(io.BytesIO(_zip(rows, {rows[0].sha256: data, rows[1].sha256: other})))
        table = list(csv.DictReader(io.StringIO(archive.read(MANIFEST_CSV).decode())))
        assert [(r["holder_kind"], r["line"], r["receipt_ref"], r["live"]) for r in table] == [
            ("claim", "1", "R-77", "yes"),
            ("cost", "", "INV-9", "no"),
        ]
        assert table[0]["filename"].startswith("'=")
        assert table[1]["superseded_reason"] == "wrong scan"
        assert [r["path"] for r in table] == archive.namelist()[:2]
        assert [r["sha256"] for r in table] == [rows[0].sha256, rows[1].sha256]
        assert table[0]["size"] == str(len(data))

    def test_an_empty_zip_still_has_its_manifests(self) -> None:
        """No document: the zip holds the two manifests, saying so."""
        archive = zipfile.ZipFile(io.BytesIO(_zip([], {})))
        assert archive.namelist() == [MANIFEST, MANIFEST_CSV]
        assert "# 0 documents" in archive.read(MANIFEST).decode()
