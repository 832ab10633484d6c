"""The answer to an unexpected error: a problem-details 500, the connection closed, a clean log.

An exception that no handler turned into an answer (a fault, never bad input) gets a 500 that
says the request failed and under which id the error was logged, with ``Connection: close``:
the server closes the connection after it, so a client's keep-alive connection is never left
in an unknown state, and its next request opens a fresh one. The log line names the request
(method and path, never the query string, headers or body) and the error (its kind, the first
line of its message, the statement for a SQL error, and where it was raised), never values:
SQL parameters and a database's DETAIL lines are left out.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Callable
from html import escape

from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import StatementError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("grantledger.api")


class ResponseAbandoned(RuntimeError):
    """The error came after the response had started: the server must drop the connection."""


def describe(error: BaseException) -> str:
    """The error and its causes, without the values they carry (see the module's doc)."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = type(current)
        message = str(current.orig if isinstance(current, StatementError) else current).strip()
        first = message.splitlines()[0] if message else ""
        parts.append(f"{kind.__module__}.{kind.__qualname__}: {first}")
        if isinstance(current, StatementError) and current.statement:
            parts.append(f"  statement: {' '.join(current.statement.split())}")
        parts.extend(line.rstrip() for line in traceback.format_list(traceback.extract_tb(current.__traceback__)))
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return "\n".join(parts)


def internal_error(error_id: str) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": "Internal error",
        "status": 500,
        "detail": (
            f"the request failed on an unexpected error, logged as {error_id}; if it was a write, look the "
            "record up (or the audit trail) before sending it again, and give this id to the service's administrator"
        ),
        "instance": f"urn:uuid:{error_id}",
    }
    return JSONResponse(body, status_code=500, media_type="application/problem+json", headers={"Connection": "close"})


def internal_error_page(error_id: str) -> HTMLResponse:
    """The same 500 for a page of the web app: plain HTML, no template (that may be what failed)."""
    text = (
        "The request failed on an unexpected error, logged as "
        f"{escape(error_id)}. If you sent a form, look the record up before sending it again, and give this "
        "id to the service's administrator."
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Internal error</title></head>'
        f'<body><h1>Internal error</h1><p>{text}</p><p><a href="/">Home</a></p></body></html>\n'
    )
    return HTMLResponse(page, status_code=500, headers={"Connection": "close"})


class InternalErrors:
    """Turns an unexpected exception into the 500 above (pure ASGI, outside the routes' handlers)."""

    def __init__(self, app: ASGIApp, pages: Callable[[str], bool] = lambda _path: False) -> None:
        self.app = app
        self.pages = pages  # which paths are the web app's pages (they get an HTML 500)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watching(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watching)
        except Exception as error:
            error_id = str(uuid.uuid4())
            log.error("error %s on %s %s:\n%s", error_id, scope["method"], scope["path"], describe(error))
            if started:
                raise ResponseAbandoned(f"error {error_id} after the response started") from None
            answer: Response = internal_error_page(error_id) if self.pages(scope["path"]) else internal_error(error_id)
            await answer(scope, receive, send)
