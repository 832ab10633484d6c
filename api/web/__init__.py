"""The web app: server-rendered pages for officers, the coordinator and auditors.

Routes by area (auth, home, budget, claims, payments: the corrections on a claim, search,
lists of payments and SMEs, exports, audit, reporting to the EU), one templates folder with a base layout, the
app's own static files, and htmx (from node_modules, api/assets.py) as an enhancement: every
page reads and works without JavaScript. Pages call the Application for commands and the
projections' query functions for reads, as the JSON API does; none calls the JSON API.
``install`` mounts it on the app factory's app.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response

from api.web import (
    audit,
    auth,
    budget,
    burn,
    claim_new,
    claims,
    costs,
    decisions,
    documents,
    documents_page,
    errors,
    exports,
    home,
    lists,
    missions,
    payments,
    rate_import,
    rates,
    reporting,
    search,
    smes,
    statement,
    static,
    trail,
    transfers,
)
from api.web.session import SignInNeeded, WebRefusal
from ledger.errors import LedgerError

#: The paths the web app answers (its pages and its own files); the rest is the JSON API's.
PREFIXES = (
    "/sign-in",
    "/sign-out",
    "/budget",
    "/claims",
    "/exports",
    "/verify",
    "/search",
    "/payments",
    "/smes",
    "/missions",
    "/rates",
    "/costs",
    "/audit",
    "/charts",
    "/reporting",
    "/documents",
    static.PREFIX,
)


def owns(path: str) -> bool:
    return path == "/" or any(path == prefix or path.startswith(prefix + "/") for prefix in PREFIXES)


def ledger_error(request: Request, error: LedgerError) -> Response | None:
    """The page for a ledger refusal on a web path (None: not a web path)."""
    return errors.ledger_refused(request, error) if owns(request.url.path) else None


def http_error(request: Request, status: int, detail: str) -> Response | None:
    """The page for an HTTP error a browser met outside the JSON API (None: not one)."""
    if owns(request.url.path) or (errors.wants_page(request) and not request.url.path.startswith("/api/")):
        return errors.http_error_page(request, status, detail)
    return None


#: The web app's routers. Their forms are guarded by the session and its CSRF token
#: (api.web.session), and who may act by the use case's own check, not by api.edge.
MODULES = (
    # claim_new before claims: /claims/new is not a claim's id
    *(auth, home, budget, claim_new, claims, decisions, payments, search, lists, exports, audit, trail, burn),
    *(missions, smes, transfers, rates, rate_import, costs, reporting, statement, static),
    # documents_page before documents: /documents/period.zip is not a document's digest
    *(documents_page, documents),
)
ROUTERS = tuple(module.router for module in MODULES)


def install(app: FastAPI) -> None:
    app.add_exception_handler(WebRefusal, errors.refused)
    app.add_exception_handler(SignInNeeded, errors.sign_in_needed)
    for router in ROUTERS:
        app.include_router(router)
