"""The web app's own stylesheet, from api/web/static/ (third-party files, htmx among
them, come from node_modules through api/assets.py). Only the files listed are served, each
with its media type."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, PlainTextResponse, Response

from api.assets import CSS
from api.web.render import HERE

PREFIX = "/static"
FILES = {"app.css": CSS, "print.css": CSS}

router = APIRouter(include_in_schema=False)


@router.get(PREFIX + "/{name}")
def static_file(name: str) -> Response:
    if name not in FILES:
        return PlainTextResponse(f"no file {name!r} here", status_code=404)
    return FileResponse(
        HERE / "static" / name, media_type=FILES[name], headers={"Cache-Control": "public, max-age=3600"}
    )
