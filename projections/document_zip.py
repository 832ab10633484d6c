"""A zip of supporting documents for an auditor, with a manifest they can check themselves.

Every document lands at a path built only from safe parts, whatever name it was uploaded under:
``<claim|cost>-<holder short id>/line-<n>/<sha8>-<safe name>`` (costs have no ``line-<n>``).
The safe name keeps the ASCII letters, digits, dots, hyphens and underscores of the original
(accents dropped, anything else one underscore), never starts with a dot, is at most
``MAX_NAME`` characters, and ends with the extension of the media type the bytes were
recognised as (a "receipt.exe" that is a PDF becomes "receipt.exe.pdf"). So no name climbs out
of the folder ("../../etc/passwd"), hides (".profile"), breaks a line of the manifest or exceeds
what a file system takes.

``MANIFEST.sha256`` is what GNU ``sha256sum -c MANIFEST.sha256`` checks inside the unzipped
folder (lines starting with ``#`` are comments to it): before each ``<sha256>  <path>`` line, a
comment says whose document it is. ``manifest.csv`` lists the same for a spreadsheet (its text
cells made safe: projections.escaping.cell).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import BinaryIO

from ledger.documents import MEDIA_TYPES, is_digest
from projections.documents import DocumentRow
from projections.escaping import cell

#: The longest safe name (before the digest's 8 characters and the media type's extension).
MAX_NAME = 80
#: The longest original name a manifest comment repeats.
MAX_COMMENT = 200
MANIFEST = "MANIFEST.sha256"
MANIFEST_CSV = "manifest.csv"
CSV_HEADER = (
    "holder_kind",
    "holder_id",
    "partner",
    "line",
    "receipt_ref",
    "filename",
    "media_type",
    "sha256",
    "size",
    "live",
    "superseded_reason",
    "path",
)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RUNS = re.compile(r"([._-])[._-]+")
#: Names Windows keeps for devices, whatever the extension.
_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10))})
#: Zip timestamps start in 1980.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def safe_name(filename: str, media_type: str) -> str:
    """A file name that is safe on any file system and in the manifest, from ``filename``."""
    extension = MEDIA_TYPES.get(media_type, ".bin")
    stem, dot, given = filename.rpartition(".")
    if dot and "." + given.lower() in (extension, ".jpeg" if extension == ".jpg" else extension):
        filename = stem
    ascii_only = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    name = _RUNS.sub(r"\1", _UNSAFE.sub("_", ascii_only)).strip("._- ")
    name = name[:MAX_NAME].rstrip("._-") or "document"
    if name.split(".", 1)[0].lower() in _RESERVED:
        name = f"_{name}"
    return name + extension


def _one_line(text: object) -> str:
    """Text for a comment line of the manifest: controls and line breaks as spaces."""
    return "".join(" " if unicodedata.category(ch)[0] in "CZ" and ch != " " else ch for ch in str(text))


def _short(holder_id: str, ids: set[str]) -> str:
    """The holder's id cut to 8 characters, unless another holder in the zip shares them."""
    short = holder_id[:8]
    return short if sum(1 for other in ids if other[:8] == short) == 1 else holder_id


def _folder(row: DocumentRow, ids: set[str]) -> str:
    kind = "claim" if row.holder_kind == "claim" else "cost"
    holder = _UNSAFE.sub("_", _short(row.holder_id, ids))
    return f"{kind}-{holder}" if row.line is None else f"{kind}-{holder}/line-{int(row.line)}"


def document_paths(rows: Iterable[DocumentRow]) -> list[tuple[DocumentRow, str]]:
    """Each row with its path in the zip (unique: a second file at one path gets ``-2``...)."""
    listed = list(rows)
    ids = {row.holder_id for row in listed}
    used: set[str] = set()
    paths = []
    for row in listed:
        if not is_digest(row.sha256):
            raise ValueError(f"{row.sha256!r} is not a SHA-256 digest of a document")
        name = safe_name(row.filename, row.media_type)
        path = f"{_folder(row, ids)}/{row.sha256[:8]}-{name}"
        stem, dot, extension = path.rpartition(".")
        count = 1
        while path in used:
            count += 1
            path = f"{stem}-{count}{dot}{extension}"
        used.add(path)
        paths.append((row, path))
    return paths


def _holder(row: DocumentRow) -> str:
    where = f"{row.holder_kind} {row.holder_id}" + ("" if row.line is None else f", line {row.line}")
    state = "" if row.live else f", superseded: {row.superseded_reason}"
    name = row.filename if len(row.filename) <= MAX_COMMENT else row.filename[:MAX_COMMENT] + "..."
    return f"# {where}, receipt {row.receipt_ref}, size {row.size}, {name}{state}"


def _info(path: str, when: datetime | None, compress: int) -> zipfile.ZipInfo:
    stamp = _ZIP_EPOCH if when is None or when.year < 1980 else when.timetuple()[:6]
    info = zipfile.ZipInfo(path, date_time=stamp)
    info.compress_type = compress
    info.external_attr = 0o644 << 16  # a plain file, readable, never executable
    return info


def write_documents_zip(
    rows: Iterable[DocumentRow], fetch: Callable[[str], bytes], out: BinaryIO, *, title: str
) -> None:
    """Write the documents of ``rows`` (their bytes from ``fetch(sha256)``, e.g. the
    Application's ``document_bytes``, which raises when a document is missing or altered) with
    ``MANIFEST.sha256`` and ``manifest.csv`` to the zip ``out``. ``title`` heads the manifest."""
    placed = document_paths(rows)
    manifest = [f"# {_one_line(title)}", f"# {len(placed)} documents; check them: sha256sum -c {MANIFEST}"]
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    with zipfile.ZipFile(out, "w", allowZip64=True) as archive:
        for row, path in placed:
            archive.writestr(_info(path, row.recorded_at, zipfile.ZIP_STORED), fetch(row.sha256))
            manifest += [_one_line(_holder(row)), f"{row.sha256}  {path}"]
            writer.writerow(
                [
                    cell(value)
                    for value in (
                        row.holder_kind,
                        row.holder_id,
                        row.partner,
                        "" if row.line is None else row.line,
                        row.receipt_ref,
                        row.filename,
                        row.media_type,
                        row.sha256,
                        row.size,
                        "yes" if row.live else "no",
                        row.superseded_reason,
                        path,
                    )
                ]
            )
        archive.writestr(_info(MANIFEST, None, zipfile.ZIP_DEFLATED), "\n".join(manifest) + "\n")
        archive.writestr(_info(MANIFEST_CSV, None, zipfile.ZIP_DEFLATED), table.getvalue())
