"""``grantledger serve`` in a process of its own on a free loopback port, for the HTTP
benchmark and the end-to-end tests: started, waited for until ``/health`` answers, and
always stopped (SIGTERM, then SIGKILL if it hangs) on leaving the ``with``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Self

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env() -> dict[str, str]:
    """The environment without GRANTLEDGER_* settings, so only the command line picks the stores."""
    return {k: v for k, v in os.environ.items() if not k.startswith("GRANTLEDGER_")}


class ServerFailed(RuntimeError):
    """The server exited, or did not answer /health in time."""


class Server:
    """The service on ``database_url`` with ``workers`` processes, its output appended to ``log``;
    with ``lifetime``, it stops by itself after that many seconds even if whoever started it
    died without stopping it (coreutils' timeout)."""

    def __init__(self, database_url: str, log: Path, workers: int = 1, *, lifetime: int | None = None) -> None:
        self.database_url = database_url
        self.workers = workers
        self.lifetime = lifetime
        self.log_path = log
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        command = [sys.executable, "-m", "api.cli", "--database-url", self.database_url]
        command += ["serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers)]
        if self.lifetime is not None:
            command = ["timeout", "--signal=TERM", "--kill-after=10", str(self.lifetime), *command]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own command line
                command, cwd=REPO, env=clean_env(), stdout=log, stderr=subprocess.STDOUT
            )
        try:
            self._wait_until_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                code = None if self.process is None else self.process.returncode
                raise ServerFailed(f"the server exited with {code}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/health", timeout=1.0) as answer:  # noqa: S310 - loopback
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise ServerFailed(f"the server did not answer /health within {START_TIMEOUT} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def stop(self) -> int | None:
        """Terminate (SIGTERM: uvicorn shuts down gracefully), wait, and kill it if it hangs;
        its exit status (negative: the signal that ended it), None if it was not running."""
        process, self.process = self.process, None
        if process is None:
            return None
        try:
            if process.poll() is None:
                process.terminate()
            return process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait(timeout=STOP_TIMEOUT)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
