"""The web app's verify page says when a supporting document is missing or altered, and counts
the documents it checked."""

from __future__ import annotations

import contextlib
import sqlite3

from fastapi import FastAPI

from api.settings import Settings
from ledger.blobs import TABLE
from tests.api.conftest import Alliance
from tests.api.test_verify_documents_route import cost_with_invoice
from tests.api.web.conftest import Person


class TestVerifyPage:
    def test_a_missing_document_heads_the_verdict(
        self, browser: dict[str, Person], alliance: Alliance, app: FastAPI, settings: Settings
    ) -> None:
        """Whole: "Intact" and one document checked. Its bytes deleted: the heading says a
        document is missing or altered, and the verdict names the cost."""
        cost_id, sha256 = cost_with_invoice(app)
        auditor = browser["arthur.auditor"]
        page = auditor.get("/verify")
        assert '<h2 id="verdict">Intact</h2>' in page
        assert '<dt>Documents checked</dt><dd class="num">1</dd>' in page
        path = settings.database_url.removeprefix("sqlite:///")
        with contextlib.closing(sqlite3.connect(path)) as conn, conn:
            conn.execute(f"DELETE FROM {TABLE} WHERE sha256 = ?", (sha256,))  # noqa: S608
        page = auditor.get("/verify")
        assert '<h2 id="verdict">A supporting document is missing or altered</h2>' in page
        assert f"DOCUMENT PROBLEM: cost {cost_id}: document invoice.pdf" in page
