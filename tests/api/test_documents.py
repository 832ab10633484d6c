"""Supporting documents over HTTP: attach (multipart), download, list, supersede, the zips and the
lines without a document, on SQLite and PostgreSQL stores.

Every refusal records nothing (the audit trail's count is unchanged) and stores no bytes.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI

from api.demo_documents import receipt_pdf, receipt_png
from api.main import PREFIX
from api.settings import Settings
from ledger.documents import ENV_MAX_BYTES
from tests.api.conftest import JSON, Alliance, Api, Tokens, bearer, expense, money
from tests.conftest import PostgresSchema

PDF = receipt_pdf("Tessuti Avanzati", ["Receipt R-0001", "flight Milan-Tokyo", "EUR 1,000.00"])
PNG = receipt_png("R-0002")
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """The app's stores: a SQLite file, or a throwaway PostgreSQL schema."""
    if request.param == "sqlite":
        yield Settings(database_url=f"sqlite:///{tmp_path}/ledger.db", follow_interval=5.0)
        return
    schema: PostgresSchema = request.getfixturevalue("pg_schema")
    yield Settings(database_url=schema.url, follow_interval=5.0)


def attach(
    api: Api,
    claim_id: str,
    *files: tuple[str, bytes, str],
    token: str | None = None,
    line: str | None = "1",
    **extra: Any,
) -> httpx2.Response:
    data = {} if line is None else {"line": line}
    parts = [("file", file) for file in files]
    headers = bearer(token or api.pointex) | extra.pop("headers", {})
    return api.client.post(f"{PREFIX}/claims/{claim_id}/documents", data=data, files=parts, headers=headers, **extra)


def pdf(name: str = "receipt.pdf", data: bytes = PDF) -> tuple[str, bytes, str]:
    return (name, data, "application/pdf")


def stored(app: FastAPI) -> list[str]:
    """The digests in the blob store."""
    return list(app.state.context.app.blobs.digests())


def record_cost(api: Api, ref: str = "INV-2023-118", on: str = "2023-03-20") -> JSON:
    body = {
        "partner": "POINTEX",
        "category": "TRAVEL",
        "amount": money("412.80"),
        "document_ref": ref,
        "description": "staff travel to Tokyo",
        "on": on,
    }
    return api.ok(api.post("/costs", body, api.pointex))


class TestAttachAndDownload:
    def test_a_receipt_comes_back_as_it_was_sent(self, api: Api, alliance: Alliance) -> None:
        """A PDF attached to line 1 is listed with its digest, size and type, and downloads byte
        for byte, as an attachment that no browser sniffs or caches."""
        claim = api.submit(alliance)
        data = api.ok(attach(api, claim["id"], pdf("flight Milan-Tokyo.pdf")))
        digest = hashlib.sha256(PDF).hexdigest()
        assert data["count"] == 1
        (document,) = data["data"]
        assert document["sha256"] == digest
        assert (document["size"], document["media_type"], document["line"]) == (len(PDF), "application/pdf", 1)
        assert (document["filename"], document["receipt_ref"], document["live"]) == (
            "flight Milan-Tokyo.pdf",
            "R-0001",
            True,
        )
        assert document["download_url"] == f"{PREFIX}/documents/{digest}"

        response = api.get(f"/documents/{digest}")
        assert response.status_code == 200, response.text
        assert response.content == PDF
        assert hashlib.sha256(response.content).hexdigest() == digest
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "no-store" in response.headers["cache-control"]
        disposition = response.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="flight Milan-Tokyo.pdf"; ')
        assert "filename*=UTF-8''flight%20Milan-Tokyo.pdf" in disposition

        listed = api.get(f"/claims/{claim['id']}/documents").json()
        assert [d["sha256"] for d in listed["data"]] == [digest]

    def test_a_name_with_quotes_and_accents_downloads_under_a_safe_name(self, api: Api, alliance: Alliance) -> None:
        """The ASCII filename has no quote or accent left; filename* keeps the name as given."""
        claim = api.submit(alliance)
        api.ok(attach(api, claim["id"], pdf('reçu "mars".pdf')))
        response = api.get(f"/documents/{hashlib.sha256(PDF).hexdigest()}")
        disposition = response.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="re_u _mars_.pdf"; ')
        assert "filename*=UTF-8''re%C3%A7u%20%22mars%22.pdf" in disposition

    def test_a_png_on_an_own_cost(self, api: Api, alliance: Alliance) -> None:
        """A cost takes a document too; its type is read from the bytes (a PNG sent as a .pdf)."""
        cost = record_cost(api)
        response = api.client.post(
            f"{PREFIX}/costs/{cost['id']}/documents",
            files=[("file", ("invoice.pdf", PNG, "application/pdf"))],
            headers=bearer(api.pointex),
        )
        (document,) = api.ok(response)["data"]
        assert (document["media_type"], document["line"], document["holder_kind"]) == ("image/png", None, "cost")
        assert document["receipt_ref"] == "INV-2023-118"
        download = api.get(document["download_url"].removeprefix(PREFIX), api.tokens.coordinator)
        assert download.content == PNG
        assert download.headers["content-type"] == "image/png"
        assert api.get(f"/costs/{cost['id']}/documents").json()["count"] == 1

    def test_a_repeated_request_with_its_key_records_nothing_more(self, api: Api, alliance: Alliance) -> None:
        """The same files under the same Idempotency-Key (another multipart boundary) replay the
        first answer."""
        claim = api.submit(alliance)
        first = attach(api, claim["id"], pdf(), headers={"Idempotency-Key": "attach-1"})
        assert first.status_code == 201, first.text
        count = api.event_count()
        again = attach(api, claim["id"], pdf(), headers={"Idempotency-Key": "attach-1"})
        assert again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()
        assert api.event_count() == count


