"""Signing in and out of the web app: cookies, CSRF of the sign-in form, throttling, timeouts."""

from __future__ import annotations

import httpx2
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.accounts import WRONG
from api.security import ServiceStore
from tests.api.web.conftest import PASSWORD, Clock, Person, csrf_of, form_token


def person(app: FastAPI, name: str = "paola.pointex", *, https: bool = False) -> Person:
    base = "https://testserver" if https else "http://testserver"
    return Person(TestClient(app, base_url=base), name)


def set_cookie_of(response: httpx2.Response, name: str) -> str:
    found = [value for value in response.headers.get_list("set-cookie") if value.startswith(f"{name}=")]
    assert len(found) == 1, found
    return str(found[0])


class TestSignIn:
    def test_a_page_asks_for_sign_in_then_comes_back(self, app: FastAPI, client: TestClient, users: object) -> None:
        """Without a session a page redirects to the sign-in form; signing in returns to it."""
        paola = person(app)
        response = paola.client.get("/budget?effective=2023-01-01", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/sign-in?next=/budget%3Feffective%3D2023-01-01"
        paola.sign_in(next_path="/budget?effective=2023-01-01")
        assert paola.response.status_code == 303
        assert paola.response.headers["location"] == "/budget?effective=2023-01-01"
        assert "Signed in as <strong>paola.pointex</strong>, officer of POINTEX" in paola.get("/")

    def test_the_session_cookie_is_http_only_same_site_and_secure_over_https(
        self, app: FastAPI, client: TestClient, users: object
    ) -> None:
        """HttpOnly and SameSite=Lax always; Secure when the request came over HTTPS."""
        plain = person(app)
        plain.sign_in()
        cookie = set_cookie_of(plain.response, "gl_session").lower()
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert "secure" not in cookie
        secure = person(app, https=True)
        secure.sign_in()
        assert "; secure" in set_cookie_of(secure.response, "gl_session").lower()

    def test_unknown_user_and_wrong_password_get_the_same_answer(
        self, app: FastAPI, client: TestClient, users: object
    ) -> None:
        """No user enumeration: the same refusal (401) for an unknown name and a wrong password,
        with the name typed kept in the form; no session cookie."""
        pages = []
        for name, password in (("paola.pointex", "not the password at all"), ("nobody.here", PASSWORD)):
            someone = person(app, name)
            someone.sign_in(password)
            assert someone.response.status_code == 401
            assert "gl_session=" not in someone.response.headers.get("set-cookie", "")
            pages.append(someone.response.text)
            assert f'value="{name}"' in someone.response.text
        wrong = WRONG[:1].upper() + WRONG[1:]
        assert all(wrong in page for page in pages)

    def test_the_sign_in_form_needs_its_own_token(self, app: FastAPI, client: TestClient, users: object) -> None:
        """A sign-in posted without the form's token (from another site) is refused, saying why."""
        paola = person(app)
        fields = {"name": "paola.pointex", "password": PASSWORD, "next": "/"}
        response = paola.client.post("/sign-in", data=fields, follow_redirects=False)
        assert response.status_code == 403
        assert "The sign-in form expired or your browser did not send its cookie" in response.text
        paola.client.get("/sign-in")
        response = paola.client.post("/sign-in", data={**fields, "form_token": "forged"}, follow_redirects=False)
        assert response.status_code == 403

    def test_next_never_leads_to_another_site(self, app: FastAPI, client: TestClient, users: object) -> None:
        paola = person(app)
        paola.sign_in(next_path="//evil.example/")
        assert paola.response.headers["location"] == "/"


class TestThrottling:
    def test_a_user_name_waits_after_five_failures_even_with_the_right_password(
        self, app: FastAPI, client: TestClient, users: object, clock: Clock
    ) -> None:
        """Five failures are free; the sixth try must wait 30 s (429, saying how long), even with
        the right password; after the wait the right password works, and the count is reset."""
        paola = person(app)
        for _ in range(5):
            paola.sign_in("wrong password, again")
            assert paola.response.status_code == 401
        paola.sign_in()
        assert paola.response.status_code == 429
        assert "Too many failed sign-ins with this user name or from this address: wait 30 seconds" in (
            paola.response.text
        )
        clock.advance(seconds=31)
        paola.sign_in()
        assert paola.response.status_code == 303

    def test_waits_double_and_unknown_names_are_throttled_alike(
        self, app: FastAPI, client: TestClient, users: object, clock: Clock
    ) -> None:
        """Each further failure doubles the wait; a name no user has is throttled just the same."""
        ghost = person(app, "nobody.here")
        for _ in range(6):
            ghost.sign_in("whatever it is")
            clock.advance(seconds=31)
        ghost.sign_in("whatever it is")
        assert ghost.response.status_code == 429
        assert "wait 29 seconds" in ghost.response.text  # 60 s after the sixth failure, 31 s ago

    def test_one_address_trying_many_names_waits_too(
        self, app: FastAPI, client: TestClient, users: object, clock: Clock
    ) -> None:
        """Twenty failures from one address, each under another name, and the address waits."""
        for number in range(20):
            person(app, f"guess.{number}").sign_in("a guessed password")
        paola = person(app)
        paola.sign_in()
        assert paola.response.status_code == 429


class TestSession:
    def test_sign_out_ends_the_session(self, app: FastAPI, client: TestClient, users: object) -> None:
        """Sign-out deletes the session server-side: the old cookie no longer opens a page."""
        paola = person(app)
        paola.sign_in()
        cookie = paola.client.cookies["gl_session"]
        token = csrf_of(paola.get("/"))
        response = paola.client.post("/sign-out", data={"csrf": token}, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/sign-in"
        stale = TestClient(app, cookies={"gl_session": cookie})
        assert stale.get("/", follow_redirects=False).status_code == 303

    def test_an_idle_session_ends(self, app: FastAPI, client: TestClient, users: object, clock: Clock) -> None:
        """30 minutes without a request end a session: the sign-in page says so."""
        paola = person(app)
        paola.sign_in()
        clock.advance(minutes=29)
        assert paola.client.get("/", follow_redirects=False).status_code == 200
        clock.advance(minutes=29)
        assert paola.client.get("/", follow_redirects=False).status_code == 200, "each request restarts the wait"
        clock.advance(minutes=31)
        response = paola.client.get("/claims", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/sign-in?next=/claims&expired=1"
        page = paola.client.get(response.headers["location"]).text
        assert "Your session ended; sign in again to go on." in page
        assert paola.client.get("/", follow_redirects=False).status_code == 303, "the session is gone"

    def test_a_session_ends_after_twelve_hours_however_busy(
        self, app: FastAPI, client: TestClient, users: object, clock: Clock
    ) -> None:
        paola = person(app)
        paola.sign_in()
        for _ in range(24):
            clock.advance(minutes=29)
            assert paola.client.get("/", follow_redirects=False).status_code == 200
        clock.advance(minutes=25)  # 12 h 1 min after signing in
        assert paola.client.get("/", follow_redirects=False).status_code == 303

    def test_disabling_a_user_ends_their_sessions(
        self, app: FastAPI, client: TestClient, users: object, store: ServiceStore
    ) -> None:
        paola = person(app)
        paola.sign_in()
        store.accounts.disable_user("paola.pointex")
        assert paola.client.get("/", follow_redirects=False).status_code == 303
        paola.sign_in()
        assert paola.response.status_code == 401
        assert "is disabled" in paola.response.text

    def test_a_new_sign_in_replaces_the_session_it_presented(
        self, app: FastAPI, client: TestClient, users: object
    ) -> None:
        """No session fixation: signing in anew ends the session the browser had."""
        paola = person(app)
        paola.sign_in()
        first = paola.client.cookies["gl_session"]
        page = paola.client.get("/sign-in").text
        fields = {"form_token": form_token(page), "name": "paola.pointex", "password": PASSWORD, "next": "/"}
        paola.client.post("/sign-in", data=fields, follow_redirects=False)
        assert paola.client.cookies["gl_session"] != first
        assert TestClient(app, cookies={"gl_session": first}).get("/", follow_redirects=False).status_code == 303
