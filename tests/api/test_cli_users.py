"""``grantledger user``: the people who sign in to the web app, and the demo's users."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from api.accounts import SignInRefused, users
from api.cli import main
from api.context import open_context
from api.demo_data import DEMO_ACTORS
from api.security import ServiceStore

PASSWORD = "a long enough password"  # noqa: S105 - the test's own


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


def run(url: str, *args: str) -> int:
    return main(["--database-url", url, *args])


def create(url: str, monkeypatch: pytest.MonkeyPatch, *args: str, password: str = PASSWORD) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return run(url, "user", "create", "--password-stdin", *args)


def sign_in(url: str, name: str, password: str) -> str:
    with open_context(url) as ctx:
        return ServiceStore(ctx.read_db).accounts.sign_in(name, password, "127.0.0.1")


class TestUserCommand:
    def test_create_list_disable(
        self, url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A user made with a password from stdin signs in; only an argon2id hash is stored;
        the list shows them; disabled, they can no longer sign in."""
        assert create(url, monkeypatch, "--role", "auditor", "--name", "ada.auditor") == 0
        assert "user ada.auditor (auditor) can now sign in to the web app" in capsys.readouterr().out
        assert sign_in(url, "ada.auditor", PASSWORD)
        with open_context(url) as ctx, ctx.read_db.reading() as conn:
            stored = conn.execute(select(users.c.password_hash)).scalar_one()
        assert stored.startswith("$argon2id$")
        assert PASSWORD not in stored
        assert run(url, "user", "list") == 0
        assert re.search(r"ada\.auditor\s*│\s*auditor", capsys.readouterr().out)
        assert run(url, "user", "disable", "--name", "ada.auditor") == 0
        with pytest.raises(SignInRefused, match="is disabled"):
            sign_in(url, "ada.auditor", PASSWORD)
        assert run(url, "user", "disable", "--name", "ada.auditor") == 2
        assert "no enabled user named 'ada.auditor'" in capsys.readouterr().err

    def test_the_password_is_prompted_twice(
        self, url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        typed = iter([PASSWORD, PASSWORD + "!"])
        monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
        assert run(url, "user", "create", "--role", "auditor", "--name", "ada.auditor") == 2
        assert "the two passwords differ; nothing was recorded" in capsys.readouterr().err
        typed = iter([PASSWORD, PASSWORD])
        assert run(url, "user", "create", "--role", "auditor", "--name", "ada.auditor") == 0

    @pytest.mark.parametrize(
        ("args", "password", "message"),
        [
            (("--role", "auditor", "--name", "ada"), "too short", "the password has 9 characters; give at least 12"),
            (("--role", "officer", "--name", "olga"), PASSWORD, "an officer needs --partner"),
            (("--role", "auditor", "--partner", "NTT", "--name", "ada"), PASSWORD, "an auditor has no partner"),
            (("--role", "officer", "--partner", "pointex!", "--name", "olga"), PASSWORD, "is not a partner code"),
        ],
    )
    def test_refuses_users_that_make_no_sense(
        self,
        url: str,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        args: tuple[str, ...],
        password: str,
        message: str,
    ) -> None:
        assert create(url, monkeypatch, *args, password=password) == 2
        assert message in capsys.readouterr().err

    def test_a_name_is_taken_once(
        self, url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert create(url, monkeypatch, "--role", "auditor", "--name", "ada") == 0
        assert create(url, monkeypatch, "--role", "auditor", "--name", "ada") == 2
        assert "a user named 'ada' exists already" in capsys.readouterr().err


class TestDemoUsers:
    def test_the_demo_prints_a_password_per_demo_user_and_reuse_keeps_them(
        self, url: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert run(url, "demo") == 0
        out = capsys.readouterr().out
        passwords = dict(re.findall(r"^\s+(\S+)\s.*password: (\S+)$", out, re.M))
        assert set(passwords) == {actor.id for actor in DEMO_ACTORS}
        assert sign_in(url, "officer.pointex", passwords["officer.pointex"])
        assert run(url, "demo", "--reuse") == 0
        again = capsys.readouterr().out
        assert "officer.pointex" in again
        assert "(kept: the one printed when it was made still works)" in again
        assert not any(password in again for password in passwords.values()), "no password is printed twice"
        assert sign_in(url, "officer.pointex", passwords["officer.pointex"])
