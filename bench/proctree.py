"""CPU seconds of a process tree (a gunicorn arbiter and its workers, PostgreSQL's backends), from
Linux's /proc: each process's own time and that of the children it waited for, so that the
workers or backends that ended during a measurement still count."""

from __future__ import annotations

import os
from pathlib import Path


def _with_children(pid: int) -> float | None:
    """CPU seconds of a process and of its children it waited for (no longer running)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU seconds of a process and every descendant, running or ended (Linux /proc; None elsewhere)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    own = _with_children(pid)
    if own is None:
        return None
    descendants, frontier = set(), [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent and child not in descendants]
        descendants.update(children)
        frontier += children
    return own + sum(seconds for p in descendants if (seconds := _with_children(p)) is not None)
