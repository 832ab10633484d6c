"""Supporting documents in the web app: an officer attaches receipts to a pending claim's line
on its page (or with the claim, on the claim form; or to an own cost), sees each listed with its
type, size and digest, marks one superseded with a reason; a refused file (not a PDF, JPEG or
PNG by its bytes, too large, the same document on another live line) is said beside its form
and records nothing; the Documents page lists what still lacks a document and downloads a
period's zip whose manifest checks out. Downloads are attachments, for the partner's officers,
the coordinator and auditors only."""

from __future__ import annotations

import hashlib
import html
import io
import re
import zipfile
from datetime import date

import httpx2
import pytest
from fastapi import FastAPI

from api.context import LedgerContext
from api.routes._write import then_read
from ledger.documents import DocumentAltered
from tests.api.conftest import JSON, Alliance, Api, expense
from tests.api.web.conftest import Person, csrf_of
from tests.api.web.test_claim_forms import TWO, claim_count, claim_form
from tests.api.web.test_rates_costs import cost_fields
from tests.api.web.test_reporting import COORDINATOR, PERIODS
from tests.samples import pdf, png

People = dict[str, Person]
Files = list[tuple[str, tuple[str, bytes, str]]]
HTML_AS_PDF = b"<!DOCTYPE html><html><script>alert(1)</script></html>"


def files(name: str, *documents: tuple[str, bytes]) -> Files:
    """Files as a browser sends them (the client's media type, which the ledger never reads)."""
    return [(name, (filename, data, "application/pdf")) for filename, data in documents]


def send(person: Person, path: str, fields: dict[str, str], sent: Files, csrf_from: str) -> httpx2.Response:
    token = csrf_of(person.get(csrf_from))
    return person.client.post(path, data={"csrf": token, **fields}, files=sent, follow_redirects=False)


def attach(person: Person, claim_id: str, line: int, *documents: tuple[str, bytes]) -> httpx2.Response:
    page = f"/claims/{claim_id}"
    return send(person, f"{page}/documents", {"line": str(line)}, files("file", *documents), page)


def section(page: str, line: int) -> str:
    """What the claim page shows of one line's documents."""
    start = page.index(f'id="line-{line}-documents"')
    end = page.find('<section class="line-documents"', start)
    return page[start : end if end != -1 else None]


def refusal(page: str, key: str) -> str:
    found = re.search(rf'<p class="refusal" role="alert" id="{key}-error">(.*?)</p>', page, re.S)
    assert found is not None, f"no refusal {key} in the page"
    return html.unescape(found[1])


