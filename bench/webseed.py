"""A store for the web app's benchmark and screenshots: its events (the demo, or a generated
history), the read models projected, and one web user and one API token per role; and signing
in through the sign-in form over plain HTTP, as a browser does (GET the form for its token and
cookie, POST the name and password, keep the session cookie of the 303)."""

from __future__ import annotations

import http.client
import re
import secrets
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from api.context import open_context
from api.demo import load_demo
from api.demo_data import AUDITOR, COORDINATOR, OFFICERS
from api.security import ServiceStore
from api.web.session import COOKIE, FORM_TYPE, SIGN_IN_COOKIE
from ledger.actors import Actor

#: The person signed in for each role: the demo's (and the generated histories') own actors.
PEOPLE: dict[str, Actor] = {"coordinator": COORDINATOR, "officer": OFFICERS["NIDV"], "auditor": AUDITOR}
TIMEOUT = 30.0


@dataclass(frozen=True)
class Seeded:
    """The store a server runs on, each role's user name and password, and each role's token."""

    database_url: str
    passwords: dict[str, tuple[str, str]]
    tokens: dict[str, str]


def seed(database_url: str, *, demo: bool) -> Seeded:
    """Load the demo (``demo``; else the store already holds a history), project it, and make
    a web user (a random password) and an API token for each role of PEOPLE."""
    passwords: dict[str, tuple[str, str]] = {}
    tokens: dict[str, str] = {}
    with open_context(database_url) as ctx:
        if demo:
            load_demo(ctx.app)
        ctx.projector.catch_up()
        store = ServiceStore(ctx.read_db)
        for role, actor in PEOPLE.items():
            password = secrets.token_urlsafe(16)
            store.accounts.create_user(name=actor.id, role=actor.role, partner=actor.partner, password=password)
            passwords[role] = (actor.id, password)
            tokens[role] = store.create_token(name=f"bench.{actor.id}", role=actor.role, partner=actor.partner)
    return Seeded(database_url, passwords, tokens)


class SignInFailed(RuntimeError):
    """The sign-in form did not sign the person in."""


def fetch(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """One GET on the loopback server: its status and body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request("GET", path, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, answer.read().decode(errors="replace")
    finally:
        connection.close()


def _cookies(answer: http.client.HTTPResponse) -> SimpleCookie:
    jar = SimpleCookie()
    for header in answer.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return jar


def sign_in(port: int, name: str, password: str) -> str:
    """The ``Cookie`` header of a session started through the sign-in form (checked: the home
    page then says who is signed in)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request("GET", "/sign-in")
        answer = connection.getresponse()
        form = answer.read().decode()
        field = re.search(r'name="form_token" value="([^"]+)"', form)
        jar = _cookies(answer)
        if answer.status != 200 or field is None or SIGN_IN_COOKIE not in jar:
            raise SignInFailed(f"GET /sign-in answered {answer.status} without its form token")
        body = urlencode({"form_token": field.group(1), "next": "/", "name": name, "password": password})
        headers = {"Content-Type": FORM_TYPE, "Cookie": f"{SIGN_IN_COOKIE}={jar[SIGN_IN_COOKIE].value}"}
        connection.request("POST", "/sign-in", body=body, headers=headers)
        answer = connection.getresponse()
        answer.read()
        jar = _cookies(answer)
    finally:
        connection.close()
    if answer.status != 303 or COOKIE not in jar:
        raise SignInFailed(f"signing in as {name} answered {answer.status} and no session cookie")
    cookie = f"{COOKIE}={jar[COOKIE].value}"
    status, home = fetch(port, "/", {"Cookie": cookie})
    if status != 200 or f"Signed in as <strong>{name}</strong>" not in home:
        raise SignInFailed(f"signed in as {name}, the home page answered {status} without saying so")
    return cookie
