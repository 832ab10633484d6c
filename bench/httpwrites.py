"""Section 4's approvals: ``POST /api/v1/claims/{id}/approve`` by POINTEX's officer, against the
Application's own ``approve_claim`` on a copy of the same store (bench.appwrites).

The claims are seeded before the server starts, through the Application on the store the server
will run on (and the baseline's copy is made from it): new claims on the Japan mission, each of
a few dozen yen, spread over the SMEs with at least ROOM left under the mission's cap per SME, so that
approving thousands of them in full stays far under the caps and the FSTP line, as submitted by
the POINTEX officer. Every request approves the next one in full
(each claim once: the phases use the ids in order, the open-loop phase after the closed one).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import uuid
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from bench.options import Options
from bench.server import REPO, STOP_TIMEOUT
from ledger.actors import Actor
from ledger.application import GrantLedger
from ledger.claim import ExpenseLine
from ledger.money import Money

#: Claims seeded for approval: enough for both HTTP phases and the baseline at the rates this
#: machine gives (a phase that runs out counts the requests it could not send as errors).
SEEDED = {True: 1_500, False: 6_000}
REASON = "bench"
#: An SME takes the seeded claims only with at least this much room left under the mission's cap.
ROOM = Decimal("400")
#: The most one seeded claim can be approved for, in EUR: 88 yen at any yen rate above 110 per
#: euro, reimbursed at the mission's 70%.
MOST_PER_CLAIM = Decimal("0.56")


def roomy_smes(app: GrantLedger, mission_id: UUID, smes: list[UUID]) -> list[UUID]:
    """The SMEs of ``smes`` with at least ROOM left under the mission's cap per SME."""
    cap = app.mission(mission_id).cap_per_sme
    return [s for s in smes if (cap - app.sme(s).approved_for(mission_id)).amount >= ROOM]


def seed_claims(app: GrantLedger, officer: Actor, template: dict[str, Any], count: int) -> list[str]:
    """Submit ``count`` small claims (the template of bench.http.seed) through the Application."""
    mission, on = UUID(template["mission_id"]), date.fromisoformat(template["on"])
    smes = roomy_smes(app, mission, [UUID(s) for s in template["sme_ids"]])
    if count * MOST_PER_CLAIM > ROOM * len(smes):
        raise RuntimeError(f"{len(smes)} SMEs with EUR {ROOM} of room each cannot take {count} approvals")
    spent, currency = date.fromisoformat(template["expense_date"]), template["currency"]
    ids = []
    for n in range(count):
        claim_id = uuid.uuid4()
        app.submit_claim(
            actor=officer,
            claim_id=claim_id,
            sme_id=smes[n % len(smes)],
            mission_id=mission,
            lines=[
                ExpenseLine("TRAVEL", spent, Money(Decimal(20 + n % 20), currency), f"APPROVE-{n:07d}-T", "travel"),
                ExpenseLine(
                    "ACCOMMODATION", spent, Money(Decimal(30 + n % 20), currency), f"APPROVE-{n:07d}-H", "stay"
                ),
            ],
            on=on,
        )
        ids.append(str(claim_id))
    return ids


def approval(prefix: str, ids: list[str], on: str) -> dict[str, Any]:
    """The loadgen request of a phase approving ``ids`` in order, in full, on ``on``."""
    return {
        "method": "POST",
        "path": f"{prefix}/claims/{{id}}/approve",
        "paths": [f"{prefix}/claims/{i}/approve" for i in ids],
        "body": {"on": on, "reason": REASON},
    }


def application_rate(options: Options, officer: Actor, work: dict[str, Any], command: str) -> dict[str, Any]:
    """A write's baseline: ``command`` (``work``: the claims' template to submit, or the claims to
    approve) through the Application itself, on a copy of the server's store, in a process of its
    own (bench.appwrites), before the server starts."""
    source = options.workdir / "http-events.db"
    copy = options.workdir / "http-app.db"
    copy.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    request = json.dumps({"officer": officer.id, "partner": officer.partner, **work})
    duration = "2" if options.quick else "10"
    done = subprocess.run(  # noqa: S603 - our own module, with paths we made
        [sys.executable, "-m", "bench.appwrites", str(copy), duration],
        cwd=REPO,
        input=request,
        capture_output=True,
        text=True,
        check=False,
        timeout=STOP_TIMEOUT + 120,
    )
    if done.returncode:
        raise RuntimeError(f"bench.appwrites failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    ran_out = " (RAN OUT OF CLAIMS: seed more)" if result.get("ran_out") else ""
    options.say(f"Application {command}: {result['commands'] / result['seconds']:,.0f} commands/s{ran_out}")
    return result