class TestRefusals:
    def test_html_renamed_receipt_pdf_is_refused(self, api: Api, alliance: Alliance, app: FastAPI) -> None:
        """HTML sent as receipt.pdf with the header application/pdf: 422 saying what it is; nothing recorded."""
        claim = api.submit(alliance)
        count = api.event_count()
        response = attach(api, claim["id"], pdf("receipt.pdf", HTML))
        assert response.status_code == 422, response.text
        assert "HTML" in response.json()["detail"]
        assert "PDF, JPEG or PNG" in response.json()["detail"]
        assert api.event_count() == count
        assert stored(app) == []

    def test_a_document_on_another_live_claim_is_refused_naming_it(
        self, api: Api, alliance: Alliance, app: FastAPI
    ) -> None:
        """The same bytes on a second claim: 409 naming the claim and line that hold them."""
        first = api.submit(alliance)
        api.ok(attach(api, first["id"], pdf()))
        second = api.submit(alliance, expense(receipt="R-0002"))
        count, blobs = api.event_count(), stored(app)
        response = attach(api, second["id"], pdf("copy.pdf"))
        assert response.status_code == 409, response.text
        assert f"claim {first['id']} line 1" in response.json()["detail"]
        assert api.event_count() == count
        assert stored(app) == blobs

    def test_a_decided_claim_takes_no_document(self, api: Api, alliance: Alliance, app: FastAPI) -> None:
        """Once approved the claim's record is closed: 409, nothing recorded or stored."""
        claim = api.submit(alliance)
        api.approve(claim["id"])
        count = api.event_count()
        response = attach(api, claim["id"], pdf())
        assert response.status_code == 409, response.text
        assert "approved" in response.json()["detail"]
        assert api.event_count() == count
        assert stored(app) == []

    def test_a_form_without_a_line_or_a_file_or_not_multipart(self, api: Api, alliance: Alliance) -> None:
        """422 naming the missing field; a JSON body is a 415; a line the claim lacks a 422."""
        claim = api.submit(alliance)
        count = api.event_count()
        no_line = attach(api, claim["id"], pdf(), line=None)
        assert no_line.status_code == 422
        assert no_line.json()["errors"][0]["field"] == "body.line"
        no_file = api.client.post(
            f"{PREFIX}/claims/{claim['id']}/documents", files=[("line", (None, "1"))], headers=bearer(api.pointex)
        )
        assert no_file.status_code == 422
        assert no_file.json()["errors"][0]["field"] == "body.file"
        assert attach(api, claim["id"], pdf(), line="7").status_code == 422
        assert attach(api, claim["id"], pdf(), line="\u00b2").status_code == 422  # a digit int() refuses
        assert attach(api, claim["id"], pdf(), line="\u0661").status_code == 422  # Arabic-Indic 1 is not line 1
        as_json = api.post(f"/claims/{claim['id']}/documents", {"line": 1}, api.pointex)
        assert as_json.status_code == 415
        assert "multipart/form-data" in as_json.json()["detail"]
        assert api.event_count() == count


