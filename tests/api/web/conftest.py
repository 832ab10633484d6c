"""Fixtures for the web app's tests: users who sign in (the same people as the API tests'
tokens), a clock the tests move, a browser-like client per person, and a claim to decide.

The ledger is set up over the JSON API (tests/api/conftest.py's driver); the pages are then
read and their forms posted as a browser would: cookies, form fields, redirects."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.security import ServiceStore
from tests.api.conftest import JSON, Alliance, Api, expense

PASSWORD = "correct horse battery staple"  # noqa: S105 - the test users' password
#: The users of these tests: user name -> (role, partner); the names are the API tokens' too.
PEOPLE = {
    "claire.coordinator": ("coordinator", "TECHTERA"),
    "arthur.auditor": ("auditor", None),
    "paola.pointex": ("officer", "POINTEX"),
    "nico.ntt": ("officer", "NTT"),
}
FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Clock:
    """The service store's clock: now, until a test moves it."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **span: float) -> None:
        self.now += timedelta(**span)


@pytest.fixture
def clock(store: ServiceStore) -> Clock:
    moved = Clock()
    store.clock = moved
    return moved


@pytest.fixture
def users(store: ServiceStore) -> dict[str, tuple[str, str | None]]:
    for name, (role, partner) in PEOPLE.items():
        store.accounts.create_user(name=name, role=role, partner=partner, password=PASSWORD)
    return PEOPLE


def form_token(page: str) -> str:
    found = FORM_TOKEN.search(page)
    assert found is not None, "the sign-in page has its form token"
    return found[1]


def csrf_of(page: str) -> str:
    found = CSRF.search(page)
    assert found is not None, "the page has a form with its CSRF token"
    return found[1]


@dataclass
class Person:
    """A browser of one person: its own cookies, signed in (or not) through the sign-in form."""

    client: TestClient
    name: str

    def sign_in(self, password: str = PASSWORD, *, next_path: str = "/") -> TestClient:
        page = self.client.get("/sign-in")
        fields = {"form_token": form_token(page.text), "name": self.name, "password": password, "next": next_path}
        self.response = self.client.post("/sign-in", data=fields, follow_redirects=False)
        return self.client

    def get(self, path: str) -> str:
        response = self.client.get(path, follow_redirects=False)
        assert response.status_code == 200, response.text
        return response.text

    def post(self, path: str, fields: dict[str, str], *, csrf_from: str | None = None) -> httpx2.Response:
        """POST a form with the CSRF token of the page ``csrf_from`` (default: ``path``'s page)."""
        token = csrf_of(self.get(csrf_from or path.rsplit("/", 1)[0]))
        return self.client.post(path, data={"csrf": token, **fields}, follow_redirects=False)


@pytest.fixture
def browser(app: FastAPI, client: TestClient, users: dict[str, object]) -> Iterator[dict[str, Person]]:
    """A signed-in browser per person (the app's lifespan is the ``client`` fixture's)."""
    people = {}
    for name in PEOPLE:
        person = Person(TestClient(app), name)
        person.sign_in()
        assert person.response.status_code == 303, person.response.text
        people[name] = person
    yield people
    for person in people.values():
        person.client.close()


@pytest.fixture
def claim(api: Api, alliance: Alliance) -> JSON:
    """A submitted POINTEX claim with a JPY line (JPY 144,830 at 144.83: EUR 1,000.00) and an
    EUR line (EUR 1,250.50)."""
    return api.submit(
        alliance,
        expense("144830", "JPY", receipt="R-JPY-1", cost_type="ACCOMMODATION"),
        expense("1250.50", "EUR", receipt="R-EUR-1"),
    )
