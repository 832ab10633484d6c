"""The API's documentation pages, /docs (Swagger UI) and /redoc, served under a strict CSP.

FastAPI's own /docs page runs an inline script; this one loads the same set-up from a script
of the app's own (/docs/swagger-init.js), so that no page needs inline script. Swagger UI and
ReDoc themselves still come from one CDN (CDN below, the only other origin the pages' policy
allows) until the app serves those assets itself.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse

CDN = "https://cdn.jsdelivr.net"
SWAGGER_UI = f"{CDN}/npm/swagger-ui-dist@5"
REDOC_JS = f"{CDN}/npm/redoc@2/bundles/redoc.standalone.js"
OPENAPI_URL = "/openapi.json"
DOCS, REDOC, SWAGGER_INIT = "/docs", "/redoc", "/docs/swagger-init.js"

router = APIRouter(include_in_schema=False)

_SWAGGER_PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>GrantLedger API</title>
<link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{SWAGGER_UI}/swagger-ui-bundle.js"></script>
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


@router.get(DOCS)
def swagger_ui() -> HTMLResponse:
    return HTMLResponse(_SWAGGER_PAGE)


@router.get(SWAGGER_INIT)
def swagger_init() -> Response:
    return Response(_SWAGGER_INIT, media_type="text/javascript")


@router.get(REDOC)
def redoc() -> HTMLResponse:
    return get_redoc_html(
        openapi_url=OPENAPI_URL, title="GrantLedger API", redoc_js_url=REDOC_JS, with_google_fonts=False
    )
