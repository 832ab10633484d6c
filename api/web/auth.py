"""Signing in and out.

The sign-in form has no session to bind a CSRF token to, so it carries its own: a random
value in a short-lived cookie and the same value in a hidden field (double submit), against
a site that would sign a browser in as someone else. A successful sign-in starts a new
session (a session id presented before is ended: no fixation), sets its cookie (HttpOnly,
SameSite=Lax, Secure over HTTPS) and goes back to the page that asked for it. Sign-out is a
POST with the session's CSRF token; it deletes the session and the cookie.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse

from api.accounts import SignInRefused, SignInThrottled
from api.web.render import render
from api.web.session import (
    COOKIE,
    SIGN_IN_COOKIE,
    FormDep,
    WebRefusal,
    local_path,
    read_form,
    same_token,
    store_of,
)

router = APIRouter(include_in_schema=False)
SIGN_IN_FORM_EXPIRED = (
    "the sign-in form expired or your browser did not send its cookie, so you were not signed in. "
    "Reload the sign-in page (cookies must be allowed for this site) and try again"
)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _sign_in_page(
    request: Request, next_path: str, *, status: int = 200, error: str | None = None, name: str = "", note: str = ""
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = render(
        request, "sign_in.html", status, next_path=next_path, error=error, name=name, note=note, form_token=token
    )
    response.set_cookie(
        SIGN_IN_COOKIE, token, max_age=3600, httponly=True, samesite="strict", secure=_secure(request), path="/sign-in"
    )
    return response


@router.get("/sign-in")
def sign_in_form(
    request: Request,
    next_path: Annotated[str | None, Query(alias="next", max_length=2000)] = None,
    expired: Annotated[str | None, Query(max_length=10)] = None,
) -> HTMLResponse:
    note = "Your session ended; sign in again to go on." if expired else ""
    return _sign_in_page(request, local_path(next_path), note=note)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    fields = await read_form(request)
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not same_token(fields.get("form_token"), expected):
        raise WebRefusal(403, "Sign-in form refused", SIGN_IN_FORM_EXPIRED)
    name, password = fields.get("name", "").strip(), fields.get("password", "")
    next_path = local_path(fields.get("next"))
    address = request.client.host if request.client is not None else "unknown"
    accounts = store_of(request).accounts
    try:
        session_id = await run_in_threadpool(accounts.sign_in, name, password, address)
    except SignInRefused as refused:
        status = 429 if isinstance(refused, SignInThrottled) else 401
        return _sign_in_page(request, next_path, status=status, error=refused.detail, name=name)
    previous = request.cookies.get(COOKIE)
    if previous:
        await run_in_threadpool(accounts.sign_out, previous)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(COOKIE, session_id, httponly=True, samesite="lax", secure=_secure(request), path="/")
    response.delete_cookie(SIGN_IN_COOKIE, path="/sign-in")
    return response


@router.post("/sign-out")
async def sign_out(request: Request, _form: FormDep) -> Response:
    session_id = request.cookies.get(COOKIE)
    if session_id:
        await run_in_threadpool(store_of(request).accounts.sign_out, session_id)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request))
    return response
