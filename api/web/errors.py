"""Pages for refusals: what was refused and why, in the ledger's own words, never a JSON body.

Registered on the app by ``api.web.install``: a refusal raised by a web route (WebRefusal),
a session that is needed or ended (SignInNeeded: to the sign-in page), a ledger refusal that
a route did not show beside its form (NotAllowed is 403, NotFound 404, other refusals 409 or
422), and any HTTP error on a path outside the JSON API that a browser asked for as HTML.
"""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import urlsplit

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from api.web.render import render
from api.web.session import SignInNeeded, WebRefusal, sign_in_url
from ledger.errors import InvalidInput, LedgerError, NotAllowed, NotFound


def status_of(error: LedgerError) -> int:
    for kind, status in ((InvalidInput, 422), (NotAllowed, 403), (NotFound, 404)):
        if isinstance(error, kind):
            return status
    return 409


def page(request: Request, status: int, title: str, detail: str) -> Response:
    return render(request, "error.html", status, title=title, detail=detail)


def refused(request: Request, error: Exception) -> Response:
    assert isinstance(error, WebRefusal)  # noqa: S101 - registered for WebRefusal only
    return page(request, error.status, error.title, error.detail)


def sign_in_needed(request: Request, error: Exception) -> Response:
    """To the sign-in page; for htmx (a fragment asked for by a page) the whole page goes
    there (HX-Redirect), back to the page the person was on, instead of the sign-in page being
    swapped into a fragment of it."""
    assert isinstance(error, SignInNeeded)  # noqa: S101 - registered for SignInNeeded only
    if request.headers.get("HX-Request") == "true":
        here = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = error.next_path if request.method == "GET" else here.path + (f"?{here.query}" if here.query else "")
        return Response(status_code=204, headers={"HX-Redirect": sign_in_url(back, error.why)})
    return RedirectResponse(sign_in_url(error.next_path, error.why), status_code=303)


def ledger_refused(request: Request, error: LedgerError) -> Response:
    return page(request, status_of(error), error.title, error.detail)


def wants_page(request: Request) -> bool:
    """A browser asking for a page (not a script asking the JSON API)."""
    return "text/html" in request.headers.get("accept", "")


def http_error_page(request: Request, status: int, detail: str) -> Response:
    title = HTTPStatus(status).phrase
    if status == 404:
        detail = f"there is no page at {request.url.path}; the navigation above leads to the pages there are"
    return page(request, status, title, detail)