class TestSizeLimit:
    @pytest.fixture
    def small_limit(self, monkeypatch: pytest.MonkeyPatch) -> int:
        """Documents of at most 4 KiB (set before the app opens its stores)."""
        monkeypatch.setenv(ENV_MAX_BYTES, "4096")
        return 4096

    def test_a_file_over_the_limit_is_refused_with_the_numbers(
        self, small_limit: int, api: Api, alliance: Alliance, app: FastAPI
    ) -> None:
        """A file larger than the limit but within the request's room: 422 naming its size and the limit."""
        claim = api.submit(alliance)
        count = api.event_count()
        big = PDF[:-6] + b" " * 10_000 + b"%%EOF\n"
        response = attach(api, claim["id"], pdf("scan.pdf", big))
        assert response.status_code == 422, response.text
        assert "4,096 bytes" in response.json()["detail"]
        assert api.event_count() == count
        assert stored(app) == []

    def test_a_request_far_over_the_limit_is_413_before_it_is_read(
        self, small_limit: int, api: Api, alliance: Alliance, app: FastAPI
    ) -> None:
        """A body past the limit and the form's room: 413 problem saying the limit; nothing recorded."""
        claim = api.submit(alliance)
        count = api.event_count()
        huge = PDF[:-6] + b" " * 200_000 + b"%%EOF\n"
        response = attach(api, claim["id"], pdf("scan.pdf", huge))
        assert response.status_code == 413, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert "nothing was recorded" in response.json()["detail"]
        assert api.event_count() == count
        assert stored(app) == []


