"""Rendering pages: one Jinja2 environment over templates/ (autoescaped), the filters that
write money and dates as a person reads them, and the context every page gets (who is signed
in, their navigation, the CSRF token of their forms)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from api import assets
from api.web.files import size_text
from ledger.actors import Actor, Role
from ledger.money import MINOR_UNITS

HERE = Path(__file__).resolve().parent
HTMX = "htmx/htmx.min.js"


def amount(value: Decimal | None, currency: str = "EUR") -> str:
    """An amount with thousands separators and the currency's minor units: 1,234.50; JPY 12,000."""
    if value is None:
        return ""
    places = MINOR_UNITS.get(currency, 2)
    return f"{value:,.{places}f}"


def day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    return value.isoformat()


def query(base: dict[str, Any], **changes: Any) -> str:
    """A query string from ``base`` with ``changes`` (None or "" drops a key): filter links."""
    merged = {**base, **changes}
    kept = {key: value for key, value in merged.items() if value not in (None, "")}
    return "?" + urlencode(kept) if kept else ""


environment = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,  # a misspelt name in a template fails its test, not silently
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["amount"] = amount
environment.filters["day"] = day
environment.filters["size"] = size_text
environment.globals["query"] = query
environment.globals["htmx_url"] = assets.url(HTMX)


def navigation(actor: Actor) -> tuple[tuple[str, str], ...]:
    """The links of the navigation bar for this person: (href, label)."""
    common = (
        ("/", "Home"),
        ("/budget", "Budget"),
        ("/charts", "Charts"),
        ("/claims", "Claims"),
        ("/payments", "Payments"),
        ("/smes", "SMEs"),
        ("/missions", "Missions"),
        ("/rates", "Rates"),
        ("/costs", "Own costs"),
        ("/audit", "Audit trail"),
        ("/reporting", "Reporting"),
        ("/documents", "Documents"),
    )
    if actor.role == Role.OFFICER:
        return (*common, (f"/claims?state=submitted&partner={actor.partner}", "Awaiting my decision"))
    if actor.role == Role.COORDINATOR:
        return (*common, ("/claims?state=submitted", "Pending claims"))
    return (*common, ("/#exports", "Exports"))


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The page ``template`` with ``context``, plus who is signed in (request.state.web) and
    where the navigation leads."""
    web = getattr(request.state, "web", None)
    page = environment.get_template(template).render(
        request=request,
        web=web,
        navigation=navigation(web.actor) if web is not None else (),
        path=request.url.path,
        **context,
    )
    return HTMLResponse(page, status_code=status)
