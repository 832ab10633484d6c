"""Security headers on every response, in one pure ASGI middleware.

- every response: ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: no-referrer``;
- API data (/api/v1/..., /health): ``Cache-Control: no-store`` (no cache keeps a budget or a
  token's answers);
- HTML: a strict ``Content-Security-Policy`` (scripts and styles only from the app itself, no
  inline script or style, no framing, forms post only to the app) and ``X-Frame-Options: DENY``
  for older browsers, ``Cross-Origin-Opener-Policy: same-origin``, and ``Cache-Control:
  no-store`` (the web app's pages show a person's books; api/web). No policy
  names another origin: the documentation pages load Swagger UI and ReDoc from the service
  itself (api/assets.py). ReDoc writes its styles inline and searches in a blob: worker, so
  /redoc alone allows those two.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.docs import DOCS, REDOC

API_PREFIX = "/api/v1"


def policy(*, scripts: str = "'self'", styles: str = "'self'", extra: str = "") -> str:
    return (
        f"default-src 'none'; script-src {scripts}; style-src {styles}; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'" + extra
    )


#: The policy of every HTML page, and the documentation pages' own.
HTML_POLICY = policy()
POLICY_OF: dict[str, str] = {
    DOCS: HTML_POLICY,
    REDOC: policy(styles="'self' 'unsafe-inline'", extra="; worker-src blob:"),
}


def is_api_data(path: str) -> bool:
    return path == "/health" or path == API_PREFIX or path.startswith(API_PREFIX + "/")


class SecurityHeaders:
    """Adds the headers above to each HTTP response as it starts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                if is_api_data(path):
                    headers["Cache-Control"] = "no-store"
                if headers.get("content-type", "").startswith("text/html"):
                    headers["Content-Security-Policy"] = POLICY_OF.get(path, HTML_POLICY)
                    headers["X-Frame-Options"] = "DENY"
                    headers["Cross-Origin-Opener-Policy"] = "same-origin"
                    if "cache-control" not in headers:  # a page shows a person's books: keep it out of caches
                        headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
