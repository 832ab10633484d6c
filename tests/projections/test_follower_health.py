"""The service's follower stays honest while it is idle or the event store blips: a look at the
log that fails is a failure the batch records (writers then apply their own events instead of
waiting out the follower's back-off), and a quiet follower still runs a batch every poll
interval, so read models doctored behind the hash chain are noticed without a write."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from eventsourcing.persistence import OperationalError
from sqlalchemy import update

from ledger.storage import open_ledger
from projections import tables as t
from projections.db import ReadDatabase, read_url_for
from projections.projector import ProjectionLagging, Projector
from tests.builders import eur_line, open_mission, selected_sme, sign_alliance, submit

#: Looks at the log that fail, one for each write below.
BLIP = 3


def test_writes_are_read_at_once_while_the_followers_looks_at_the_log_fail(tmp_path: Path) -> None:
    """A follower woken by a writer looks at the log first; when that look fails (the event
    store's connection dropped for a moment), it runs the batch anyway, which applies the events
    or records what is wrong. It used to back off for a poll interval instead, failure unrecorded,
    while the writer waited on it for its own write."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    app = open_ledger(url)
    db = ReadDatabase(read_url_for(url))
    stopping = threading.Event()
    follower: threading.Thread | None = None
    try:
        sign_alliance(app)
        mission = open_mission(app)
        sme = selected_sme(app, mission)
        projector = Projector(app, db)
        projector.catch_up()
        real = app.recorder.max_notification_id
        failed = [0]

        def flaky() -> int | None:
            if threading.current_thread() is follower:
                failed[0] += 1
                raise OperationalError("server closed the connection unexpectedly")
            return real()

        app.recorder.max_notification_id = flaky  # type: ignore[method-assign]
        # A poll interval far longer than the waits: only the writers' wakes make the follower look.
        follower = threading.Thread(target=projector.follow, args=(stopping, 60.0), daemon=True)
        follower.start()
        time.sleep(0.2)  # its first batch (always due), then idle
        for n in range(BLIP):
            submit(app, mission, sme, eur_line("100.00", receipt=f"R-BLIP-{n}"))
            try:
                projector.wait_for(app.position_written(), timeout=2.0)
            except ProjectionLagging:
                pytest.fail(f"write {n + 1} was not shown within 2 s (failure recorded: {projector.failure})")
        assert failed[0] >= BLIP, "the follower was never asked to look: the test did not test the blip"
        assert db.position() == real()
    finally:
        stopping.set()
        if follower is not None:
            follower.join(30)
        app.close()
        db.close()


def test_an_idle_follower_notices_read_models_moved_behind_the_chain(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    app = open_ledger(url)
    db = ReadDatabase(read_url_for(url))
    stopping = threading.Event()
    projector = Projector(app, db)
    follower = threading.Thread(target=projector.follow, args=(stopping, 0.05), daemon=True)
    try:
        sign_alliance(app)
        mission = open_mission(app)
        selected_sme(app, mission)
        projector.catch_up()
        follower.start()
        time.sleep(0.3)
        assert projector.failure is None
        with db.writing() as conn:
            conn.execute(update(t.tracking).where(t.tracking.c.name == "read_models").values(position=3))
        deadline = time.monotonic() + 3
        while projector.failure is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert projector.failure is not None, "the doctored read models went unnoticed by the idle follower"
    finally:
        stopping.set()
        follower.join(30)
        app.close()
        db.close()
