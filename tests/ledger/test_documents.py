"""Supporting documents in the ledger: only PDF, JPEG and PNG by their bytes, content-addressed,
one live holder per document, never replaced or deleted, stored beside the events (encrypted
with the cipher key), and refusals that record and store nothing."""

from __future__ import annotations

import base64
import contextlib
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from unittest.mock import patch
from uuid import UUID

import pytest

from ledger.actors import Actor
from ledger.application import GrantLedger
from ledger.blobs import ALTERED, MISSING, OK, digest_of
from ledger.claim import ClaimNotInState
from ledger.documents import (
    DocumentAlreadyUsed,
    DocumentAltered,
    DocumentMissing,
    DocumentRefused,
    DocumentTooLarge,
    UnknownDocument,
    Upload,
    clean_filename,
    inspect_upload,
    sniff,
)
from ledger.errors import InvalidInput, NotAllowed, NotFound, Refused
from ledger.money import Money
from ledger.storage import cipher_env, open_ledger
from tests.builders import eur_line, officer, open_mission, selected_sme, sign_alliance
from tests.ledger._race import race
from tests.samples import jpeg, pdf, png

POINTEX = officer("POINTEX")
DECIDED_ON = date(2023, 4, 10)


@pytest.fixture
def story(app: GrantLedger) -> tuple[GrantLedger, UUID, UUID]:
    """A signed grant and one mission with a selected SME: (app, mission, sme)."""
    sign_alliance(app)
    mission = open_mission(app)
    return app, mission, selected_sme(app, mission)


def new_claim(app: GrantLedger, mission: UUID, sme: UUID, lines: int = 2, **documents: list[Upload]) -> UUID:
    return app.submit_claim(
        actor=POINTEX,
        claim_id=uuid.uuid4(),
        sme_id=sme,
        mission_id=mission,
        lines=[eur_line("100.00") for _ in range(lines)],
        on=date(2023, 4, 1),
        documents={int(k.removeprefix("line")): v for k, v in documents.items()},
    )


def new_cost(app: GrantLedger, documents: tuple[Upload, ...] = ()) -> UUID:
    return app.record_cost(
        actor=POINTEX,
        cost_id=uuid.uuid4(),
        partner="POINTEX",
        category="TRAVEL",
        amount=Money.eur("250.00"),
        document_ref=f"INV-{uuid.uuid4().hex[:8]}",
        description="train",
        on=date(2023, 3, 20),
        documents=documents,
    )


@contextlib.contextmanager
def refused_untouched(app: GrantLedger) -> Iterator[None]:
    """The block raises a refusal that records no event and stores no bytes."""
    position, blobs = app.recorder.max_notification_id(), sorted(app.blobs.digests())
    yield
    assert app.recorder.max_notification_id() == position, "a refused command recorded an event"
    assert sorted(app.blobs.digests()) == blobs, "a refused command stored bytes"


