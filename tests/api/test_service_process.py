"""The service's processes: ``grantledger serve --workers N`` as a real server on a loopback port.

Its workers must never outlive it: a SIGKILLed parent (an OOM kill, a supervisor's last resort)
used to leave uvicorn's workers serving, holding the port, so that no new server could start.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.server import Server

#: Seconds the workers have to notice their parent died, shut down and free the port.
EXIT_TIMEOUT = 10.0
SECRET = "glt_QUERYSTRINGSECRET0123456789"  # noqa: S105 - a fake token that must never be logged


def children(pid: int) -> list[int]:
    """The live (not zombie) processes whose parent is ``pid``, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie, dead but not yet reaped, does not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def port_is_free(port: int) -> bool:
    """Whether a new server could listen on ``port``, as servers do (SO_REUSEADDR: connections
    closed a moment ago and lingering in TIME_WAIT do not count; a listening socket does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            return False
        return True


def wait_for(condition: str, check: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {condition}")


@contextlib.contextmanager
def killing_leftovers(pids: list[int]) -> Iterator[None]:
    """Whatever the test asserts, no process it found is left running afterwards."""
    try:
        yield
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
class TestWorkersDieWithTheirParent:
    def test_sigkill_of_the_parent_takes_every_worker_down_and_frees_the_port(self, tmp_path: Path) -> None:
        """Two workers answer; the parent is SIGKILLed (it can run no handler); within seconds
        no worker is left and the port can be bound again. The access log carries the request's
        path without its query string."""
        log = tmp_path / "server.log"
        workers: list[int] = []
        with Server(f"sqlite:///{tmp_path / 'ledger.db'}", log, workers=2) as server, killing_leftovers(workers):
            assert server.pid is not None
            parent = server.pid
            wait_for("two workers started", lambda: len(children(parent)) >= 2, 30.0)
            time.sleep(1.0)  # the second worker may still be starting its own helpers
            workers.extend(children(parent))
            answer = httpx.get(f"{server.base_url}/health", params={"token": SECRET}, timeout=10.0)
            assert answer.status_code == 200
            os.kill(parent, signal.SIGKILL)
            assert server.process is not None
            server.process.wait(timeout=EXIT_TIMEOUT)
            wait_for(f"workers {workers} gone", lambda: not any(alive(pid) for pid in workers), EXIT_TIMEOUT)
            wait_for(f"port {server.port} free", lambda: port_is_free(server.port), EXIT_TIMEOUT)
        text = log.read_text(errors="replace")
        assert '"GET /health HTTP/1.1" 200' in text, text
        assert SECRET not in text, text
