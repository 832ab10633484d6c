"""Running the service: one uvicorn process, or gunicorn managing uvicorn workers.

One worker is served by uvicorn directly: a single process, so nothing can outlive it, and it
runs wherever Python does. Several workers run under gunicorn (uvicorn-worker's UvicornWorker),
a well-kept process manager that restarts a worker that dies and stops them all with itself.
Gunicorn's own workers notice a dead parent by comparing os.getppid() with the pid they
recorded, in their notify loop; the uvicorn worker does not (it only touches its heartbeat
file), so a worker that outlived a SIGKILLed gunicorn would go on serving, the port taken.
``die_with_parent`` closes that gap on Linux: each worker asks the kernel for SIGTERM when its
parent dies (PR_SET_PDEATHSIG), and uvicorn then shuts down as on any SIGTERM.

Access logs never carry a query string (a token sent as ``?token=`` must not reach a log):
``WithoutQuery`` cuts it from uvicorn's access records, whichever server writes them.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
from typing import Any

#: gunicorn must be told to call the factory (it imports in each worker, after the fork).
APP_FACTORY = "api.main:create_app()"
WORKER_CLASS = "uvicorn_worker.UvicornWorker"
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class WithoutQuery(logging.Filter):
    """Cut the query string from uvicorn's access records, whose arguments are
    (client address, method, path with query, HTTP version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def keep_queries_out_of_access_logs() -> None:
    """Install WithoutQuery on uvicorn's access logger (once; gunicorn's uvicorn workers
    replace that logger's handlers, never its filters)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, WithoutQuery) for f in access.filters):
        access.addFilter(WithoutQuery())


def die_with_parent(_arbiter: Any, worker: Any) -> None:
    """gunicorn's post_fork hook: on Linux, SIGTERM this worker when gunicorn dies; if it
    died before the request was made, leave at once."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != worker.ppid:
        sys.exit(0)


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def serve(host: str, port: int, workers: int) -> None:
    """Serve the app factory on host:port with ``workers`` processes (see the module's doc)."""
    keep_queries_out_of_access_logs()
    if workers <= 1:
        import uvicorn

        uvicorn.run("api.main:create_app", factory=True, host=host, port=port)
        return
    from gunicorn.app.base import BaseApplication
    from gunicorn.util import import_app

    options: dict[str, Any] = {
        "bind": bind_address(host, port),
        "workers": workers,
        "worker_class": WORKER_CLASS,
        "post_fork": die_with_parent,
        "accesslog": "-",
        "errorlog": "-",
        "proc_name": "grantledger",
    }

    class Gunicorn(BaseApplication):  # type: ignore[misc]  # gunicorn ships no types
        def load_config(self) -> None:
            for name, value in options.items():
                self.cfg.set(name, value)
            if "control_socket_disable" in self.cfg.settings:  # gunicorn 24+: no socket in $HOME
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Any:
            return import_app(APP_FACTORY)

    Gunicorn().run()
