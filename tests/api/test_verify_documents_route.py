"""GET /audit/verify checks the supporting documents too: a document's bytes deleted from the
blob table make the verdict name the cost, while the hash chain stays intact."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import uuid
from datetime import date

from fastapi import FastAPI

from api.context import LedgerContext
from api.settings import Settings
from ledger.blobs import TABLE
from ledger.documents import Upload
from tests import samples
from tests.api.conftest import Alliance, Api
from tests.builders import eur, officer

INVOICE = Upload("invoice.pdf", samples.pdf("invoice 42"))


def cost_with_invoice(app: FastAPI) -> tuple[uuid.UUID, str]:
    context: LedgerContext = app.state.context
    cost_id = context.app.record_cost(
        actor=officer("POINTEX"),
        cost_id=uuid.uuid4(),
        partner="POINTEX",
        category="TRAVEL",
        amount=eur("120.00"),
        document_ref="INV-42",
        description="train",
        on=date(2022, 3, 1),
        documents=[INVOICE],
    )
    return cost_id, hashlib.sha256(INVOICE.data).hexdigest()


class TestVerifyDocuments:
    def test_whole_documents_are_counted(self, api: Api, alliance: Alliance, app: FastAPI) -> None:
        cost_with_invoice(app)
        body = api.get("/audit/verify").json()
        assert (body["documents_checked"], body["document_problems"]) == (1, [])
        assert "1 supporting documents checked: every one matches its digest" in body["summary"]

    def test_deleted_bytes_name_the_cost(self, api: Api, alliance: Alliance, app: FastAPI, settings: Settings) -> None:
        """The invoice's bytes deleted straight in the SQLite file: the verdict names the cost and
        the document; the events are untouched, so the chain is intact."""
        cost_id, sha256 = cost_with_invoice(app)
        path = settings.database_url.removeprefix("sqlite:///")
        with contextlib.closing(sqlite3.connect(path)) as conn, conn:
            assert conn.execute(f"DELETE FROM {TABLE} WHERE sha256 = ?", (sha256,)).rowcount == 1  # noqa: S608
        body = api.get("/audit/verify").json()
        assert body["intact"] is True
        assert body["document_problems"] == [
            f"cost {cost_id}: document invoice.pdf (sha256 {sha256}) is missing from the document store "
            "(restore its bytes from a backup of the ledger)"
        ]
        assert f"DOCUMENT PROBLEM: cost {cost_id}" in body["summary"]