class TestClaimPage:
    def test_an_officer_attaches_receipts_to_a_line_and_sees_them_listed(
        self, browser: People, api: Api, claim: JSON
    ) -> None:
        paola, arthur = browser["paola.pointex"], browser["arthur.auditor"]
        page = paola.get(f"/claims/{claim['id']}")
        assert "No line has a document yet." in page
        assert "No document yet</strong> for line 1" in section(page, 1)
        assert 'name="file" multiple accept=".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"' in page
        receipt, photo = pdf("JAL ticket"), png("JAL boarding pass")
        response = attach(paola, claim["id"], 1, ("jal-ticket.pdf", receipt), ("boarding.png", photo))
        assert response.status_code == 303, response.text
        page = paola.get(response.headers["location"])
        first = section(page, 1)
        digest = hashlib.sha256(receipt).hexdigest()
        assert f'<a href="/documents/{digest}" download>jal-ticket.pdf</a>' in first
        assert "boarding.png" in first
        assert "PDF" in first
        assert "PNG image" in first
        assert f'<code class="digest" title="{digest}">{digest[:12]}</code>' in first
        assert f"{len(receipt):,} bytes" in first
        assert "by paola.pointex" in first
        assert "No document yet" not in first
        assert "No document yet</strong> for line 2" in section(page, 2)
        assert "Line 2 has no document yet." in page

        download = arthur.client.get(f"/documents/{digest}")
        assert download.status_code == 200
        assert download.content == receipt
        assert download.headers["content-type"] == "application/pdf"
        assert download.headers["content-disposition"].startswith('attachment; filename="jal-ticket.pdf"')
        assert download.headers["x-content-type-options"] == "nosniff"
        bundle = arthur.client.get(f"/claims/{claim['id']}/documents.zip")
        assert bundle.status_code == 200
        assert bundle.headers["content-disposition"].startswith("attachment;")
        with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
            assert "MANIFEST.sha256" in archive.namelist()
            assert digest in archive.read("MANIFEST.sha256").decode()

    def test_a_refused_document_is_said_beside_its_form_and_records_nothing(
        self, app: FastAPI, browser: People, api: Api, alliance: Alliance, claim: JSON
    ) -> None:
        paola = browser["paola.pointex"]
        before = api.event_count()
        disguised = attach(paola, claim["id"], 1, ("receipt.pdf", HTML_AS_PDF))
        assert disguised.status_code == 422
        said = refusal(disguised.text, "attach-1")
        assert "receipt.pdf" in said
        assert "PDF, JPEG or PNG" in said
        assert 'id="attach-1-file" name="file" multiple' in disguised.text
        assert 'aria-invalid="true" aria-describedby="attach-1-error attach-1-hint"' in disguised.text
        context: LedgerContext = app.state.context
        context.app.document_max_bytes = 1000
        large = attach(paola, claim["id"], 2, ("scan.pdf", pdf("x" * 2000)))
        assert large.status_code == 422
        assert "over the limit of 1,000 bytes" in refusal(large.text, "attach-2")
        context.app.document_max_bytes = 20 * 1024 * 1024
        assert api.event_count() == before

        receipt = pdf("hotel invoice")
        assert attach(paola, claim["id"], 2, ("hotel.pdf", receipt)).status_code == 303
        other = api.submit(alliance, expense("500.00", "EUR", receipt="R-OTHER-1"))
        before = api.event_count()
        twice = attach(paola, other["id"], 1, ("hotel-copy.pdf", receipt))
        assert twice.status_code == 409
        said = refusal(twice.text, "attach-1")
        assert "already attached" in said
        assert claim["id"] in said
        assert api.event_count() == before

    def test_a_document_is_superseded_with_its_reason_and_replaced(self, browser: People, claim: JSON) -> None:
        paola = browser["paola.pointex"]
        wrong, right = pdf("wrong receipt"), pdf("right receipt")
        assert attach(paola, claim["id"], 1, ("wrong.pdf", wrong)).status_code == 303
        page = f"/claims/{claim['id']}"
        digest = hashlib.sha256(wrong).hexdigest()
        blank = {"line": "1", "document": digest, "reason": ""}
        no_reason = send(paola, f"{page}/documents/supersede", blank, [], page)
        assert no_reason.status_code == 422
        assert refusal(no_reason.text, "supersede-1")
        fields = {"line": "1", "document": digest, "reason": "the receipt of another trip"}
        response = send(paola, f"{page}/documents/supersede", fields, files("file", ("right.pdf", right)), page)
        assert response.status_code == 303, response.text
        first = section(paola.get(page), 1)
        assert "<s>wrong.pdf</s>" in first
        assert "<s>superseded</s>: the receipt of another trip" in first
        assert f'<a href="/documents/{hashlib.sha256(right).hexdigest()}" download>right.pdf</a>' in first

    def test_only_the_partners_officers_attach_and_only_while_pending(
        self, browser: People, api: Api, claim: JSON
    ) -> None:
        nico, paola, claire = browser["nico.ntt"], browser["paola.pointex"], browser["claire.coordinator"]
        receipt = pdf("JAL ticket")
        assert attach(paola, claim["id"], 1, ("ticket.pdf", receipt)).status_code == 303
        page = nico.get(f"/claims/{claim['id']}")
        assert "Attach to line 1" not in page
        before = api.event_count()
        assert attach(nico, claim["id"], 1, ("mine.pdf", pdf("mine"))).status_code == 403
        digest = hashlib.sha256(receipt).hexdigest()
        refused = nico.client.get(f"/documents/{digest}")
        assert refused.status_code == 404  # another partner's: worded as an unknown digest, as the API answers
        unknown = nico.client.get(f"/documents/{'0' * 64}")
        assert html.unescape(refused.text).replace(digest, "D") == html.unescape(unknown.text).replace("0" * 64, "D")
        assert "POINTEX's documents" not in page
        assert "ticket.pdf" not in page
        assert digest not in page
        assert "shown to POINTEX's financial officers, the coordinator and auditors" in page
        assert nico.client.get(f"/claims/{claim['id']}/documents.zip").status_code == 403
        assert claire.client.get(f"/documents/{digest}").content == receipt
        assert nico.client.get(f"/documents/{'0' * 64}").status_code == 404
        assert nico.client.get("/documents/not-a-digest").status_code == 404
        no_token = paola.client.post(
            f"/claims/{claim['id']}/documents", data={"line": "1"}, files=files("file", ("x.pdf", pdf("x")))
        )
        assert no_token.status_code == 403
        assert "security token is missing" in no_token.text
        assert api.event_count() == before
        api.approve(claim["id"])
        decided = paola.get(f"/claims/{claim['id']}")
        assert "Attach to line 1" not in decided
        assert "ticket.pdf" in decided
        before = api.event_count()
        late = attach(paola, claim["id"], 2, ("late.pdf", pdf("late")))
        assert late.status_code in (409, 422)
        assert refusal(late.text, "documents")
        assert api.event_count() == before

    def test_only_officers_send_documents_and_are_refused_before_the_body_is_read(
        self, browser: People, api: Api, claim: JSON
    ) -> None:
        """An auditor's or the coordinator's multipart post is a 403 however large it says it is
        (nothing read); a line or period that is not a whole number in 0-9 digits is refused, not a 500."""
        before = api.event_count()
        for name in ("arthur.auditor", "claire.coordinator"):
            person = browser[name]
            refused = person.client.post(
                f"/claims/{claim['id']}/documents",
                content=b"--B\r\n",
                headers={"Content-Type": "multipart/form-data; boundary=B", "Content-Length": str(10**9)},
            )
            assert refused.status_code == 403, refused.text
            assert "may not send documents" in html.unescape(refused.text)
        paola = browser["paola.pointex"]
        page = f"/claims/{claim['id']}"
        odd = send(paola, f"{page}/documents", {"line": "\u00b2"}, files("file", ("x.pdf", pdf("x"))), page)
        assert odd.status_code == 422, odd.text
        assert paola.client.get("/documents/period.zip?period=%C2%B2").status_code in (404, 422)
        assert api.event_count() == before

    def test_a_document_whose_bytes_were_altered_is_a_page_saying_so(
        self, app: FastAPI, browser: People, claim: JSON, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        paola, arthur = browser["paola.pointex"], browser["arthur.auditor"]
        receipt = pdf("JAL ticket")
        assert attach(paola, claim["id"], 1, ("ticket.pdf", receipt)).status_code == 303
        context: LedgerContext = app.state.context

        def altered(sha256: str) -> bytes:
            raise DocumentAltered(f"the stored bytes of document {sha256[:12]}... no longer match its digest")

        monkeypatch.setattr(context.app, "document_bytes", altered)
        refused = arthur.client.get(f"/documents/{hashlib.sha256(receipt).hexdigest()}")
        assert refused.status_code == 409
        assert refused.headers["content-type"].startswith("text/html")
        assert "no longer match its digest" in refused.text


class TestForms:
    def test_the_claim_form_attaches_each_lines_receipts_with_the_claim(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        paola = browser["paola.pointex"]
        page = paola.get("/claims/new")
        assert 'enctype="multipart/form-data"' in page
        assert 'id="line-1-documents" name="line-1-documents" multiple' in page
        form = claim_form(paola, alliance, *TWO) | {"op": "record"}
        ticket = pdf("JAL-1 ticket")
        response = paola.client.post(
            "/claims/new", data=form, files=files("line-1-documents", ("jal.pdf", ticket)), follow_redirects=False
        )
        assert response.status_code == 303, response.text
        added = paola.client.post(
            "/claims/new", data=form | {"op": "add"}, files=files("line-1-documents", ("jal.pdf", ticket))
        )
        assert added.status_code == 200
        assert "Choose the files again" in added.text
        shown = paola.get(response.headers["location"])
        assert f'<a href="/documents/{hashlib.sha256(ticket).hexdigest()}" download>jal.pdf</a>' in section(shown, 1)
        assert "No document yet</strong> for line 2" in section(shown, 2)

    def test_a_refused_receipt_on_the_claim_form_keeps_the_rest_and_records_nothing(
        self, browser: People, api: Api, alliance: Alliance
    ) -> None:
        paola = browser["paola.pointex"]
        count = claim_count(api)
        form = claim_form(paola, alliance, *TWO) | {"op": "record"}
        sent = files("line-1-documents", ("jal.pdf", pdf("JAL")))
        sent += files("line-2-documents", ("hotel.pdf", HTML_AS_PDF))
        response = paola.client.post("/claims/new", data=form, files=sent, follow_redirects=False)
        assert response.status_code == 422
        said = refusal(response.text, "line-2-documents")
        assert said.startswith("Not recorded: Line 2: hotel.pdf")
        assert "PDF, JPEG or PNG" in said
        assert 'value="HOTEL-2"' in response.text
        assert 'value="144830"' in response.text
        assert "Choose the files again" in response.text
        assert claim_count(api) == count

    def test_the_cost_form_and_page_attach_documents(self, browser: People, api: Api, alliance: Alliance) -> None:
        paola = browser["paola.pointex"]
        page = paola.get("/costs")
        assert 'id="record-documents" name="documents" multiple' in page
        bad = paola.client.post(
            "/costs",
            data={"csrf": csrf_of(page), **cost_fields(page)},
            files=files("documents", ("invoice.pdf", HTML_AS_PDF)),
            follow_redirects=False,
        )
        assert bad.status_code == 422
        assert "invoice.pdf" in refusal(bad.text, "record-documents")
        fields = cost_fields(page)
        invoice = pdf("INV-TOKYO-7")
        recorded = paola.client.post(
            "/costs",
            data={"csrf": csrf_of(page), **fields},
            files=files("documents", ("invoice.pdf", invoice)),
            follow_redirects=False,
        )
        assert recorded.status_code == 303, recorded.text
        cost_page = f"/costs/{fields['cost_id']}"
        shown = paola.get(cost_page)
        assert f'<a href="/documents/{hashlib.sha256(invoice).hexdigest()}" download>invoice.pdf</a>' in shown
        assert "No document yet" not in shown
        extra = send(paola, f"{cost_page}/documents", {}, files("file", ("receipt.png", png("taxi"))), cost_page)
        assert extra.status_code == 303, extra.text
        assert "receipt.png" in paola.get(cost_page)
        nico = browser["nico.ntt"]
        assert "Attach to the cost" not in nico.get(cost_page)
        theirs = send(nico, f"{cost_page}/documents", {}, files("file", ("x.png", png("x"))), cost_page)
        assert theirs.status_code == 403


@pytest.fixture
def periods(app: FastAPI) -> None:
    context: LedgerContext = app.state.context
    context.app.set_reporting_periods(actor=COORDINATOR, periods=PERIODS, reason="GA Annex 1", on=date(2021, 9, 1))
    then_read(context, 10, lambda _conn: None)


class TestDocumentsPage:
    def test_the_lines_lacking_a_document_and_the_period_zip(
        self, browser: People, api: Api, alliance: Alliance, periods: None
    ) -> None:
        paola, arthur = browser["paola.pointex"], browser["arthur.auditor"]
        claim = api.submit(alliance, expense("1250.50", "EUR", receipt="R-EUR-1"), expense("80.00", receipt="R-TAXI"))
        assert 'href="/documents"' in paola.get("/")
        page = paola.get("/documents")
        assert f'href="/claims/{claim["id"]}#line-1-documents"' in page
        assert "R-TAXI" in page
        receipt = pdf("hotel")
        assert attach(paola, claim["id"], 1, ("hotel.pdf", receipt)).status_code == 303
        listed = paola.get("/documents?partner=pointex")
        assert f'href="/claims/{claim["id"]}#line-1-documents"' not in listed
        assert f'href="/claims/{claim["id"]}#line-2-documents"' in listed
        assert "R-TAXI" not in paola.get("/documents?partner=ntt")
        assert browser["nico.ntt"].client.get("/documents?partner=nowhere").status_code == 422
        api.approve(claim["id"])
        api.pay(claim["id"], "800.00")

        page = arthur.get("/documents")
        assert '<select id="zip-period" name="period" required>' in page
        bundle = arthur.client.get("/documents/period.zip?period=2&partner=POINTEX")
        assert bundle.status_code == 200, bundle.text
        assert bundle.headers["content-disposition"].startswith('attachment; filename="documents-period-2-POINTEX.zip"')
        with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
            manifest = archive.read("MANIFEST.sha256").decode()
            checked = [line.split("  ", 1) for line in manifest.splitlines() if line and not line.startswith("#")]
            assert checked, manifest
            for digest, path in checked:
                assert hashlib.sha256(archive.read(path)).hexdigest() == digest
            assert hashlib.sha256(receipt).hexdigest() in dict(checked)
            assert "R-EUR-1" in manifest
        assert arthur.client.get("/documents/period.zip?period=9").status_code == 404
        assert paola.client.get("/documents/period.zip?period=2&partner=NTT").status_code == 403
        assert paola.client.get("/documents/period.zip?period=2").status_code == 200

    def test_a_form_larger_than_the_limit_is_refused_before_it_is_read(
        self, app: FastAPI, browser: People, api: Api, claim: JSON
    ) -> None:
        paola = browser["paola.pointex"]
        context: LedgerContext = app.state.context
        context.app.document_max_bytes = 1000
        before = api.event_count()
        huge = attach(paola, claim["id"], 1, ("scan.pdf", b"%PDF-" + b"0" * 300_000))
        assert huge.status_code == 413
        assert "at most 10 documents of at most 1,000 bytes each" in html.unescape(huge.text)
        assert api.event_count() == before
