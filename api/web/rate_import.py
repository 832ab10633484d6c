"""Import monthly rates from a CSV file, with a preview: every row is shown, the ones that
would be recorded and every bad one with its problems in the ledger's words, and nothing is
recorded until the person confirms. Confirming is offered only when no row is bad; the
confirmation carries the file's text, which is read and checked again on the server (never
the preview's word for it), and records every rate in one command (record_rates: all or none).

Who may import is the ledger's rule (the preview itself is check_rates, for those who record
rates); anyone else sees no form, and a POST of theirs is the refusal page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.context import LedgerContext
from api.web.errors import ledger_refused, status_of
from api.web.rates import keeps_rates
from api.web.render import render
from api.web.session import SessionDep
from api.web.upload import MAX_FILE, UploadDep, too_large
from api.web.writes import write
from ledger.actors import Actor
from ledger.errors import LedgerError, NotAllowed
from ledger.rate_file import MAX_ROWS, RateFile, RateFileError, decoded, read_rate_file

router = APIRouter(include_in_schema=False)
EXAMPLE = (
    "currency,month,rate,source\nUSD,2023-07,1.0913,InforEuro\nJPY,2023-07,155.12,InforEuro\nCAD,2023-07,1.4611,\n"
)


def import_page(request: Request, actor: Actor, status: int = 200, **context: object) -> HTMLResponse:
    return render(
        request,
        "rates_import.html",
        status,
        may=keeps_rates(actor),
        example=EXAMPLE,
        max_kib=MAX_FILE // 1024,
        max_rows=MAX_ROWS,
        read=context.pop("read", None),
        text=context.pop("text", ""),
        error=context.pop("error", None),
    )


@router.get("/rates/import")
def import_form(request: Request, session: SessionDep) -> HTMLResponse:
    return import_page(request, session.actor)


def checked(request: Request, actor: Actor, text: str) -> RateFile:
    """The file read row by row, and its rates checked by the ledger against what is recorded."""
    read = read_rate_file(text)
    context: LedgerContext = request.app.state.context
    good = [row for row in read.rows if row.rate is not None and row.problem is None]
    found = context.app.check_rates(actor=actor, rates=[row.rate for row in good if row.rate is not None])
    return read.checked({row.line: check for row, check in zip(good, found, strict=True)})


def _text(data: bytes) -> str:
    if len(data) > MAX_FILE:
        raise too_large()
    return decoded(data)


@router.post("/rates/import")
def preview(request: Request, session: SessionDep, upload: UploadDep) -> Response:
    """The preview of an uploaded file: every row, nothing recorded."""
    actor = session.actor
    data = upload.files.get("file", b"")
    try:
        text = _text(data)
        read = checked(request, actor, text)
    except NotAllowed as error:
        return ledger_refused(request, error)
    except RateFileError as error:
        return import_page(request, actor, 422, error=error.detail)
    if read.problem is not None:
        return import_page(request, actor, 422, error=read.problem)
    return import_page(request, actor, 200 if read.ok else 422, read=read, text=text)


@router.post("/rates/import/confirm")
def confirm(request: Request, session: SessionDep, upload: UploadDep) -> Response:
    """Record the confirmed file's rates, all at once, after reading and checking it again."""
    actor = session.actor
    try:
        text = upload.get("csv").replace("\r\n", "\n")
        read = checked(request, actor, _text(text.encode("utf-8")))
    except NotAllowed as error:
        return ledger_refused(request, error)
    if not read.ok:
        problem = read.problem or "the file as confirmed has a row with a problem (below)"
        return import_page(request, actor, 422, read=read, text=text, error=problem)
    new = [row.rate for row in read.rows if row.rate is not None and not row.already]
    try:
        recorded = write(request, lambda context: context.app.record_rates(actor=actor, rates=new) if new else ())
    except NotAllowed as error:
        return ledger_refused(request, error)
    except LedgerError as error:
        return import_page(request, actor, status_of(error), read=read, text=text, error=error.detail)
    return RedirectResponse(f"/rates?imported={len(recorded)}", status_code=303)
