"""The demo's supporting documents: small receipts made in code (a one-page PDF and a PNG), no file
in the repository.

Most claim lines and own costs get a receipt at submission (in the same save as the claim or
cost, on its business date); a few are left without, as in real books, so the list of what is
missing has rows and a pending claim can still take one. Every document names its claim (or
cost) and receipt, so no two are the same bytes: a document supports one line only.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Mapping, Sequence

from api.demo_claims import ClaimPlan
from api.demo_data import CostPlan
from ledger.documents import Upload

#: Every SKIP_CLAIM-th claim has no document at all; on every SKIP_LINE-th claim of several
#: lines the last line has none. Costs at these indexes (in COSTS) have none.
SKIP_CLAIM = 6
SKIP_LINE = 4
COSTS_WITHOUT = frozenset({3, 6})


# --- the files ------------------------------------------------------------------------------
def _pdf_text(text: str) -> str:
    """Text for a PDF string literal: ASCII, its delimiters escaped."""
    ascii_text = text.encode("ascii", "replace").decode("ascii")
    return ascii_text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def receipt_pdf(title: str, lines: Sequence[str]) -> bytes:
    """A valid one-page PDF (A6, Helvetica) showing ``title`` and ``lines``."""
    text = [f"BT /F1 14 Tf 24 380 Td ({_pdf_text(title)}) Tj ET"]
    text += [f"BT /F1 9 Tf 24 {350 - 14 * n} Td ({_pdf_text(line)}) Tj ET" for n, line in enumerate(lines)]
    stream = "\n".join(text).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 298 421] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def receipt_png(reference: str, width: int = 160, height: int = 48) -> bytes:
    """A small greyscale PNG: a bar code of the reference's digest on white (a scan's stand-in)."""
    bits = "".join(f"{byte:08b}" for byte in hashlib.sha256(reference.encode()).digest())
    row = bytes(0 if bits[(x // 2) % len(bits)] == "1" and 8 <= x < width - 8 else 255 for x in range(width))
    blank = bytes([255] * width)
    raw = b"".join(b"\x00" + (row if 8 <= y < height - 8 else blank) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    chunks = _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def _name(reference: str, extension: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in reference) + extension


# --- which records get one --------------------------------------------------------------------
def claim_documents(number: int, plan: ClaimPlan) -> Mapping[int, Sequence[Upload]]:
    """The receipts attached when claim ``number`` (its index among the demo's claims) is
    submitted, by line (from 1): a PDF or a PNG per line, some lines and claims left without."""
    if number % SKIP_CLAIM == SKIP_CLAIM - 1:
        return {}
    documents: dict[int, Sequence[Upload]] = {}
    for line_no, line in enumerate(plan.lines, start=1):
        if len(plan.lines) > 1 and line_no == len(plan.lines) and number % SKIP_LINE == 0:
            continue
        reference = f"{plan.key}/{line_no}/{line.receipt_ref}"
        if (number + line_no) % 3 == 0:
            documents[line_no] = [Upload(_name(line.receipt_ref, ".png"), receipt_png(reference))]
        else:
            details = [
                f"Receipt {line.receipt_ref}",
                f"Date {line.expense_date.isoformat()}",
                f"{line.cost_type}: {line.amount}",
                line.description[:80],
                f"Claim {plan.key}, line {line_no}",
            ]
            documents[line_no] = [Upload(_name(line.receipt_ref, ".pdf"), receipt_pdf(plan.sme.name[:40], details))]
    return documents


def cost_documents(number: int, cost: CostPlan) -> Sequence[Upload]:
    """The invoice attached when own cost ``number`` (its index in COSTS) is recorded, if any."""
    if number in COSTS_WITHOUT:
        return ()
    details = [
        f"Invoice {cost.document_ref}",
        f"Date {cost.on.isoformat()}",
        f"{cost.category.value}: {cost.amount}",
        cost.description[:80],
        f"Charged to {cost.partner}",
    ]
    return (Upload(_name(cost.document_ref, ".pdf"), receipt_pdf(cost.partner, details)),)


def count(documents: Mapping[int, Sequence[Upload]] | Sequence[Upload]) -> int:
    if isinstance(documents, Mapping):
        return sum(len(uploads) for uploads in documents.values())
    return len(documents)
