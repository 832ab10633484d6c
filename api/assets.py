"""Front-end files of third parties, served by the service itself from node_modules/.

The packages are pinned in package.json and package-lock.json at the repository root and
installed by scripts/setup-venv (``npm ci``); none of their files is copied into the
repository, and no page loads anything from another origin, so the pages work offline.

Only the files named in VENDOR are served, each under ``/assets/vendor/<name>`` with the media
type given here (never guessed from the file). A page that needs them asks ``missing()``
first and answers a clear 503 when npm has not been run, rather than a broken page.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, PlainTextResponse, Response

#: The project's node_modules folder (the repository root, beside api/).
NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
VENDOR_PREFIX = "/assets/vendor"
SETUP_HINT = "run scripts/setup-venv (it installs them with npm ci from package-lock.json), then restart the service"

JS, CSS = "text/javascript; charset=utf-8", "text/css; charset=utf-8"


@dataclass(frozen=True, slots=True)
class VendorFile:
    package: str
    path: str
    media_type: str


#: URL name under /assets/vendor/ -> the file of an npm package (package-lock.json pins it).
VENDOR: dict[str, VendorFile] = {
    "swagger-ui/swagger-ui-bundle.js": VendorFile("swagger-ui-dist", "swagger-ui-bundle.js", JS),
    "swagger-ui/swagger-ui.css": VendorFile("swagger-ui-dist", "swagger-ui.css", CSS),
    "redoc/redoc.standalone.js": VendorFile("redoc", "bundles/redoc.standalone.js", JS),
    "htmx/htmx.min.js": VendorFile("htmx.org", "dist/htmx.min.js", JS),  # the web app's (api/web)
}


def url(name: str) -> str:
    """The same-origin URL of a vendor file (a KeyError for a name not in VENDOR)."""
    VENDOR[name]
    return f"{VENDOR_PREFIX}/{name}"


def file_of(name: str) -> Path:
    vendor = VENDOR[name]
    return NODE_MODULES / vendor.package / vendor.path


def missing(*names: str) -> list[str]:
    """Which of these vendor files are not installed (empty when all are)."""
    return [name for name in names if not file_of(name).is_file()]


router = APIRouter(include_in_schema=False)


@router.get(VENDOR_PREFIX + "/{name:path}")
def vendor_file(name: str) -> Response:
    if name not in VENDOR:
        return PlainTextResponse(f"no asset {name!r} here", status_code=404)
    if missing(name):
        return PlainTextResponse(
            f"the front-end assets are not installed ({file_of(name)} is missing): {SETUP_HINT}", status_code=503
        )
    return FileResponse(
        file_of(name), media_type=VENDOR[name].media_type, headers={"Cache-Control": "public, max-age=86400"}
    )
