"""The demo's supporting documents (api/demo_documents.py): generated receipts the ledger accepts
as PDF and PNG, attached at submission to most claim lines and own costs, a few left without."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from api.demo import DemoSummary, load_demo
from api.demo_documents import COSTS_WITHOUT, receipt_pdf, receipt_png
from api.demo_reporting import ADJUSTMENTS
from ledger.application import GrantLedger
from ledger.claim import ClaimState
from ledger.documents import Upload, inspect_upload
from ledger.storage import open_ledger
from projections.db import ReadDatabase
from projections.documents import DocumentRow, documents_of, missing_documents
from projections.projector import Projector
from projections.tables import documents


@dataclass(frozen=True)
class Demo:
    app: GrantLedger
    summary: DemoSummary
    rows: list[DocumentRow]
    missing: list[tuple[str, str]]


@pytest.fixture(scope="module")
def demo() -> Iterator[Demo]:
    """The demo in memory, its read models projected: every document row, and what is missing
    (kind and state)."""
    app = open_ledger("memory://")
    db = ReadDatabase("sqlite://")
    try:
        summary = load_demo(app)
        Projector(app, db).catch_up()
        with db.reading() as conn:
            holders = conn.execute(select(documents.c.holder_id).distinct()).scalars().all()
            rows = [row for holder in holders for row in documents_of(conn, holder)]
            missing = [(row.holder_kind, row.state) for row in missing_documents(conn)]
        yield Demo(app, summary, rows, missing)
    finally:
        db.close()
        app.close()


class TestFiles:
    def test_the_generated_receipts_are_what_the_ledger_accepts(self) -> None:
        """The PDF and the PNG made in code are read as such from their bytes."""
        pdf = inspect_upload(Upload("r.pdf", receipt_pdf("Tessuti", ["Receipt R-1", "(EUR) 10.00 \\ paid"])), 10**6)
        png = inspect_upload(Upload("r.png", receipt_png("R-1")), 10**6)
        assert (pdf.media_type, png.media_type) == ("application/pdf", "image/png")

    def test_receipts_of_different_references_differ(self) -> None:
        """No two receipts are the same bytes (a document supports one line only)."""
        assert receipt_png("R-1") != receipt_png("R-2")
        assert receipt_pdf("A", ["R-1"]) != receipt_pdf("A", ["R-2"])


class TestDemoDocuments:
    def test_most_lines_and_costs_have_a_document_and_each_reads_back(self, demo: Demo) -> None:
        """As many documents as the summary says, PDFs and PNGs, on claims and costs; every one's
        bytes hash to its digest."""
        assert len(demo.rows) == demo.summary.documents >= 80
        assert {row.media_type for row in demo.rows} == {"application/pdf", "image/png"}
        assert {row.holder_kind for row in demo.rows} == {"claim", "cost"}
        for row in demo.rows:
            assert hashlib.sha256(demo.app.document_bytes(row.sha256)).hexdigest() == row.sha256
            assert demo.app.blobs.check(row.sha256) == "ok"

    def test_a_few_are_left_without(self, demo: Demo) -> None:
        """The list of what is missing has claim lines (a pending claim among them, which can
        still take one) and own costs: those left without and the later adjustment."""
        kinds = Counter(kind for kind, _ in demo.missing)
        assert kinds["claim"] >= 5
        assert kinds["cost"] == len(COSTS_WITHOUT) + len(ADJUSTMENTS)
        assert ("claim", ClaimState.SUBMITTED.value) in demo.missing
        assert len(demo.missing) < len(demo.rows)
