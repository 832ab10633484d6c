"""Every SQL read model equals an independent fold of the same events (docs/domain.md invariant 8).

The ledger's own state machine (tests/ledger/test_state_machine.py) drives the real
application with random grants, transfers, missions, SMEs, rates, claims, decisions,
payments, reversals and costs. This subclass adds the commands the read side must also
see (a claim taken through its whole life in one step, partial payments returned by the
bank, cost corrections; rates, SMEs and payments are corrected by the ledger machine's own
rules), projects the events in batches of seven and part way at random moments, and
compares what the read models show through their queries with ``tests.projections.fold``:
plain Python over the decoded events that shares no code with projections/.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, event, settings, target
from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule
from sqlalchemy import Connection, select

from ledger.errors import InvalidInput
from projections import tables as t
from projections.db import ReadDatabase
from projections.lists import list_transfers
from projections.projector import Projector
from projections.queries import (
    AsOf,
    AuditFilter,
    BudgetOverview,
    audit_trail,
    budget_overview,
    claim_detail,
    list_claims,
    mission_summaries,
    sme_summaries,
)
from tests.builders import officer
from tests.invariants import APPROVED, PARTLY_PAID, REJECTED, SUBMITTED, WITHDRAWN, check_claims_as_effective
from tests.ledger.test_state_machine import PAID_ON, REVERSED_ON, LedgerMachine, eur, minor_units, scaled
from tests.projections import fold_search
from tests.projections.fold import ZERO, Fold, Logged, Record, effective_dates, fold, read_log

#: Batch size of the machine's projector: small, so that batches end inside atomic saves.
SMALL_BATCH = 7
#: Business date of cost corrections (after the costs the ledger's machine records).
CORRECTED_ON = date(2023, 5, 20)
#: Differences shown in one failure message.
SHOWN = 25


def compare(what: str, got: Mapping[Any, Record], want: Mapping[Any, Record]) -> list[str]:
    """Each row missing on one side, and each field that differs, named in plain words."""
    found = [f"{what} {key}: missing from the read model; the fold has {want[key]}" for key in want if key not in got]
    found += [f"{what} {key}: in the read model ({got[key]}) but not in the fold" for key in got if key not in want]
    for key in want.keys() & got.keys():
        for name, expected in want[key].items():
            if got[key].get(name) != expected:
                found.append(f"{what} {key} {name}: read model {got[key].get(name)!r}, fold {expected!r}")
    return sorted(found)


def assert_no_differences(where: str, found: list[str]) -> None:
    shown = "\n".join(found[:SHOWN])
    more = f"\n... and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    assert not found, f"{where}: {len(found)} differences between the read models and the fold:\n{shown}{more}"


def lines_of(overview: BudgetOverview) -> dict[Any, Record]:
    return {
        (line.partner, line.category): {
            "allocated": line.allocated,
            "pending": line.pending,
            "committed": line.committed,
            "paid": line.paid,
            "spent": line.spent,
        }
        for line in overview.booked()  # as the events book them: indirect costs are computed
    }


def budget_differences(overview: BudgetOverview | None, expected: Fold) -> list[str]:
    if expected.grant is None or overview is None:
        if (expected.grant is None) != (overview is None):
            return [f"budget: read model {overview!r}, fold grant {expected.grant!r}"]
        return []
    header = {
        name: getattr(overview, name)
        for name in ("code", "title", "total", "eu_cap", "funding_rate", "sme_support_cap", "period_start")
    }
    header["period_end"] = overview.period_end
    want = {name: expected.grant[name] for name in header}
    return compare("grant", {"grant": header}, {"grant": want}) + compare(
        "budget line", lines_of(overview), expected.budget()
    )


def sme_differences(conn: Connection, expected: Fold) -> list[str]:
    cap = expected.grant["sme_support_cap"] if expected.grant else ZERO
    smes: dict[Any, Record] = {}
    figures: dict[Any, Record] = {}
    for sme in sme_summaries(conn):
        smes[sme.id] = {
            "legal_name": sme.legal_name,
            "country": sme.country,
            "identifier": sme.identifier,
            "claims_by_state": sme.claims_by_state,
            "overall_cap": sme.overall_cap,
        }
        for m in sme.missions:
            figures[(sme.id, m.mission_id)] = {
                "mission_code": m.mission_code,
                "cap": m.cap,
                "requested": m.requested,
                "approved": m.approved,
                "paid": m.paid,
            }
    want_smes = {
        sme_id: {
            "legal_name": sme["legal_name"],
            "country": sme["country"],
            "identifier": sme["identifier"],
            "claims_by_state": expected.claims_by_state(sme_id=sme_id),
            "overall_cap": cap,
        }
        for sme_id, sme in expected.smes.items()
    }
    registered = {row.id: {"registered_on": row.registered_on} for row in conn.execute(select(t.smes))}
    want_registered = {sme_id: {"registered_on": sme["registered_on"]} for sme_id, sme in expected.smes.items()}
    selected = {(r.sme_id, r.mission_id): {"selected_on": r.selected_on} for r in conn.execute(select(t.sme_missions))}
    want_selected = {key: {"selected_on": day} for key, day in expected.selected.items()}
    return [
        *compare("SME", smes, want_smes),
        *compare("SME", registered, want_registered),
        *compare("SME x mission", figures, expected.sme_missions()),
        *compare("SME x mission", selected, want_selected),
    ]


def mission_differences(conn: Connection, expected: Fold) -> list[str]:
    got: dict[Any, Record] = {}
    currencies: dict[Any, Record] = {}
    for m in mission_summaries(conn):
        got[m.id] = {
            "code": m.code,
            "country": m.country,
            "city": m.city,
            "start": m.start,
            "end": m.end,
            "partner": m.partner,
            "reimbursement_rate": m.reimbursement_rate,
            "cap_per_sme": m.cap_per_sme,
            "cost_types": m.cost_types,
            "smes_selected": m.smes_selected,
            "claims_by_state": m.claims_by_state,
            "requested": m.requested,
            "approved": m.approved,
            "paid": m.paid,
        }
        for currency, (claimed, accepted, accepted_eur) in m.by_currency.items():
            currencies[(m.id, currency)] = {"claimed": claimed, "accepted": accepted, "accepted_eur": accepted_eur}
    per_sme = expected.sme_missions()
    want: dict[Any, Record] = {}
    for mission_id, mission in expected.missions.items():
        mine = [figures for (_, m_id), figures in per_sme.items() if m_id == mission_id]
        want[mission_id] = {
            **mission,
            "smes_selected": len(mine),
            "claims_by_state": expected.claims_by_state(mission_id=mission_id),
            **{name: sum((figures[name] for figures in mine), ZERO) for name in ("requested", "approved", "paid")},
        }
    want_currencies = {
        key: {"claimed": claimed, "accepted": accepted, "accepted_eur": accepted_eur}
        for key, (claimed, accepted, accepted_eur) in expected.mission_currencies().items()
    }
    return [*compare("mission", got, want), *compare("mission currency", currencies, want_currencies)]


def claim_differences(conn: Connection, expected: Fold) -> list[str]:
    rows, count = list_claims(conn, limit=len(expected.claims) + 100)
    found = [] if count == len(rows) else [f"list_claims counts {count} claims but returns {len(rows)}"]
    order = sorted(expected.claims, key=lambda claim_id: (expected.claims[claim_id].position, claim_id))
    if [row.id for row in rows] != order:
        found.append(f"list_claims order {[row.id for row in rows]}, fold (by last position) {order}")
    want = {claim_id: claim.row() for claim_id, claim in expected.claims.items()}
    found += compare("claim", {row.id: dict(row._mapping) for row in rows}, want)
    lines: dict[Any, Record] = {}
    history: dict[Any, Record] = {}
    for claim_id in sorted(expected.claims.keys() | {row.id for row in rows}):
        detail = claim_detail(conn, claim_id)
        if detail is None:
            continue  # already reported as missing
        lines |= {(claim_id, line.line_no): dict(line._mapping) for line in detail.lines}
        history |= {(claim_id, row.version): dict(row._mapping) for row in detail.history}
    return [
        *found,
        *compare("claim line", lines, expected.claim_lines()),
        *compare("claim history", history, expected.claim_history()),
    ]


def table_differences(conn: Connection, expected: Fold) -> list[str]:
    """The read models that no query function wraps: partners, payments, costs, rates."""
    partners = {row.code: dict(row._mapping) for row in conn.execute(select(t.partners))}
    payments = {row.id: dict(row._mapping) for row in conn.execute(select(t.payments))}
    costs = {row.id: dict(row._mapping) for row in conn.execute(select(t.costs))}
    rates = {(row.currency, row.month): dict(row._mapping) for row in conn.execute(select(t.rates))}
    return [
        *compare("partner", partners, expected.partners),
        *compare("payment", payments, expected.payments),
        *compare("cost", costs, expected.costs),
        *compare("exchange rate", rates, expected.rates),
    ]


def list_and_search_differences(conn: Connection, log: list[Logged], position: int, expected: Fold) -> list[str]:
    """The transfers (as their list shows them, newest first) and the search read model."""
    rows, count = list_transfers(conn, limit=10_000)
    want = fold_search.transfers(log, stop=position)
    found = [] if count == len(want) else [f"list_transfers counts {count}, the fold made {len(want)} transfers"]
    order = sorted(want, key=lambda tid: (want[tid]["effective_date"], want[tid]["position"]), reverse=True)
    if [row.id for row in rows] != order:
        found.append(f"list_transfers order {[row.id for row in rows]}, fold (latest first) {order}")
    found += compare("transfer", {row.id: dict(row._mapping) for row in rows}, want)
    s = t.search.c
    indexed = {
        (row.kind, row.record_id, row.field, row.part): dict(row._mapping)
        for row in conn.execute(select(s.kind, s.record_id, s.field, s.part, s.value, s.amount))
    }
    return found + compare("search field", indexed, fold_search.search_rows(expected))


def audit_differences(conn: Connection, expected: Fold) -> list[str]:
    """The audit trail, read the way an auditor pages through it."""
    got: dict[Any, Record] = {}
    after = 0
    while page := audit_trail(conn, AuditFilter(after_position=after), limit=50):
        got |= {row["position"]: row for row in page}
        after = page[-1]["position"]
    return compare("audit row", got, expected.audit)


def check_read_models(db: ReadDatabase, log: list[Logged], where: str) -> None:
    """Every read model, read now, equals the fold of the events the projector has applied."""
    position = db.position()
    expected = fold(log, stop=position)
    with db.reading() as conn:
        found = [
            *budget_differences(budget_overview(conn), expected),
            *sme_differences(conn, expected),
            *mission_differences(conn, expected),
            *claim_differences(conn, expected),
            *table_differences(conn, expected),
            *list_and_search_differences(conn, log, position, expected),
            *audit_differences(conn, expected),
        ]
    assert_no_differences(f"{where} (read models at position {position})", found)


def check_budget_as_of(db: ReadDatabase, log: list[Logged], position: int) -> None:
    """The budget as recorded up to ``position`` equals the fold stopped there."""
    with db.reading() as conn:
        overview = budget_overview(conn, AsOf(position=position))
    assert_no_differences(f"budget as of position {position}", budget_differences(overview, fold(log, stop=position)))


def check_budget_as_of_every_position(db: ReadDatabase, log: list[Logged]) -> None:
    """The budget as recorded up to each position of the log (and before the first) equals
    the fold stopped there: one pass, folding one more event per position."""
    expected = Fold()
    with db.reading() as conn:
        for position, logged in [(0, None), *((logged.position, logged) for logged in log)]:
            if logged is not None:
                expected.apply(logged)
            found = budget_differences(budget_overview(conn, AsOf(position=position)), expected)
            assert_no_differences(f"budget as of position {position}", found)


def check_budget_effective(db: ReadDatabase, log: list[Logged], day: date) -> None:
    """The budget as effective on ``day`` equals the fold of the events dated on or before it."""
    with db.reading() as conn:
        overview = budget_overview(conn, AsOf(effective=day))
    assert_no_differences(f"budget as effective on {day}", budget_differences(overview, fold(log, effective_on=day)))


class ReadModelMachine(LedgerMachine):
    """The ledger's state machine, with its events projected into SQL read models.

    Proves that after any sequence of commands (refused ones included) every read model
    equals the independent fold: budget lines (allocated, pending, committed, paid, spent),
    SME x mission support, missions and their currencies, claims with their lines and
    history, payments, costs, rates and the audit trail; that the budget as of any earlier
    position, and as effective on any business date, equals the fold stopped there; and
    that neither batch boundaries (batches of seven, ending inside atomic saves), nor
    stopping part way and carrying on, nor projecting everything at once, changes a figure.
    """

    def __init__(self) -> None:
        super().__init__()
        self.read_db = ReadDatabase("sqlite://")
        self.projector = Projector(self.app, self.read_db, batch_size=SMALL_BATCH)

    def draw_claim(self, data: st.DataObject, any_claim: UUID, *states: str) -> UUID:
        """The claim the rule was given when it is in one of ``states`` (``claim_lifecycle``
        passes the one it just submitted), else usually one that is, sometimes the given one
        anyway. Unlike the ledger's machine, the choice hypothesis prefers lets the command
        succeed: here it is the recorded events, not the refusals, that matter."""
        if self.m.claims[any_claim].state in states:
            return any_claim
        ready = sorted(cid for cid, claim in self.m.claims.items() if claim.state in states)
        if ready and data.draw(st.integers(0, 9), label="claim in the right state?") < 9:
            return data.draw(st.sampled_from(ready), label=f"{' or '.join(states)} claim")
        return any_claim

    def invariants_hold(self) -> None:
        """Not an invariant here (this plain method replaces the inherited one): the ledger's
        own state machine checks docs/domain.md's invariants after every step; this one spends
        that time on more examples of the read side."""

    @initialize(target=LedgerMachine.missions, data=st.data())
    def sign_grant(self, data: st.DataObject) -> UUID:
        """The grant signed, rates recorded and a mission opened as in the ledger's machine
        (whose initialize rule this replaces), then at once a first claim taken through its
        life: so that (nearly) every example has decisions, payments and bank returns to
        project, not only the first few commands."""
        mission_id = super().sign_grant(data)
        assert isinstance(mission_id, UUID)
        self.claim_lifecycle(mission_id, data)
        return mission_id

    @rule(mission_id=LedgerMachine.missions, data=st.data())
    def claim_lifecycle(self, mission_id: UUID, data: st.DataObject) -> None:
        """A claim taken as far as its draws allow in one step, through the ledger machine's
        own rules (so its model predicts every outcome, refusals included): an SME registered,
        a claim submitted, then rejected or withdrawn, or approved and paid (often in part),
        the payment perhaps returned by the bank and the claim paid again.
        Left to single steps, most examples would record no decision at all."""
        if len(self.m.smes) < 5 and not data.draw(st.booleans(), label="skip registering an SME"):
            self.register_sme(mission_id, data)
        selected = sorted(sme_id for sme_id, sme in self.m.smes.items() if mission_id in sme.approved)
        if not selected:
            return
        claim_id = self.submit_claim(mission_id, data.draw(st.sampled_from(selected), label="SME"), data)
        if not isinstance(claim_id, UUID):
            return
        if data.draw(st.integers(0, 4), label="decision") == 4:
            self._close(claim_id, data, data.draw(st.sampled_from([REJECTED, WITHDRAWN]), label="closed as"))
            return
        self.approve_claim(claim_id, data)
        if self.m.claims[claim_id].state != APPROVED or data.draw(st.integers(0, 3), label="leave unpaid") == 3:
            return
        if data.draw(st.integers(0, 5), label="revoke first") == 0:
            self.revoke_approval(claim_id, data, data.draw(st.booleans(), label="and reject"))
            if self.m.claims[claim_id].state != SUBMITTED:
                return
            self.approve_claim(claim_id, data)
        for _ in range(3 - data.draw(st.integers(0, 2), label="fewer payments")):
            claim = self.m.claims[claim_id]
            if claim.state not in (APPROVED, PARTLY_PAID):
                return
            cents = data.draw(st.integers(1, minor_units(claim.outstanding, "EUR")), label="paid (cents)")
            payment_id = self._pay(claim_id, scaled(cents, 2))
            if data.draw(st.booleans(), label="bank return"):
                self._bank_return(payment_id)
        if self.m.claims[claim_id].state == PARTLY_PAID and data.draw(st.booleans(), label="settle short"):
            self.settle_short(claim_id, data)

    def _pay(self, claim_id: UUID, amount: Decimal) -> UUID:
        """Pay an approved or partly paid claim ``amount`` (at most what is outstanding), as the
        ledger's ``pay_claim`` rule does, but with the amount chosen here."""
        claim = self.m.claims[claim_id]
        payment_id = self.new_id()
        on = claim.dated(PAID_ON)
        self.attempt(
            "pay claim (lifecycle)",
            None,
            lambda: self.app.record_payment(
                actor=officer(claim.partner),
                payment_id=payment_id,
                claim_id=claim_id,
                amount=eur(amount),
                bank_reference=f"SEPA-{payment_id.int:06d}",
                on=on,
            ),
        )
        self.paid(claim_id, payment_id, amount, on)
        return payment_id

    def _bank_return(self, payment_id: UUID) -> None:
        """The bank returns a payment, as the ledger's ``reverse_payment`` rule has it, by the
        right officer: never refused."""
        payment = self.m.payments[payment_id]
        on = self.m.claims[payment.claim_id].dated(REVERSED_ON)
        self.attempt(
            "bank return (lifecycle)",
            None,
            lambda: self.app.reverse_payment(
                actor=officer(payment.partner), payment_id=payment_id, reason="bank return: IBAN closed", on=on
            ),
        )
        self.returned(payment_id, on)

    @precondition(lambda self: any(holder not in self.m.claims for holder in self.m.receipts.values()))
    @rule(data=st.data())
    def correct_cost(self, data: st.DataObject) -> None:
        """A partner's own cost corrected (0 cancels it): its line is charged the difference."""
        # The model's receipts held by anything but a claim are the costs' supporting documents.
        cost_ids = sorted(holder for holder in self.m.receipts.values() if holder not in self.m.claims)
        cost = self.app.cost(data.draw(st.sampled_from(cost_ids), label="cost"))
        amount = scaled(data.draw(st.integers(0, 300000), label="corrected cents"), 2)
        same = amount == cost.amount.amount
        self.attempt(
            "correct cost",
            InvalidInput if same else None,
            lambda: self.app.correct_cost(
                actor=officer(cost.partner), cost_id=cost.id, amount=eur(amount), reason="credit note", on=CORRECTED_ON
            ),
        )
        if not same:
            self.m.lines[(cost.partner, cost.category)].spent += amount - cost.eur.amount

    @precondition(lambda self: self.read_db.position() < self.max_id())
    @rule(data=st.data())
    def project_part_way(self, data: st.DataObject) -> None:
        """The projector catches up to a random position (not necessarily a save boundary):
        the read models then hold exactly the fold of the events up to there, and the budget
        as of a random earlier position is the fold stopped at that position."""
        stop = data.draw(st.integers(self.read_db.position() + 1, self.max_id()), label="project up to")
        self.projector.catch_up(stop=stop)
        assert self.read_db.position() == stop, f"projected to {self.read_db.position()}, asked for {stop}"
        log = read_log(self.app, stop=stop)
        check_read_models(self.read_db, log, f"projected part way, to {stop}")
        point = data.draw(st.integers(0, stop), label="budget as of")
        check_budget_as_of(self.read_db, log, point)

    @staticmethod
    def steer(log: list[Logged], whole: Fold) -> None:
        """Report what the example compared, and steer hypothesis toward histories with more
        kinds of events, and toward bank returns of partial payments (where the amount paid
        back differs from the amount committed again)."""
        for state, count in whole.claims_by_state().items():
            if count:
                event(f"compared: a {state} claim")
        partial_returns = 0
        for payment in whole.payments.values():
            if payment["reversed"]:
                partial = payment["amount"] < (whole.claims[payment["claim_id"]].approved or ZERO)
                partial_returns += partial
                event(f"compared: a reversed {'partial' if partial else 'full'} payment")
        target(len({logged.topic for logged in log}), label="kinds of events")
        target(min(partial_returns, 5), label="bank returns of partial payments")

    def teardown(self) -> None:
        """At the end: the incrementally fed read models, and fresh ones projected from the
        whole log in one go, both equal the fold of the whole log; the budget as of every
        position equals the fold stopped there (later events change no past figure); the
        budget as effective on each business date (and the day before the first) equals the
        fold of the events dated by then, and no claim's figures as effective on a date are
        negative; and the fold agrees with itself when its figures are derived the other way
        round."""
        try:
            log = read_log(self.app)
            self.projector.catch_up()
            check_read_models(self.read_db, log, "incremental projection, batches of 7")
            check_budget_as_of_every_position(self.read_db, log)
            days = effective_dates(log)
            for day in [days[0] - timedelta(days=1), *days] if days else []:
                check_budget_effective(self.read_db, log, day)
            if self.model is not None:
                check_claims_as_effective(self.app, self.model)
            whole = fold(log)
            assert_no_differences("the fold, derived two ways", whole.disagreements())
            self.steer(log, whole)
            fresh = ReadDatabase("sqlite://")
            try:
                Projector(self.app, fresh).catch_up()
                check_read_models(fresh, log, "fresh projection of the whole log in one batch")
            finally:
                fresh.close()
        finally:
            self.read_db.close()
            super().teardown()


TestReadModels = ReadModelMachine.TestCase
TestReadModels.__doc__ = ReadModelMachine.__doc__
TestReadModels.settings = settings(
    # Fewer examples than the ledger's own machine (ci: 60 of its 100), with the profile's step
    # count: each example projects and compares every read model several times.
    max_examples=max(5, (settings.default.max_examples if settings.default else 100) * 3 // 5),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
