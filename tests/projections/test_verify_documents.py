"""Verification checks every supporting document the events attached, superseded ones too: bytes
changed or deleted in the document store make the verdict fail, naming the claim and line or the
cost; the hash chain itself stays intact. On the in-memory store (its dict) and in the blob table
of SQLite and PostgreSQL, changed behind the application's back."""

from __future__ import annotations

import base64
import contextlib
import os
import sqlite3
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from ledger.application import GrantLedger
from ledger.blobs import TABLE
from projections.close import verify_history
from projections.db import ReadDatabase
from projections.document_check import attachments
from tests.conftest import PG_URL, PostgresSchema, require_postgres
from tests.projections.documented import HOTEL, HOTEL_RESCAN, INVOICE, TAXI, Documented, digest, documented

Story = tuple[GrantLedger, ReadDatabase, Documented]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def story(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[tuple[str, Story]]:
    """The documented story on the in-memory store, a SQLite file or a PostgreSQL schema."""
    schema = None
    if request.param == "memory":
        url = "memory://"
    elif request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/ledger.db"
    else:
        require_postgres()
        schema = PostgresSchema()
        url = schema.url
    try:
        with documented(url) as recorded:
            yield url, recorded
    finally:
        if schema is not None:
            schema.drop()


def _tamper(url: str, app: GrantLedger, sha256: str, data: bytes | None) -> None:
    """Change the stored bytes of ``sha256`` to ``data`` (None: delete them), as someone with
    the database (or the process's memory) could, never through the application."""
    if url == "memory://":
        rows = app.blobs.rows  # type: ignore[attr-defined]
        if data is None:
            del rows[sha256]
        else:
            rows[sha256] = (data, rows[sha256][1])
        return
    statement, params = (
        ("DELETE FROM {table} WHERE sha256 = {mark}", (sha256,))
        if data is None
        else ("UPDATE {table} SET data = {mark} WHERE sha256 = {mark}", (data, sha256))
    )
    if url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(urlsplit(url).path)) as conn, conn:
            changed = conn.execute(statement.format(table=TABLE, mark="?"), params).rowcount
    else:
        import psycopg

        schema = parse_qs(urlsplit(url).query)["schema"][0]
        with psycopg.connect(PG_URL.split("?")[0], autocommit=True) as pg:
            changed = pg.execute(statement.format(table=f'"{schema}".{TABLE}', mark="%s"), params).rowcount
    assert changed == 1


class TestIntact:
    def test_every_attached_document_is_checked(self, story: tuple[str, Story]) -> None:
        """Five attachments (the superseded scan among them), each whole: the verdict is ok and says so."""
        _, (app, db, _) = story
        verdict = verify_history(app, db)
        assert (verdict.documents, verdict.document_problems) == (5, ())
        assert verdict.ok
        assert "5 supporting documents checked: every one matches its digest" in str(verdict)

    def test_the_attachments_come_from_the_events(self, story: tuple[str, Story]) -> None:
        """The attachments verify reads are the events': by holder and line, the superseded one marked."""
        _, (app, _, found) = story
        listed = [(a.kind, a.holder_id, a.line, a.sha256, a.live) for a in attachments(app, batch=2)]
        paid = str(found.claims["paid"])
        assert ("claim", paid, 1, digest(HOTEL), False) in listed
        assert ("claim", paid, 1, digest(HOTEL_RESCAN), True) in listed
        assert ("claim", paid, 2, digest(TAXI), True) in listed
        assert ("cost", str(found.costs["invoiced"]), None, digest(INVOICE), True) in listed
        assert len(listed) == 5


class TestTampered:
    def test_changed_bytes_name_the_claim_and_line(self, story: tuple[str, Story]) -> None:
        """The taxi receipt's bytes changed in the store: altered, claim and line 2 named; the
        chain is intact (the events are untouched) but the verdict fails."""
        url, (app, db, found) = story
        _tamper(url, app, digest(TAXI), b"%PDF-1.4 a forged receipt")
        verdict = verify_history(app, db)
        assert verdict.intact
        assert not verdict.ok
        assert verdict.document_problems == (
            f"claim {found.claims['paid']} line 2: document taxi.png (sha256 {digest(TAXI)}) does not match "
            "its digest (altered: its bytes in the document store were changed)",
        )
        assert f"DOCUMENT PROBLEM: claim {found.claims['paid']} line 2" in str(verdict)

    def test_deleted_bytes_of_a_superseded_document_fail_too(self, story: tuple[str, Story]) -> None:
        """The superseded scan is kept for the auditors: its bytes gone, verify says so, by claim and line."""
        url, (app, db, found) = story
        _tamper(url, app, digest(HOTEL), None)
        verdict = verify_history(app, db)
        assert not verdict.ok
        [problem] = verdict.document_problems
        assert problem.startswith(f"claim {found.claims['paid']} line 1: superseded document hotel.pdf")
        assert "is missing from the document store" in problem

    def test_a_costs_missing_invoice_names_the_cost(self, story: tuple[str, Story]) -> None:
        url, (app, db, found) = story
        _tamper(url, app, digest(INVOICE), None)
        [problem] = verify_history(app, db).document_problems
        assert problem.startswith(f"cost {found.costs['invoiced']}: document invoice-a.pdf (sha256 {digest(INVOICE)})")
        assert "is missing from the document store" in problem

    def test_every_problem_is_listed(self, story: tuple[str, Story]) -> None:
        """Two documents damaged: two problems, in the order attached; the others still counted."""
        url, (app, db, _) = story
        _tamper(url, app, digest(INVOICE), None)
        _tamper(url, app, digest(HOTEL_RESCAN), b"%PDF-1.4 changed")
        verdict = verify_history(app, db)
        assert verdict.documents == 5
        assert [("missing" in p, "altered" in p) for p in verdict.document_problems] == [(True, False), (False, True)]


def test_an_encrypted_documents_ciphertext_swapped_for_anothers_is_altered(tmp_path: object) -> None:
    """With a cipher key the bytes are ciphertext at rest: one document's ciphertext copied over
    another's decrypts to the wrong bytes (or not at all), and verify names that claim line."""
    url = f"sqlite:///{tmp_path}/secret.db"
    with documented(url, base64.b64encode(os.urandom(32)).decode()) as (app, db, found):
        assert verify_history(app, db).ok
        path = urlsplit(url).path
        with contextlib.closing(sqlite3.connect(path)) as conn:
            (taxi,) = conn.execute(f"SELECT data FROM {TABLE} WHERE sha256 = ?", (digest(TAXI),)).fetchone()  # noqa: S608
            assert not bytes(taxi).startswith(b"\x89PNG")  # ciphertext, not the PNG
        _tamper(url, app, digest(HOTEL_RESCAN), bytes(taxi))
        [problem] = verify_history(app, db).document_problems
        assert problem.startswith(f"claim {found.claims['paid']} line 1: document hotel-rescan.pdf")
        assert "does not match its digest (altered" in problem
