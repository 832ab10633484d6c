"""Unexpected errors and logs, over real HTTP: a uvicorn server in a thread of the test, on a
free loopback port, running the app with routes added by the test only (never by the app).

After a 500 the server closes the connection (the client's keep-alive connection is not left
in an unknown state), and nothing secret or personal reaches a log: no token from a query
string, no Authorization header, no SQL parameter, no database DETAIL line.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import insert
from sqlalchemy.exc import StatementError

from api.main import create_app
from api.security import ServiceStore, tokens
from api.settings import Settings
from bench.server import free_port
from projections.db import ReadDatabase, read_url_for
from tests.conftest import PostgresSchema

SECRET = "glt_QUERYSTRINGSECRET0123456789"  # noqa: S105 - a fake token that must never be logged
BEARER = "glt_HEADERSECRET9876543210"
PERSON = "Maria Rossi, IT01234567890"  # personal data a failing statement carries


def with_test_routes(app: FastAPI) -> FastAPI:
    """Two routes that fail: one raises, one runs a statement the database refuses (a second
    token with the same hash, which the unique index forbids), with personal data in it."""

    @app.get("/api/v1/test-raises")
    def raises() -> None:
        raise RuntimeError("a fault in the code")

    @app.get("/api/v1/test-sql-fails")
    def sql_fails(request: Request) -> None:
        with request.app.state.context.read_db.writing() as conn:
            for _ in range(2):
                row = {"name": PERSON, "role": "auditor", "token_hash": PERSON, "created_at": datetime.now(UTC)}
                conn.execute(insert(tokens).values(**row))

    @app.get("/api/v1/test-fails-midway")
    def fails_midway() -> StreamingResponse:
        def chunks() -> Iterator[bytes]:
            yield b"the first rows"
            raise RuntimeError(f"a fault after the first rows\nwhile writing {PERSON}")

        return StreamingResponse(chunks(), media_type="text/csv")

    return app


@contextlib.contextmanager
def serving(app: FastAPI) -> Iterator[int]:
    """The app on a real uvicorn server (its default HTTP protocol), stopped afterwards."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive(), "the server stopped while starting"
            assert time.monotonic() < deadline, "the server did not start within 30 s"
            time.sleep(0.05)
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield Settings(database_url=f"sqlite:///{tmp_path}/ledger.db", follow_interval=5.0)
        return
    schema: PostgresSchema = request.getfixturevalue("pg_schema")
    yield Settings(database_url=schema.url, follow_interval=5.0)


@pytest.fixture
def port(settings: Settings, caplog: pytest.LogCaptureFixture) -> Iterator[int]:
    caplog.set_level(logging.INFO)
    with serving(with_test_routes(create_app(settings))) as running:
        yield running


def exchange(port: int, path: str) -> tuple[str, bytes, bool]:
    """One keep-alive request on a raw connection: the response's head, its body, and whether
    the server then closed the connection (read returns nothing within 5 s)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n"
            f"Authorization: Bearer {BEARER}\r\n\r\n".encode()
        )
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, body = data.split(b"\r\n\r\n", 1)
        length = next(
            int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
        )
        while len(body) < length:
            body += sock.recv(65536)
        try:
            closed = sock.recv(1) == b""
        except TimeoutError:
            closed = False
        return head.decode(), body, closed


class TestInternalError:
    def test_a_500_closes_the_connection_and_the_next_connection_works(
        self, port: int, caplog: pytest.LogCaptureFixture
    ) -> None:
        """The client gets problem details (title "Internal error", the id the error was logged
        under) with Connection: close, and the server closes its end; a new connection is
        answered. The log names the error id and the route, not the exception's values."""
        head, body, closed = exchange(port, "/api/v1/test-raises")
        assert head.startswith("HTTP/1.1 500"), head
        assert "connection: close" in head.lower(), head
        assert closed, "the server kept the connection open after a 500"
        problem = json.loads(body)
        assert problem["title"] == "Internal error"
        error_id = problem["instance"].removeprefix("urn:uuid:")
        assert error_id in problem["detail"]
        assert "logged" in problem["detail"]
        assert f"error {error_id} on GET /api/v1/test-raises" in caplog.text
        assert "a fault in the code" in caplog.text  # what failed is logged...
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", "/health")
            answer = connection.getresponse()
            assert answer.status == 200
            assert json.loads(answer.read()) == {"status": "ok"}
        finally:
            connection.close()


class TestErrorAfterTheResponseStarted:
    """A response already under way cannot become a 500."""

    def test_the_log_holds_the_error_id_and_no_values(self, port: int, caplog: pytest.LogCaptureFixture) -> None:
        """The log has the error's id, route and first line, not the values on its later lines."""
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", "/api/v1/test-fails-midway")
            answer = connection.getresponse()
            assert answer.status == 200
            with contextlib.suppress(http.client.IncompleteRead):
                answer.read()
        finally:
            connection.close()
        deadline = time.monotonic() + 5
        while "on GET /api/v1/test-fails-midway" not in caplog.text:
            assert time.monotonic() < deadline, caplog.text
            time.sleep(0.05)
        assert "a fault after the first rows" in caplog.text
        assert "Maria Rossi" not in caplog.text, caplog.text

    def test_the_client_sees_an_incomplete_body(self, port: int) -> None:
        """The server drops the connection: the client never takes a cut body for a whole one."""
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", "/api/v1/test-fails-midway")
            answer = connection.getresponse()
            with pytest.raises(http.client.IncompleteRead):
                answer.read()
        finally:
            connection.close()


class TestNothingSecretInTheLogs:
    def test_no_token_sql_parameter_or_detail_reaches_a_log(self, port: int, caplog: pytest.LogCaptureFixture) -> None:
        """A request with a token in its query string and one in its Authorization header runs a
        statement that fails with personal data in its parameters: the access log has the path
        without the query, the error log the statement's kind and place, and neither holds the
        tokens or the personal data (not even a PostgreSQL DETAIL line quoting the key)."""
        head, body, _closed = exchange(port, f"/api/v1/test-sql-fails?token={SECRET}")
        assert head.startswith("HTTP/1.1 500"), head
        text = caplog.text
        for secret in (SECRET, BEARER, PERSON, "Maria Rossi", "IT01234567890"):
            assert secret not in text, f"{secret!r} was logged:\n{text}"
        assert "GET /api/v1/test-sql-fails HTTP/1.1" in text, text
        assert "IntegrityError" in text, text
        assert "INSERT INTO" in text, text  # the statement, with placeholders
        assert json.loads(body)["title"] == "Internal error"
        assert PERSON not in body.decode()


class TestEnginesHideParameters:
    def test_a_failed_statement_says_what_failed_but_not_with_which_values(self, settings: Settings) -> None:
        """The read models' engine (tokens and idempotency keys share it) leaves the
        parameters out of its errors, wherever such an error may end up being printed."""
        db = ReadDatabase(settings.read_database_url or read_url_for(settings.database_url, environ={}))
        try:
            row = {"name": PERSON, "role": "auditor", "token_hash": PERSON, "created_at": datetime.now(UTC)}
            ServiceStore(db)
            with db.writing() as conn:
                conn.execute(insert(tokens).values(**row))
            with pytest.raises(StatementError) as failed:
                insert_again(db, row)
        finally:
            db.close()
        message = str(failed.value)
        assert "api_tokens" in message
        assert "[SQL parameters hidden due to hide_parameters=True]" in message
        assert "[parameters:" not in message


def insert_again(db: ReadDatabase, row: dict[str, object]) -> None:
    with db.writing() as conn:
        conn.execute(insert(tokens).values(**row))
