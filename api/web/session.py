"""Who is signed in, and the checks every form passes before anything else.

- ``signed_in``: the session from the cookie (else a redirect to the sign-in page, saying why
  when the session timed out); kept on ``request.state.web`` for the templates.
- ``posted``: for every POST, first the session, then the form's CSRF token (the session's
  own: ``api.accounts.csrf_token``), compared in constant time; a missing or wrong one is a
  403 page that says why, and nothing is read further or recorded. Only then is the form
  (application/x-www-form-urlencoded, at most 64 KiB) parsed for the route.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from urllib.parse import parse_qs, quote

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from api.accounts import SessionEnded, WebSession
from api.security import ServiceStore
from api.settings import Settings

COOKIE = "gl_session"
SIGN_IN_COOKIE = "gl_sign_in"  # the sign-in form's own CSRF token (there is no session yet)
MAX_FORM = 64 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"


class WebRefusal(Exception):
    """A page that says why the request was refused (rendered by api.web.errors)."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail


class SignInNeeded(Exception):
    """No (valid) session: go to the sign-in page, then come back to ``next``."""

    def __init__(self, next_path: str, why: str | None = None) -> None:
        super().__init__(why or "sign in")
        self.next_path = next_path
        self.why = why


CSRF_REFUSED = (
    "this form's security token is missing or does not belong to your session, so nothing was recorded. "
    "This happens when a form was opened before you signed in again, or was sent from another site. "
    "Reload the page and send the form again"
)


def store_of(request: Request) -> ServiceStore:
    store: ServiceStore = request.app.state.store
    return store


def timeouts(settings: Settings) -> tuple[timedelta, timedelta]:
    return timedelta(minutes=settings.session_idle_minutes), timedelta(hours=settings.session_absolute_hours)


def local_path(text: str | None) -> str:
    """A path on this site to return to after signing in (anything else is the home page)."""
    if not text or not text.startswith("/") or text.startswith("//") or "\\" in text:
        return "/"
    return text


def sign_in_url(next_path: str, why: str | None = None) -> str:
    url = f"/sign-in?next={quote(local_path(next_path), safe='/')}"
    return url + ("&expired=1" if why else "")


async def signed_in(request: Request) -> WebSession:
    """The signed-in session (SignInNeeded otherwise)."""
    known: WebSession | None = getattr(request.state, "web", None)
    if known is not None:
        return known
    # after signing in, back to the page asked for (a form's page is not known: home then)
    here = "/" if request.method != "GET" else request.url.path + (f"?{request.url.query}" if request.url.query else "")
    session_id = request.cookies.get(COOKIE)
    if not session_id:
        raise SignInNeeded(here)
    settings: Settings = request.app.state.settings
    idle, absolute = timeouts(settings)
    try:
        session = await run_in_threadpool(store_of(request).accounts.session, session_id, idle=idle, absolute=absolute)
    except SessionEnded as ended:
        raise SignInNeeded(here, ended.why) from None
    if session is None:
        raise SignInNeeded(here)
    request.state.web = session
    return session


@dataclass(frozen=True)
class Form:
    """A posted form's fields (the first value of each), after its CSRF token was checked."""

    fields: dict[str, str]

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default).strip()


async def read_form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        raise WebRefusal(415, "Not a form", f"this address takes a form ({FORM_TYPE}); send it from the page")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            raise WebRefusal(413, "Form too large", f"a form here is at most {MAX_FORM // 1024} KiB; send less")
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        raise WebRefusal(400, "Unreadable form", "the form could not be read; send it from the page") from None
    return {key: values[0] for key, values in parsed.items()}


def same_token(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


async def posted(request: Request, session: Annotated[WebSession, Depends(signed_in)]) -> Form:
    """The form of a signed-in POST, its CSRF token checked first (403 page otherwise)."""
    fields = await read_form(request)
    if not same_token(fields.get("csrf"), session.csrf):
        raise WebRefusal(403, "Form refused", CSRF_REFUSED)
    return Form(fields)


SessionDep = Annotated[WebSession, Depends(signed_in)]
FormDep = Annotated[Form, Depends(posted)]
