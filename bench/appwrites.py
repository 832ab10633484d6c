"""The baselines of the HTTP write figures: the Application's own ``submit_claim`` on a copy of the
same store, with claims shaped as the load generator's (bench.loadgen.claim_bodies), or its own
``approve_claim`` of the claims the benchmark seeded for approval (bench.httpwrites), one after
another in one thread for a fixed time, in a process of its own.

``python -m bench.appwrites STORE DURATION`` reads the request (JSON) on stdin: the officer and
their partner, and either ``claims`` (the claims' template: submit) or ``approve`` (the claims'
ids and the approval date: approve each, in order, until the time is up or none is left). It
prints ``{"commands": N, "seconds": S}`` (and ``"ran_out": true`` if the claims ran out first).
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger.actors import Actor
from ledger.claim import ExpenseLine
from ledger.money import Money


def submit_for(store: str, template: dict[str, Any], duration: float, officer: Actor) -> dict[str, float]:
    """Submit new claims for ``duration`` seconds; how many and how long it took."""
    from ledger.storage import open_ledger

    app = open_ledger(f"sqlite:///{store}", create=False)
    smes = [UUID(s) for s in template["sme_ids"]]
    mission, on = UUID(template["mission_id"]), date.fromisoformat(template["on"])
    spent, day = date.fromisoformat(template["expense_date"]), template["currency"]

    def lines(n: int) -> list[ExpenseLine]:
        return [
            ExpenseLine("TRAVEL", spent, Money(Decimal(20_000 + n % 5_000), day), f"APP-{n:07d}-T", "travel"),
            ExpenseLine("ACCOMMODATION", spent, Money(Decimal(30_000 + n % 7_000), day), f"APP-{n:07d}-H", "stay"),
        ]

    try:
        count, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < duration:
            app.submit_claim(
                actor=officer,
                claim_id=uuid.uuid4(),
                sme_id=smes[count % len(smes)],
                mission_id=mission,
                lines=lines(count),
                on=on,
            )
            count += 1
        return {"commands": count, "seconds": elapsed}
    finally:
        app.close()


def approve_for(store: str, approve: dict[str, Any], duration: float, officer: Actor) -> dict[str, Any]:
    """Approve the given claims in full, in order, for ``duration`` seconds or until none is left."""
    from ledger.storage import open_ledger

    app = open_ledger(f"sqlite:///{store}", create=False)
    ids, on = [UUID(i) for i in approve["ids"]], date.fromisoformat(approve["on"])
    try:
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < duration and count < len(ids):
            app.approve_claim(actor=officer, claim_id=ids[count], on=on, reason="bench")
            count += 1
        result: dict[str, Any] = {"commands": count, "seconds": time.perf_counter() - started}
        if count == len(ids):
            result["ran_out"] = True
        return result
    finally:
        app.close()


def main(argv: list[str]) -> int:
    match argv:
        case [store, duration]:
            request = json.loads(sys.stdin.read())
            officer = Actor.officer(request["officer"], request["partner"])
            if "approve" in request:
                print(json.dumps(approve_for(store, request["approve"], float(duration), officer)))
            else:
                print(json.dumps(submit_for(store, request["claims"], float(duration), officer)))
            return 0
        case _:
            print(__doc__, file=sys.stderr)
            return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
