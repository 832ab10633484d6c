"""Writers of one process that collided take turns (ledger/usecases/core.py): a command after a
collision decides and saves holding the process's turn; before any collision it does not, so
commands of different records still run side by side."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from unittest.mock import patch

from ledger.application import GrantLedger
from tests.ledger._race import RACE_TIMEOUT, SaveGate, race
from tests.ledger.test_concurrency import approve, claims_of_different_smes


def turn_held_while_saving(app: GrantLedger, command: Callable[[], Any]) -> bool:
    """Whether another thread finds the process's turn taken while ``command`` saves."""
    seen: list[bool] = []
    save = app.save

    def probing(*objs: Any, **kwargs: Any) -> Any:
        probe = threading.Thread(target=lambda: seen.append(not _try(app)))
        probe.start()
        probe.join(RACE_TIMEOUT)
        return save(*objs, **kwargs)

    with patch.object(app, "save", probing):
        command()
    assert seen, "the command saved nothing"
    return seen[0]


def _try(app: GrantLedger) -> bool:
    turn = app._turn  # the process's turn: what this test is about
    if turn.acquire(blocking=False):
        turn.release()
        return True
    return False


def test_commands_take_turns_only_after_a_collision(memory_app: GrantLedger) -> None:
    app = memory_app
    first, second, third, fourth = claims_of_different_smes(app, 4)
    assert not turn_held_while_saving(app, lambda: approve(app, first))

    gate = SaveGate(threading.Barrier(2, timeout=RACE_TIMEOUT))
    with gate.installed(app):
        outcomes = race([lambda: approve(app, second, 1), lambda: approve(app, third, 2)])
    assert [o.kind for o in outcomes] == ["ok", "ok"]
    assert gate.first_saves_refused == 1, "the two approvals did not collide"

    assert turn_held_while_saving(app, lambda: approve(app, fourth, 3))