class TestWhatADocumentIs:
    def test_the_type_is_read_from_the_bytes(self) -> None:
        """PDF, PNG and JPEG are recognised by their magic numbers, whatever their name."""
        assert sniff(pdf()) == "application/pdf"
        assert sniff(png()) == "image/png"
        assert sniff(jpeg()) == "image/jpeg"
        facts = inspect_upload(Upload("scan.png", pdf("x")), 1000)
        assert (facts.media_type, facts.size, facts.sha256) == ("application/pdf", len(pdf("x")), digest_of(pdf("x")))

    @pytest.mark.parametrize(
        ("name", "data", "said"),
        [
            ("receipt.pdf", b"<!DOCTYPE html><script>alert(1)</script>", "HTML"),
            ("receipt.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
            ("receipt.pdf", b"PK\x03\x04archive", "archive"),
            ("receipt.jpg", b"#!/bin/sh\nrm -rf /", "script"),
            ("receipt.pdf", pdf()[:200], "cut short"),
            ("receipt.pdf", b"", "empty"),
            ("receipt.pdf", b"plain text", "not a PDF"),
            ("receipt.pdf", b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF", "HTML"),
            ("receipt.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR<svg onload=alert(1)/>IEND\0\0\0\0", "SVG"),
            ("receipt.jpg", b"\xff\xd8\xff\xe0<html><script>alert(1)</script>\xff\xd9", "HTML"),
            ("receipt.png", png()[:40], "cut short"),
            ("receipt.jpg", jpeg()[:-2], "cut short"),
        ],
    )
    def test_anything_else_is_refused_with_what_it_is(self, name: str, data: bytes, said: str) -> None:
        """A disguised file is refused, saying what it looks like and what to send instead."""
        with pytest.raises(DocumentRefused, match=said) as refused:
            inspect_upload(Upload(name, data), 1000)
        assert name in refused.value.detail

    def test_a_file_over_the_limit_is_refused_with_both_sizes(self) -> None:
        with pytest.raises(DocumentTooLarge, match=r"is 3,000 bytes, over the limit of 2,999 bytes"):
            inspect_upload(Upload("big.pdf", b"%PDF-" + b"0" * 2990 + b"%%EOF"), 2999)

    @pytest.mark.parametrize(
        ("given", "kept"),
        [
            ("../../etc/passwd.pdf", "passwd.pdf"),
            ("C:\\Users\\me\\scan.pdf", "scan.pdf"),
            ("in\nvoice\x00.pdf", "invoice.pdf"),
            ("\u202etxt.exe.pdf", "txt.exe.pdf"),
            ("...", "document.pdf"),
            ("a" * 300 + ".pdf", "a" * 196 + ".pdf"),
        ],
    )
    def test_the_file_name_keeps_only_its_own_plain_name(self, given: str, kept: str) -> None:
        assert clean_filename(given, "application/pdf") == kept


class TestAttaching:
    def test_documents_attach_at_submission_and_later_and_come_back_intact(
        self, story: tuple[GrantLedger, UUID, UUID]
    ) -> None:
        """Attached at submission to line 1 and later to line 2, each reads back byte for byte."""
        app, mission, sme = story
        claim_id = new_claim(app, mission, sme, line1=[Upload("hotel.pdf", pdf("hotel"))])
        (later,) = app.attach_to_claim(actor=POINTEX, claim_id=claim_id, line=2, uploads=[Upload("taxi.png", png())])
        claim = app.claim(claim_id)
        assert [(d["line"], d["filename"], d["live"]) for d in claim.documents] == [
            (1, "hotel.pdf", True),
            (2, "taxi.png", True),
        ]
        assert app.document_bytes(digest_of(pdf("hotel"))) == pdf("hotel")
        assert app.document_bytes(later) == png()
        assert app.blobs.check(later) == OK

    def test_a_cost_takes_documents_when_recorded_and_later(self, story: tuple[GrantLedger, UUID, UUID]) -> None:
        app = story[0]
        cost_id = new_cost(app, (Upload("invoice.pdf", pdf("invoice")),))
        app.attach_to_cost(actor=POINTEX, cost_id=cost_id, uploads=[Upload("payslip.jpg", jpeg())])
        assert [d["filename"] for d in app.cost(cost_id).live_documents()] == ["invoice.pdf", "payslip.jpg"]

    def test_the_same_attachment_repeated_records_nothing(self, story: tuple[GrantLedger, UUID, UUID]) -> None:
        """A retried upload of the same file to the same line answers the same, recording nothing."""
        app, mission, sme = story
        claim_id = new_claim(app, mission, sme)
        first = app.attach_to_claim(actor=POINTEX, claim_id=claim_id, line=1, uploads=[Upload("a.pdf", pdf("a"))])
        position = app.recorder.max_notification_id()
        again = app.attach_to_claim(actor=POINTEX, claim_id=claim_id, line=1, uploads=[Upload("a.pdf", pdf("a"))])
        assert again == first
        assert app.recorder.max_notification_id() == position

    def test_the_same_document_on_two_live_claims_is_refused_naming_the_other(
        self, story: tuple[GrantLedger, UUID, UUID]
    ) -> None:
        """Double funding by document: whatever the receipt references say, the second claim is
        refused, the message names the first claim and its line, and nothing is recorded."""
        app, mission, sme = story
        first = new_claim(app, mission, sme, line2=[Upload("hotel.pdf", pdf("hotel"))])
        other = new_claim(app, mission, sme)
        with refused_untouched(app), pytest.raises(DocumentAlreadyUsed, match=f"claim {first} line 2") as refused:
            app.attach_to_claim(actor=POINTEX, claim_id=other, line=1, uploads=[Upload("renamed.pdf", pdf("hotel"))])
        assert "no double funding" in refused.value.detail
        with refused_untouched(app), pytest.raises(DocumentAlreadyUsed, match=f"claim {first}"):
            new_cost(app, (Upload("hotel.pdf", pdf("hotel")),))
        assert not app.claim(other).documents

    def test_a_submission_with_a_document_already_used_records_no_claim(
        self, story: tuple[GrantLedger, UUID, UUID]
    ) -> None:
        app, mission, sme = story
        new_claim(app, mission, sme, line1=[Upload("a.pdf", pdf("a"))])
        with refused_untouched(app), pytest.raises(DocumentAlreadyUsed):
            new_claim(app, mission, sme, line1=[Upload("b.png", png())], line2=[Upload("a.pdf", pdf("a"))])

    def test_a_decided_claim_takes_no_document(self, story: tuple[GrantLedger, UUID, UUID]) -> None:
        app, mission, sme = story
        claim_id = new_claim(app, mission, sme)
        app.approve_claim(actor=POINTEX, claim_id=claim_id, on=DECIDED_ON)
        with refused_untouched(app), pytest.raises(ClaimNotInState, match="approved: documents are attached"):
            app.attach_to_claim(actor=POINTEX, claim_id=claim_id, line=1, uploads=[Upload("late.pdf", pdf("late"))])

    @pytest.mark.parametrize(
        ("actor", "line", "error"),
        [(officer("NIDV"), 1, NotAllowed), (POINTEX, 3, InvalidInput), (POINTEX, 0, InvalidInput)],
    )
    def test_only_the_partners_officer_attaches_and_only_to_a_line_the_claim_has(
        self, story: tuple[GrantLedger, UUID, UUID], actor: Actor, line: int, error: type[Exception]
    ) -> None:
        app, mission, sme = story
        claim_id = new_claim(app, mission, sme)
        with refused_untouched(app), pytest.raises(error):
            app.attach_to_claim(actor=actor, claim_id=claim_id, line=line, uploads=[Upload("a.pdf", pdf("a"))])

    def test_a_bad_file_among_good_ones_attaches_none(self, story: tuple[GrantLedger, UUID, UUID]) -> None:
        app, mission, sme = story
        claim_id = new_claim(app, mission, sme)
        uploads = [Upload("a.pdf", pdf("a")), Upload("evil.pdf", b"<html>")]
        with refused_untouched(app), pytest.raises(DocumentRefused, match=r"evil\.pdf"):
            app.attach_to_claim(actor=POINTEX, claim_id=claim_id, line=1, uploads=uploads)
        with refused_untouched(app), pytest.raises(InvalidInput, match="given twice"):
            app.attach_to_claim(actor=POINTEX, claim_id=claim_id, line=1, uploads=[uploads[0], uploads[0]])

    def test_an_oversize_document_is_refused_by_the_configured_limit(self, tmp_path: Path) -> None:
        app = open_ledger(f"sqlite:///{tmp_path / 'small.db'}")
        app.close()
        small = GrantLedger(env={**_sqlite_env(tmp_path / "small.db"), "GRANTLEDGER_DOCUMENT_MAX_BYTES": "400"})
        try:
            sign_alliance(small)
            mission = open_mission(small)
            claim_id = new_claim(small, mission, selected_sme(small, mission))
            with refused_untouched(small), pytest.raises(DocumentTooLarge, match="over the limit of 400 bytes"):
                small.attach_to_claim(actor=POINTEX, claim_id=claim_id, line=1, uploads=[Upload("a.pdf", pdf("a"))])
        finally:
            small.close()


def _sqlite_env(path: Path) -> dict[str, str]:
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}


class TestNeverReplacedNorDeleted:
    def test_a_wrong_document_is_superseded_with_a_reason_and_kept(self, story: tuple[GrantLedger, UUID, UUID]) -> None:
        """Superseding keeps the old document (readable, marked), attaches the replacement on
        the same line, and frees the old one for another line."""
        app, mission, sme = story
        claim_id = new_claim(app, mission, sme, line2=[Upload("wrong.pdf", pdf("wrong"))])
        wrong = digest_of(pdf("wrong"))
        right = app.supersede_document(
            actor=POINTEX,
            holder_id=claim_id,
            sha256=wrong,
            reason="the hotel's, not the taxi's",
            replacement=Upload("right.pdf", pdf("right")),
        )
        assert [(d["line"], d["filename"], d["live"]) for d in app.claim(claim_id).documents] == [
            (2, "wrong.pdf", False),
            (2, "right.pdf", True),
        ]
        assert right == digest_of(pdf("right"))
        assert app.document_bytes(wrong) == pdf("wrong")
        other = new_claim(app, mission, sme, line1=[Upload("wrong.pdf", pdf("wrong"))])
        assert app.claim(other).live_documents(1)[0]["sha256"] == wrong

    def test_superseding_needs_a_reason_and_a_live_document(self, story: tuple[GrantLedger, UUID, UUID]) -> None:
        app, mission, sme = story
        claim_id = new_claim(app, mission, sme, line1=[Upload("a.pdf", pdf("a"))])
        digest = digest_of(pdf("a"))
        with refused_untouched(app), pytest.raises(InvalidInput, match="say why"):
            app.supersede_document(actor=POINTEX, holder_id=claim_id, sha256=digest, reason=" ")
        with refused_untouched(app), pytest.raises(NotFound, match="no document with sha256"):
            app.supersede_document(actor=POINTEX, holder_id=claim_id, sha256=digest_of(b"x"), reason="wrong")
        with refused_untouched(app), pytest.raises(InvalidInput, match="same file"):
            app.supersede_document(
                actor=POINTEX, holder_id=claim_id, sha256=digest, reason="again", replacement=Upload("a.pdf", pdf("a"))
            )
        app.supersede_document(actor=POINTEX, holder_id=claim_id, sha256=digest, reason="illegible")
        with refused_untouched(app), pytest.raises(Refused, match="already superseded"):
            app.supersede_document(actor=POINTEX, holder_id=claim_id, sha256=digest, reason="again")

    def test_a_rejected_claims_documents_may_be_declared_again(self, story: tuple[GrantLedger, UUID, UUID]) -> None:
        app, mission, sme = story
        rejected = new_claim(app, mission, sme, line1=[Upload("a.pdf", pdf("a"))])
        app.reject_claim(actor=POINTEX, claim_id=rejected, reason="wrong mission", on=DECIDED_ON)
        again = new_claim(app, mission, sme, line1=[Upload("a.pdf", pdf("a"))])
        assert app.claim(again).live_documents(1)[0]["filename"] == "a.pdf"

    def test_reading_a_digest_never_attached_or_malformed_is_refused(
        self, story: tuple[GrantLedger, UUID, UUID]
    ) -> None:
        app = story[0]
        with pytest.raises(UnknownDocument):
            app.document_bytes(digest_of(b"never"))
        with pytest.raises(InvalidInput, match="64 lowercase hex"):
            app.document_bytes("../../etc/passwd")


class TestTheStore:
    def test_a_changed_or_deleted_blob_is_found(self, story: tuple[GrantLedger, UUID, UUID]) -> None:
        """The store's check and the read-back name an altered and a missing document."""
        app, mission, sme = story
        new_claim(app, mission, sme, line1=[Upload("a.pdf", pdf("a"))], line2=[Upload("b.png", png())])
        altered, missing = digest_of(pdf("a")), digest_of(png())
        _overwrite(app, altered, pdf("forged"))
        _remove(app, missing)
        assert (app.blobs.check(altered), app.blobs.check(missing)) == (ALTERED, MISSING)
        with pytest.raises(DocumentAltered):
            app.document_bytes(altered)
        with pytest.raises(DocumentMissing):
            app.document_bytes(missing)

    def test_a_crash_before_the_event_leaves_an_orphan_never_attached_and_pruned(
        self, story: tuple[GrantLedger, UUID, UUID]
    ) -> None:
        """Bytes stored and then the save failing (a crash): the claim has no document, the
        bytes are an orphan, pruning removes them after the grace period and never touches
        the bytes of a recorded document."""
        app, mission, sme = story
        claim_id = new_claim(app, mission, sme, line1=[Upload("kept.pdf", pdf("kept"))])
        position = app.recorder.max_notification_id()
        with patch.object(app, "save", side_effect=RuntimeError("power cut")), pytest.raises(RuntimeError):
            app.attach_to_claim(actor=POINTEX, claim_id=claim_id, line=2, uploads=[Upload("lost.png", png())])
        assert app.recorder.max_notification_id() == position
        assert [d["filename"] for d in app.claim(claim_id).documents] == ["kept.pdf"]
        assert app.blobs.check(digest_of(png())) == OK  # the orphan is there...
        assert app.prune_orphan_documents(older_than=timedelta(hours=1)) == 0  # ...within its grace period
        assert app.prune_orphan_documents(older_than=timedelta(0)) == 1
        assert sorted(app.blobs.digests()) == [digest_of(pdf("kept"))]
        with pytest.raises(UnknownDocument):
            app.document_bytes(digest_of(png()))

    def test_bytes_stored_again_are_not_pruned_as_an_old_orphan(self, memory_app: GrantLedger) -> None:
        """An orphan older than the grace period stored again by a command under way (the same
        file attached now) is young again: pruning keeps it, so the event never names lost bytes."""
        blobs: Any = memory_app.blobs
        digest = digest_of(png())
        blobs.put(digest, png())
        blobs.rows[digest] = (blobs.rows[digest][0], datetime.now(UTC) - timedelta(hours=2))
        blobs.put(digest, png())  # the attach storing its bytes before its save
        assert memory_app.prune_orphan_documents(older_than=timedelta(hours=1)) == 0
        assert blobs.check(digest) == OK


def _overwrite(app: GrantLedger, sha256: str, data: bytes) -> None:
    """Change a stored blob behind the ledger's back."""
    blobs: object = app.blobs
    rows = getattr(blobs, "rows", None)
    if rows is not None:
        rows[sha256] = (data, rows[sha256][1])
        return
    with app.blobs.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
        mark = "%s" if app.blobs.postgres else "?"  # type: ignore[attr-defined]
        table = _table(app)
        cursor.execute(f"UPDATE {table} SET data = {mark} WHERE sha256 = {mark}", (data, sha256))  # noqa: S608


def _remove(app: GrantLedger, sha256: str) -> None:
    app.blobs.delete(sha256, stored_before=datetime.now(UTC) + timedelta(days=1))


def _table(app: GrantLedger) -> str:
    store: object = app.blobs
    return f"{store.datastore.schema}.grantledger_documents" if store.postgres else "grantledger_documents"  # type: ignore[attr-defined]


class TestEncryptedAtRest:
    def test_with_a_key_the_stored_bytes_are_ciphertext_and_read_back_plain(self, any_store_url: str) -> None:
        """On SQLite and PostgreSQL alike (and in memory) the stored bytes hold neither the file's
        magic number nor its text, and read back as sent; without the key they do not read."""
        app = open_ledger(any_store_url, cipher_key=cipher_key())
        try:
            sign_alliance(app)
            mission = open_mission(app)
            new_claim(app, mission, selected_sme(app, mission), line1=[Upload("hotel.pdf", pdf("Hotel Okura"))])
            digest = digest_of(pdf("Hotel Okura"))
            stored = _stored_bytes(app, digest)
            assert b"%PDF" not in stored
            assert b"Hotel Okura" not in stored
            assert app.document_bytes(digest) == pdf("Hotel Okura")
            if not any_store_url.startswith("memory"):
                without = open_ledger(any_store_url)
                try:
                    assert without.blobs.get(digest) == stored  # ciphertext, as stored
                    assert without.blobs.check(digest) == ALTERED  # no key: it cannot be checked as intact
                finally:
                    without.close()
        finally:
            app.close()


def _stored_bytes(app: GrantLedger, sha256: str) -> bytes:
    """The bytes as the store holds them, read behind the ledger's back."""
    store: Any = app.blobs
    if hasattr(store, "rows"):
        return bytes(store.rows[sha256][0])
    with store.datastore.transaction(commit=False) as cursor:
        mark = "%s" if store.postgres else "?"
        cursor.execute(f"SELECT data FROM {_table(app)} WHERE sha256 = {mark}", (sha256,))  # noqa: S608
        row = cursor.fetchone()
    return bytes(row["data"] if store.postgres else row[0])


def cipher_key() -> str:
    """A fresh AES key as ``grantledger key create`` makes one."""
    key = base64.b64encode(os.urandom(32)).decode()
    assert cipher_env(key)["CIPHER_KEY"] == key
    return key


class TestRacingDeclarations:
    def test_two_officers_declaring_one_document_at_once_one_wins(
        self, any_store_url: str, story: tuple[GrantLedger, UUID, UUID]
    ) -> None:
        """Two claims take the same document at the same moment: exactly one holds it."""
        app, mission, sme = story
        claims = [new_claim(app, mission, sme) for _ in range(2)]
        others = [app] * 2 if any_store_url.startswith("memory") else [open_ledger(any_store_url) for _ in range(2)]
        try:
            outcomes = race([partial(_attach_same, a, c) for a, c in zip(others, claims, strict=True)])
        finally:
            if others[0] is not app:
                for other in others:
                    other.close()
        assert Counter(o.kind for o in outcomes) == Counter({"ok": 1, "DocumentAlreadyUsed": 1})
        holders = [c for c in claims if app.claim(c).live_documents()]
        assert len(holders) == 1


def _attach_same(app: GrantLedger, claim_id: UUID) -> tuple[str, ...]:
    return app.attach_to_claim(actor=POINTEX, claim_id=claim_id, line=1, uploads=[Upload("same.pdf", pdf("same"))])


class TestPlaces:
    @pytest.mark.parametrize("line", [None, "1", True, 1.0])
    def test_a_claim_document_names_its_line(self, story: tuple[GrantLedger, UUID, UUID], line: object) -> None:
        """A document on a claim always says which line it supports, as a whole number."""
        app, mission, sme = story
        claim_id = new_claim(app, mission, sme)
        with refused_untouched(app), pytest.raises(InvalidInput, match="which line"):
            app.attach_to_claim(actor=POINTEX, claim_id=claim_id, line=line, uploads=[Upload("a.pdf", pdf("a"))])  # type: ignore[arg-type]
        with refused_untouched(app), pytest.raises(InvalidInput, match="which line"):
            app.submit_claim(
                actor=POINTEX,
                claim_id=uuid.uuid4(),
                sme_id=sme,
                mission_id=mission,
                lines=[eur_line("1.00")],
                on=date(2023, 4, 1),
                documents={line: [Upload("a.pdf", pdf("a"))]},  # type: ignore[dict-item]
            )

    def test_a_jpeg_start_followed_by_text_is_not_a_jpeg(self) -> None:
        assert sniff(b"\xff\xd8\xff<html><script>alert(1)</script>") is None

    def test_a_jpeg_may_end_in_padding_or_a_motion_photo(self) -> None:
        assert sniff(jpeg() + b"\x00\x00\r\n") == "image/jpeg"
        assert sniff(jpeg() + b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 40) == "image/jpeg"

    def test_a_long_reason_is_measured_as_written(self, story: tuple[GrantLedger, UUID, UUID]) -> None:
        """A reason at the length limit supersedes (the index's release records it as it is)."""
        app, mission, sme = story
        claim_id = new_claim(app, mission, sme, line1=[Upload("a.pdf", pdf("a"))])
        app.supersede_document(actor=POINTEX, holder_id=claim_id, sha256=digest_of(pdf("a")), reason="r" * 3995)
        assert not app.claim(claim_id).live_documents()