class TestRights:
    def test_only_an_officer_of_the_claims_partner_attaches(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """NTT's officer on POINTEX's claim and the auditor: 403, nothing recorded."""
        claim = api.submit(alliance)
        count = api.event_count()
        assert attach(api, claim["id"], pdf(), token=tokens.ntt).status_code == 403
        assert attach(api, claim["id"], pdf(), token=tokens.auditor).status_code == 403
        assert api.event_count() == count

    def test_another_partners_officer_learns_nothing(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """NTT's officer: the list is a 403 and the digest a 404 worded as for an unknown one,
        never the bytes or the name; the coordinator and POINTEX's officer download."""
        claim = api.submit(alliance)
        api.ok(attach(api, claim["id"], pdf("secret-invoice.pdf")))
        digest = hashlib.sha256(PDF).hexdigest()
        denied = api.get(f"/documents/{digest}", tokens.ntt)
        unknown = api.get(f"/documents/{'0' * 64}", tokens.ntt)
        assert denied.status_code == unknown.status_code == 404
        assert denied.json()["detail"].replace(digest, "X") == unknown.json()["detail"].replace("0" * 64, "X")
        assert "secret" not in denied.text
        assert api.get(f"/claims/{claim['id']}/documents", tokens.ntt).status_code == 403
        assert api.get(f"/claims/{claim['id']}/documents.zip", tokens.ntt).status_code == 403
        assert api.get(f"/documents/{digest}", tokens.coordinator).content == PDF
        assert api.get(f"/documents/{digest}", tokens.pointex).content == PDF


class TestSupersede:
    def test_a_wrong_document_is_superseded_and_replaced(self, api: Api, alliance: Alliance) -> None:
        """The old one stays listed, not live, with the reason; the replacement is live on the same line."""
        claim = api.submit(alliance)
        api.ok(attach(api, claim["id"], pdf()))
        old = hashlib.sha256(PDF).hexdigest()
        response = api.client.post(
            f"{PREFIX}/claims/{claim['id']}/documents/{old}/supersede",
            data={"reason": "illegible scan"},
            files=[("file", ("rescan.png", PNG, "image/png"))],
            headers=bearer(api.pointex),
        )
        documents = {d["sha256"]: d for d in api.ok(response, 200)["data"]}
        assert documents[old]["live"] is False
        assert "illegible scan" in documents[old]["superseded_reason"]
        new = documents[hashlib.sha256(PNG).hexdigest()]
        assert (new["live"], new["line"], new["media_type"]) == (True, 1, "image/png")

    def test_a_cost_is_not_superseded_through_a_claims_path(self, api: Api, alliance: Alliance) -> None:
        """A cost's id under /claims: 404, nothing recorded; under /costs it is superseded."""
        cost = record_cost(api)
        response = api.client.post(
            f"{PREFIX}/costs/{cost['id']}/documents",
            files=[("file", ("inv.png", PNG, "image/png"))],
            headers=bearer(api.pointex),
        )
        api.ok(response)
        digest = hashlib.sha256(PNG).hexdigest()
        count = api.event_count()
        for kind, status in (("claims", 404), ("costs", 200)):
            response = api.client.post(
                f"{PREFIX}/{kind}/{cost['id']}/documents/{digest}/supersede",
                files=[("reason", (None, "wrong invoice"))],
                headers=bearer(api.pointex),
            )
            assert response.status_code == status, response.text
            if status == 404:
                assert api.event_count() == count
        (document,) = api.get(f"/costs/{cost['id']}/documents").json()["data"]
        assert (document["live"], document["superseded_reason"]) == (False, "wrong invoice")

    def test_a_supersession_without_a_reason_is_422(self, api: Api, alliance: Alliance) -> None:
        """A blank reason: 422 naming the field, nothing recorded."""
        claim = api.submit(alliance)
        api.ok(attach(api, claim["id"], pdf()))
        count = api.event_count()
        response = api.client.post(
            f"{PREFIX}/claims/{claim['id']}/documents/{hashlib.sha256(PDF).hexdigest()}/supersede",
            files=[("reason", (None, " "))],
            headers=bearer(api.pointex),
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "body.reason"
        assert api.event_count() == count


class TestZipsAndMissing:
    def test_a_claims_zip_holds_its_documents_and_a_manifest(self, api: Api, alliance: Alliance) -> None:
        """The zip's MANIFEST.sha256 names each file's digest; the bytes match it."""
        claim = api.submit(alliance, expense(), expense(receipt="R-0002", cost_type="ACCOMMODATION"))
        api.ok(attach(api, claim["id"], pdf()))
        api.ok(attach(api, claim["id"], ("hotel.png", PNG, "image/png"), line="2"))
        response = api.get(f"/claims/{claim['id']}/documents.zip")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/zip"
        assert response.headers["content-disposition"].startswith("attachment;")
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            manifest = archive.read("MANIFEST.sha256").decode()
            checked = [line.split("  ", 1) for line in manifest.splitlines() if line and not line.startswith("#")]
            assert len(checked) == 2
            for digest, path in checked:
                assert hashlib.sha256(archive.read(path)).hexdigest() == digest

    def test_lines_without_a_document_are_listed(self, api: Api, alliance: Alliance) -> None:
        """A claim of two lines with a receipt on line 1: line 2 is missing, line 1 is not."""
        claim = api.submit(alliance, expense(), expense(receipt="R-0002", cost_type="ACCOMMODATION"))
        api.ok(attach(api, claim["id"], pdf()))
        response = api.get("/documents/missing", partner="pointex")
        assert response.status_code == 200, response.text
        rows = [(r["holder_id"], r["line"], r["receipt_ref"]) for r in response.json()["data"]]
        assert (claim["id"], 2, "R-0002") in rows
        assert (claim["id"], 1, "R-0001") not in rows
        assert api.get("/documents/missing", partner="NOBODY").status_code == 422

    def test_a_periods_zip_holds_its_costs_documents(self, api: Api, tokens: Tokens, alliance: Alliance) -> None:
        """An own cost dated in period 2 with its invoice: in period 2's zip; an officer of
        another partner may not ask for POINTEX's (403)."""
        body = {
            "periods": [{"start": "2021-09-01", "end": "2022-08-31"}, {"start": "2022-09-01", "end": "2023-08-31"}],
            "reason": "months 1-12 and 13-24",
            "on": "2021-09-01",
        }
        api.ok(api.post("/reporting/periods", body, tokens.coordinator), 200)
        cost = record_cost(api)
        response = api.client.post(
            f"{PREFIX}/costs/{cost['id']}/documents",
            files=[("file", ("invoice.pdf", PDF, "application/pdf"))],
            headers=bearer(api.pointex),
        )
        api.ok(response)
        zipped = api.get("/reporting/periods/2/documents.zip", partner="POINTEX")
        assert zipped.status_code == 200, zipped.text
        with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
            files = [name for name in archive.namelist() if name.endswith("invoice.pdf")]
            assert len(files) == 1
            assert archive.read(files[0]) == PDF
        assert api.get("/reporting/periods/2/documents.zip", tokens.ntt, partner="POINTEX").status_code == 403
