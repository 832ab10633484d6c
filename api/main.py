"""The HTTP service: an app factory wiring the ledger, its read models and the routes.

The web app (api/web) is mounted on the same app: its pages at /, its refusals as pages.
Errors of the JSON API are problem details (RFC 9457): 401 without a valid token, 403 for the wrong role or
partner, 404 for unknown ids, 409 for refusals by a rule of the grant and for conflicts,
422 for invalid input (with field errors in the user's words: api.invalid). Every write checks
the caller's role before it reads its body and honours an Idempotency-Key header (api.edge).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from api import docs, web
from api.context import open_context
from api.failures import InternalErrors
from api.headers import SecurityHeaders
from api.invalid import field_errors
from api.routes import audit, budget, claims, corrections, costs, documents, missions, payments, reporting, search
from api.schemas import Problem
from api.security import ServiceStore, TokenExpired
from api.serving import keep_queries_out_of_access_logs
from api.settings import Settings
from api.views import LatestBody
from ledger.errors import Conflict, InvalidInput, LedgerError, NotAllowed, NotFound, Refused
from projections.projector import ProjectionFailed, ProjectionFailure, ProjectionLagging

log = logging.getLogger("grantledger.api")
PREFIX = "/api/v1"
PROBLEM = "application/problem+json"

#: Domain refusals -> HTTP status (the most specific class first).
STATUS_OF: tuple[tuple[type[LedgerError], int], ...] = (
    (InvalidInput, 422),
    (NotAllowed, 403),
    (NotFound, 404),
    (Refused, 409),
    (Conflict, 409),
)


def problem(status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors is not None:
        body["errors"] = errors
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _ledger_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, LedgerError)  # noqa: S101 - registered for LedgerError only
    page = web.ledger_error(request, error)
    if page is not None:
        return page
    status = next((code for kind, code in STATUS_OF if isinstance(error, kind)), 409)
    return problem(status, error.title, error.detail)


#: Methods that would record something: their refusals say nothing was recorded.
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)  # noqa: S101
    fields = field_errors(error.errors())
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    page = web.http_error(request, 422, f"the request was not understood: {summary}")
    if page is not None:
        return page
    outcome = "the request was not recorded" if request.method in WRITE_METHODS else "the request was not answered"
    return problem(422, "Invalid input", f"{outcome}: {summary}", fields)


def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)  # noqa: S101
    page = web.http_error(request, error.status_code, str(error.detail))
    if page is not None:
        return page
    title = HTTPStatus(error.status_code).phrase
    return problem(error.status_code, title, str(error.detail))


def _token_expired(_request: Request, error: Exception) -> Response:
    assert isinstance(error, TokenExpired)  # noqa: S101 - registered for TokenExpired only
    return problem(401, "Token expired", error.detail)


def _lagging(_request: Request, error: Exception) -> Response:
    return problem(503, "Read models are catching up", f"{error}; the write itself was recorded")


DEGRADED = "Read models stopped"
#: Methods that only read: everything else under the API prefix is a write.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _projection_failed(_request: Request, error: Exception) -> Response:
    assert isinstance(error, ProjectionFailed)  # noqa: S101 - registered for ProjectionFailed only
    return problem(
        503,
        DEGRADED,
        f"the write was recorded, but {error.failure.describe()}. Reads show the books as of the event "
        "before it, and no further write is accepted until a release can apply it",
    )


def _failure_of(request: Request) -> ProjectionFailure | None:
    """What stopped the read models, if anything (None before the service started)."""
    context = getattr(request.app.state, "context", None)
    return None if context is None else context.projector.failure


class RefuseWritesWhenDegraded:
    """While the read models are stopped at an event they cannot apply, a write would be
    recorded but never shown: refuse it with 503 before the ledger records anything.

    Plain ASGI rather than ``app.middleware("http")``: every request passes through it, and it
    costs one attribute lookup when all is well."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS and scope["path"].startswith(PREFIX):
            context = getattr(scope["app"].state, "context", None)
            failure = None if context is None else context.projector.failure
            if failure is not None:
                refusal = problem(
                    503,
                    DEGRADED,
                    f"nothing was recorded: {failure.describe()}. Writes are refused until a release can "
                    f"apply {failure.event}; reads show the books as of the event before it "
                    "(GET /health says when it is over)",
                )
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


