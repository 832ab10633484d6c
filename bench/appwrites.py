"""The baseline of the HTTP write figures: the Application's own ``submit_claim`` on a copy of the
same store, with claims shaped as the load generator's (bench.loadgen.claim_bodies), one after
another in one thread for a fixed time, in a process of its own.

``python -m bench.appwrites STORE DURATION`` reads the claims' template (JSON) on stdin and prints
``{"commands": N, "seconds": S}``.
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


def main(argv: list[str]) -> int:
    match argv:
        case [store, duration]:
            request = json.loads(sys.stdin.read())
            officer = Actor.officer(request["officer"], request["partner"])
            print(json.dumps(submit_for(store, request["claims"], float(duration), officer)))
            return 0
        case _:
            print(__doc__, file=sys.stderr)
            return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
