"""The API's documentation pages, /docs (Swagger UI) and /redoc, served under a strict CSP.

FastAPI's own /docs page runs an inline script; this one loads the same set-up from a script
of the app's own (/docs/swagger-init.js), so that no page needs inline script. Swagger UI and
ReDoc come from the service itself (api/assets.py, from node_modules/), never from a CDN: the
pages name no other origin and work offline. Without the assets installed, each page answers
503 saying how to install them. (ReDoc's footer shows its vendor's logo from cdn.redoc.ly: the
policy blocks that image, so nothing is fetched and the footer shows its text alone.)
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from api import assets

SWAGGER_CSS = "swagger-ui/swagger-ui.css"
SWAGGER_JS = "swagger-ui/swagger-ui-bundle.js"
REDOC_JS = "redoc/redoc.standalone.js"
OPENAPI_URL = "/openapi.json"
DOCS, REDOC, SWAGGER_INIT = "/docs", "/redoc", "/docs/swagger-init.js"

router = APIRouter(include_in_schema=False)
router.include_router(assets.router)  # the pages' assets are served with them, tokenless

_SWAGGER_PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>GrantLedger API</title>
<link rel="stylesheet" href="{assets.url(SWAGGER_CSS)}">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets.url(SWAGGER_JS)}"></script>
<script src="{SWAGGER_INIT}"></script>
</body>
</html>
"""

_SWAGGER_INIT = f"""window.ui = SwaggerUIBundle({{
  url: "{OPENAPI_URL}",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
}});
"""


_REDOC_PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>GrantLedger API</title>
</head>
<body>
<redoc spec-url="{OPENAPI_URL}"></redoc>
<script src="{assets.url(REDOC_JS)}"></script>
</body>
</html>
"""


def _not_installed(page: str, names: list[str]) -> HTMLResponse:
    """503: the page would be broken without its assets; say which are missing and what to do."""
    files = "".join(f"<li><code>{escape(str(assets.file_of(name)))}</code></li>" for name in names)
    return HTMLResponse(
        f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>API documentation unavailable</title></head>
<body>
<h1>The API documentation ({escape(page)}) is not available</h1>
<p>Its assets (Swagger UI and ReDoc, npm packages pinned in package-lock.json) are not installed:</p>
<ul>{files}</ul>
<p>To install them, {escape(assets.SETUP_HINT)}. The API itself works without them;
its description is at <a href="{OPENAPI_URL}">{OPENAPI_URL}</a>.</p>
</body>
</html>
""",
        status_code=503,
    )


@router.get(DOCS)
def swagger_ui() -> HTMLResponse:
    missing = assets.missing(SWAGGER_CSS, SWAGGER_JS)
    return _not_installed(DOCS, missing) if missing else HTMLResponse(_SWAGGER_PAGE)


@router.get(SWAGGER_INIT)
def swagger_init() -> Response:
    return Response(_SWAGGER_INIT, media_type="text/javascript")


@router.get(REDOC)
def redoc() -> HTMLResponse:
    missing = assets.missing(REDOC_JS)
    return _not_installed(REDOC, missing) if missing else HTMLResponse(_REDOC_PAGE)