#: Every route may answer with these problem details (documented in the OpenAPI schema).
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": why, "content": {PROBLEM: {}}}
    for status, why in (
        (400, "The body could not be read (not UTF-8 JSON)"),
        (401, "No token, or an unknown, revoked or expired one"),
        (403, "The token's role or partner may not do this"),
        (404, "An id the ledger does not know"),
        (409, "Refused by a rule of the grant (with the numbers), or an unresolved conflict"),
        (422, "Invalid input, with the fields at fault"),
        (
            503,
            "Recorded, but the read models did not catch up in time; or refused, nothing recorded, while "
            "the read models are stopped at an event they cannot apply",
        ),
    )
}


def create_app(settings: Settings | None = None) -> FastAPI:
    """The FastAPI application on the stores ``settings`` name (default: the environment)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        context = open_context(settings.database_url, settings.read_database_url)
        app.state.context = context
        app.state.store = ServiceStore(context.read_db)
        app.state.latest_budget = LatestBody()  # per context: positions mean nothing across stores
        try:
            context.projector.catch_up()
        except Exception:  # the projector recorded (and logged) the failure: start degraded
            log.error("the read models could not catch up at startup; the service starts degraded")
        stopping = threading.Event()
        follower = threading.Thread(
            target=context.projector.follow, args=(stopping, settings.follow_interval), daemon=True
        )
        follower.start()
        try:
            yield
        finally:
            stopping.set()
            follower.join(timeout=5)
            app.state.store.close()
            context.close()

    app = FastAPI(
        title="GrantLedger",
        version="0.1.0",
        summary="Event-sourced budget and reimbursement ledger for EU-funded projects",
        description=(
            "Financial officers record SME claims and payments, the coordinator manages the grant, "
            "auditors read history. Money is always a decimal string with its currency. Every POST "
            "accepts an `Idempotency-Key` header. Errors are RFC 9457 problem details."
        ),
        lifespan=lifespan,
        docs_url=None,  # api/docs.py serves them, without inline script
        redoc_url=None,
    )
    app.state.settings = settings
    app.add_exception_handler(LedgerError, _ledger_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(TokenExpired, _token_expired)
    app.add_exception_handler(ProjectionLagging, _lagging)
    app.add_exception_handler(ProjectionFailed, _projection_failed)
    app.add_middleware(RefuseWritesWhenDegraded)  # before the routes' idempotent replays
    app.add_middleware(InternalErrors, pages=web.owns)  # added last, so outermost: they see every answer
    app.add_middleware(SecurityHeaders)
    keep_queries_out_of_access_logs()

    @app.get("/health", include_in_schema=False)
    def health(request: Request) -> Response:
        """200 ``ok``; 503 ``degraded`` with the event the read models cannot apply."""
        failure = _failure_of(request)
        if failure is None:
            return JSONResponse({"status": "ok"})
        return JSONResponse(
            {"status": "degraded", "detail": failure.describe(), "failure": failure.as_dict()}, status_code=503
        )

    # Routes are matched in the order they were added, and an included router tries each of its
    # routes in turn (FastAPI looks at no prefix first): the API's go first, then the docs and the
    # web app's pages at /. Behind the pages, matching POST /api/v1/claims cost 150 us of CPU per
    # request and /health 212 us; in front of them, 43 and 2 us (a page's route 23 -> 137 us).
    for module in (budget, missions, claims, payments, costs, documents, corrections, reporting, search, audit):
        app.include_router(module.router, prefix=PREFIX, responses=PROBLEM_RESPONSES)
    app.include_router(docs.router)
    web.install(app)  # the web app's pages at / (api/web)
    return app
