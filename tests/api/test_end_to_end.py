"""End to end: the real ``grantledger serve`` process, driven over HTTP, stopped and started again.

One Japan mission story is told through the API exactly as users would: tokens made with the
command line, the EU-ALLIANCE grant signed, the mission opened, an SME registered and selected,
the month's JPY rate recorded, a claim in yen submitted, partly approved, paid, and the payment
reversed by the bank. Every EUR figure is checked against a value computed by hand from the
documented rule (EUR = JPY / rate, half up to the cent per line; then x 0.70, half up), with
amounts chosen so that half-up and banker's rounding give different answers. The server is then
stopped and started again on the same SQLite files and must show the same state.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import bench.server
from bench.server import REPO, clean_env
from tests.builders import PARTNERS, alliance_budget

JSON = dict[str, Any]

# --- the figures, computed by hand -----------------------------------------------------------
# JPY monthly rate for March 2023 (units of JPY one euro buys).
JPY_RATE = "144.00"
# Line 1, flight: 166770 / 144 = 1158.125 exactly -> 1158.13 half up (banker's would give 1158.12).
# Line 2, hotel: 96000 / 144 = 666.666... -> 666.67 claimed; 80000 accepted / 144 = 555.555... -> 555.56.
# Line 3, fee: 44994 / 144 = 312.4583... -> 312.46.
FLIGHT_JPY, HOTEL_JPY, HOTEL_ACCEPTED_JPY, FEE_JPY = "166770", "96000", "80000", "44994"
# Requested: (1158.13 + 666.67 + 312.46) = 2137.26 x 0.70 = 1496.082 -> 1496.08 (under the 2000.00 cap).
REQUESTED_EUR = "1496.08"
# Accepted: (1158.13 + 555.56 + 312.46) = 2026.15 x 0.70 = 1418.305 -> 1418.31 half up (banker's: 1418.30).
ELIGIBLE_EUR = "2026.15"
APPROVED_EUR = "1418.31"
# POINTEX's FSTP line (tests/builders.alliance_budget): 20000.00; 20000.00 - 1418.31 = 18581.69.
FSTP_ALLOCATED = "20000.00"
FSTP_REMAINING = "18581.69"


# --- the server process ----------------------------------------------------------------------
def cli(database_url: str, *args: str) -> str:
    """Run ``grantledger`` (as ``python -m api.cli``) and return its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "--database-url", database_url, *args],
        cwd=REPO,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"grantledger {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def make_token(database_url: str, role: str, name: str, partner: str | None = None) -> str:
    """A token made by ``grantledger token create``: the last line of its standard output."""
    extra = ["--partner", partner] if partner else []
    token = cli(database_url, "token", "create", "--role", role, "--name", name, *extra).strip().splitlines()[-1]
    assert token.startswith("glt_")
    return token


class Server(bench.server.Server):
    """The service in a process of its own (bench/server.py), with an HTTP client per token."""

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30.0)


def assert_stopped_gracefully(exit_code: int | None, log: Path) -> None:
    """Uvicorn ran the app's shutdown, then exited 0 or re-raised the SIGTERM it handled (as
    recent uvicorn versions do, so that the exit status tells a supervisor why it stopped)."""
    text = log.read_text(errors="replace")
    assert exit_code in (0, -signal.SIGTERM), f"the server stopped with {exit_code}:\n{text}"
    assert "Application shutdown complete." in text, text


# --- the story -------------------------------------------------------------------------------
def ok(response: httpx.Response, status: int = 200) -> JSON:
    """The JSON body of a response that must have ``status`` (with the body in the message if not)."""
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    body: JSON = response.json()
    return body


def ok_list(response: httpx.Response) -> list[JSON]:
    """The JSON list a 200 response must carry."""
    assert response.status_code == 200, f"{response.request.method} {response.request.url}: {response.text}"
    body = response.json()
    assert isinstance(body, list)
    return body


def eur(amount: str) -> JSON:
    return {"amount": amount, "currency": "EUR"}


def jpy(amount: str) -> JSON:
    return {"amount": amount, "currency": "JPY"}


def fstp_line(budget: JSON, partner: str = "POINTEX") -> JSON:
    lines: list[JSON] = [x for x in budget["lines"] if x["partner"] == partner and x["category"] == "FSTP"]
    assert len(lines) == 1, lines
    return lines[0]


def figures(line: JSON) -> dict[str, str]:
    """A budget line's EUR figures as plain strings (and a check that they are all in EUR)."""
    names = ("allocated", "pending", "committed", "paid", "own_costs", "remaining")
    assert {line[name]["currency"] for name in names} == {"EUR"}
    return {name: line[name]["amount"] for name in names}


@dataclass
class Tokens:
    coordinator: str
    officer: str
    other_officer: str
    auditor: str


@dataclass
class Story:
    """What the API answered at each step, and the state read back at the end."""

    tokens: Tokens
    signed: JSON
    mission: JSON
    sme: JSON
    rate: JSON
    submitted: JSON
    budget_submitted: JSON
    refused_other_partner: httpx.Response
    approved: JSON
    budget_approved: JSON
    payment: JSON
    budget_paid: JSON
    reversal: JSON
    budget_reversed: JSON
    final: State


@dataclass
class State:
    """What a restart must leave unchanged."""

    budget: JSON
    claim: JSON
    payment: JSON
    audit: list[JSON]


def grant_body() -> JSON:
    budget = {
        partner: {category: {"amount": str(m.amount), "currency": m.currency} for category, m in lines.items()}
        for partner, lines in alliance_budget().items()
    }
    return {
        "code": "EU-ALLIANCE",
        "title": "European Alliance for International Business development",
        "total": eur("500000.00"),
        "funding_rate": "0.90",
        "eu_cap": eur("450000.00"),
        "period_start": "2021-09-01",
        "period_end": "2023-08-31",
        "coordinator": "TECHTERA",
        "partners": [{"code": p.code, "name": p.name, "country": p.country} for p in PARTNERS],
        "budget": budget,
        "decision_ref": "GA-101038166",
        "signed_on": "2021-09-01",
    }


def read_state(server: Server, token: str, claim_id: str, payment_id: str) -> State:
    with server.client(token) as api:
        return State(
            budget=ok(api.get("/api/v1/budget")),
            claim=ok(api.get(f"/api/v1/claims/{claim_id}")),
            payment=ok(api.get(f"/api/v1/payments/{payment_id}")),
            audit=ok_list(api.get("/api/v1/audit/events", params={"limit": "1000"})),
        )


def tell(server: Server, tokens: Tokens) -> Story:
    """Drive the whole mission story over HTTP; return every answer."""
    with server.client(tokens.coordinator) as coordinator, server.client(tokens.officer) as officer:
        signed = ok(coordinator.post("/api/v1/grant", json=grant_body()), 201)
        mission = ok(
            coordinator.post(
                "/api/v1/missions",
                json={
                    "code": "JPN-2023",
                    "country": "JP",
                    "city": "Tokyo",
                    "start": "2023-03-15",
                    "end": "2023-03-18",
                    "responsible_partner": "POINTEX",
                    "reimbursement_rate": "0.70",
                    "cap_per_sme": eur("2000.00"),
                    "eligible_cost_types": ["TRAVEL", "ACCOMMODATION", "REGISTRATION_FEE", "STAND"],
                    "on": "2022-12-01",
                },
            ),
            201,
        )
        mission_id = mission["data"]["id"]
        sme = ok(
            officer.post(
                "/api/v1/smes",
                json={
                    "legal_name": "Tessuti Avanzati S.r.l.",
                    "country": "IT",
                    "identifier": "IT01234567890",
                    "on": "2022-12-05",
                },
            ),
            201,
        )
        sme_id = sme["data"]["id"]
        selection = {"sme_id": sme_id, "on": "2022-12-06"}
        sme = ok(officer.post(f"/api/v1/missions/{mission_id}/selections", json=selection), 201)
        march = {"currency": "JPY", "month": "2023-03", "rate": JPY_RATE}
        rate = ok(officer.post("/api/v1/exchange-rates", json=march), 201)
        submitted = ok(
            officer.post(
                "/api/v1/claims",
                json={
                    "sme_id": sme_id,
                    "mission_id": mission_id,
                    "lines": [
                        {
                            "cost_type": "TRAVEL",
                            "expense_date": "2023-03-14",
                            "amount": jpy(FLIGHT_JPY),
                            "receipt_ref": "JAL-7781",
                            "description": "flight Milan-Tokyo",
                        },
                        {
                            "cost_type": "ACCOMMODATION",
                            "expense_date": "2023-03-18",
                            "amount": jpy(HOTEL_JPY),
                            "receipt_ref": "HOTEL-TKY-4410",
                            "description": "hotel, four nights",
                        },
                        {
                            "cost_type": "REGISTRATION_FEE",
                            "expense_date": "2023-03-15",
                            "amount": jpy(FEE_JPY),
                            "receipt_ref": "DSEI-JP-0193",
                            "description": "DSEI Japan registration",
                        },
                    ],
                    "on": "2023-04-02",
                },
            ),
            201,
        )
        claim_id = submitted["data"]["id"]
        budget_submitted = ok(officer.get("/api/v1/budget"))
        approval = {
            "on": "2023-04-10",
            "reason": "receipts checked",
            "decisions": [{"line_no": 2, "accepted": jpy(HOTEL_ACCEPTED_JPY), "reason": "minibar is not eligible"}],
        }
        with server.client(tokens.other_officer) as other:
            refused = other.post(f"/api/v1/claims/{claim_id}/approve", json=approval)
        approved = ok(officer.post(f"/api/v1/claims/{claim_id}/approve", json=approval))
        budget_approved = ok(officer.get("/api/v1/budget"))
        payment = ok(
            officer.post(
                f"/api/v1/claims/{claim_id}/payments",
                json={"amount": eur(APPROVED_EUR), "bank_reference": "SEPA-2023-0412", "on": "2023-04-20"},
            ),
            201,
        )
        payment_id = payment["data"]["id"]
        budget_paid = ok(officer.get("/api/v1/budget"))
        reversal = ok(
            officer.post(
                f"/api/v1/payments/{payment_id}/reversal",
                json={"reason": "bank return: account closed", "on": "2023-05-02"},
            )
        )
        budget_reversed = ok(officer.get("/api/v1/budget"))
    return Story(
        tokens=tokens,
        signed=signed,
        mission=mission,
        sme=sme,
        rate=rate,
        submitted=submitted,
        budget_submitted=budget_submitted,
        refused_other_partner=refused,
        approved=approved,
        budget_approved=budget_approved,
        payment=payment,
        budget_paid=budget_paid,
        reversal=reversal,
        budget_reversed=budget_reversed,
        final=read_state(server, tokens.auditor, claim_id, payment_id),
    )


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'ledger.db'}"


@pytest.fixture(scope="module")
def cli_tokens(database_url: str) -> Tokens:
    """Tokens made with the command line before any server runs."""
    return Tokens(
        coordinator=make_token(database_url, "coordinator", "claire.coordinator", "TECHTERA"),
        officer=make_token(database_url, "officer", "paola.pointex", "POINTEX"),
        other_officer=make_token(database_url, "officer", "nico.ntt", "NTT"),
        auditor=make_token(database_url, "auditor", "arthur.auditor"),
    )


@pytest.fixture(scope="module")
def story(database_url: str, cli_tokens: Tokens, tmp_path_factory: pytest.TempPathFactory) -> Story:
    """The story told to a freshly started server, which is stopped afterwards (whatever happens)."""
    log = tmp_path_factory.mktemp("e2e-log") / "server-1.log"
    with Server(database_url, log) as server:
        told = tell(server, cli_tokens)
        exit_code = server.stop()
    assert_stopped_gracefully(exit_code, log)
    return told


class TestMissionStory:
    """The mission story over HTTP, step by step, with EUR figures computed by hand."""

    def test_the_grant_is_signed_with_six_partners_and_500000_eur(self, story: Story) -> None:
        """Signing opens every partner's lines; they sum exactly to the total, nothing is used yet."""
        budget = story.signed["data"]
        assert budget["code"] == "EU-ALLIANCE"
        assert budget["total"] == eur("500000.00")
        assert budget["eu_cap"] == eur("450000.00")
        assert {line["partner"] for line in budget["lines"]} == {p.code for p in PARTNERS}
        assert figures(budget["totals"]) == {
            "allocated": "500000.00",
            "pending": "0.00",
            "committed": "0.00",
            "paid": "0.00",
            "own_costs": "0.00",
            "remaining": "500000.00",
        }

    def test_mission_sme_and_rate_are_recorded(self, story: Story) -> None:
        """The mission keeps its rate, cap and responsible partner; the SME is selected for it; the
        rate is stored as the exact decimal string sent."""
        mission = story.mission["data"]
        assert (mission["code"], mission["responsible_partner"]) == ("JPN-2023", "POINTEX")
        assert mission["reimbursement_rate"] == "0.70"
        assert mission["cap_per_sme"] == eur("2000.00")
        assert [m["mission_code"] for m in story.sme["data"]["missions"]] == ["JPN-2023"]
        rate = story.rate["data"]
        assert rate == {
            "id": rate["id"],
            "currency": "JPY",
            "month": "2023-03",
            "rate": JPY_RATE,
            "source": "InforEuro",
            "history_url": f"/api/v1/audit/entities/{rate['id']}",
        }

    def test_a_submitted_claim_is_pending_for_its_requested_eur(self, story: Story) -> None:
        """Requested = 0.70 x sum of lines each converted JPY -> EUR half up; pending on POINTEX FSTP."""
        claim = story.submitted["data"]
        assert claim["state"] == "submitted"
        assert claim["partner"] == "POINTEX"
        assert claim["requested"] == eur(REQUESTED_EUR)
        assert figures(fstp_line(story.budget_submitted)) == {
            "allocated": FSTP_ALLOCATED,
            "pending": REQUESTED_EUR,
            "committed": "0.00",
            "paid": "0.00",
            "own_costs": "0.00",
            "remaining": FSTP_ALLOCATED,
        }

    def test_an_officer_of_another_partner_cannot_approve(self, story: Story) -> None:
        """NTT's officer is refused (403 problem details) on a claim charged to POINTEX."""
        refused = story.refused_other_partner
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")

    def test_partial_approval_converts_each_line_half_up_then_applies_the_rate_half_up(self, story: Story) -> None:
        """Per-line EUR at the recorded rate, the per-line reason kept, and approved = 0.70 x eligible,
        half up (1418.305 -> 1418.31), committed on POINTEX's FSTP line."""
        claim = story.approved["data"]
        assert claim["state"] == "approved"
        assert claim["eligible_eur"] == eur(ELIGIBLE_EUR)
        assert claim["approved"] == eur(APPROVED_EUR)
        lines = {line["line_no"]: line for line in claim["lines"]}
        assert [lines[n]["eur"] for n in (1, 2, 3)] == [eur("1158.13"), eur("555.56"), eur("312.46")]
        assert lines[2]["accepted"] == jpy(HOTEL_ACCEPTED_JPY)
        assert lines[2]["reason"] == "minibar is not eligible"
        assert {(line["rate"], line["rate_month"], line["rate_source"]) for line in lines.values()} == {
            (JPY_RATE, "2023-03", "InforEuro")
        }
        assert figures(fstp_line(story.budget_approved)) == {
            "allocated": FSTP_ALLOCATED,
            "pending": "0.00",
            "committed": APPROVED_EUR,
            "paid": "0.00",
            "own_costs": "0.00",
            "remaining": FSTP_REMAINING,
        }

    def test_payment_moves_the_amount_from_committed_to_paid(self, story: Story) -> None:
        """After the payment the claim is paid and the FSTP line shows it paid, no longer committed."""
        payment = story.payment["data"]
        assert (payment["amount"], payment["reversed"]) == (eur(APPROVED_EUR), False)
        assert figures(fstp_line(story.budget_paid)) == {
            "allocated": FSTP_ALLOCATED,
            "pending": "0.00",
            "committed": "0.00",
            "paid": APPROVED_EUR,
            "own_costs": "0.00",
            "remaining": FSTP_REMAINING,
        }

    def test_reversal_makes_the_claim_approved_unpaid_and_committed_again(self, story: Story) -> None:
        """A bank return: the payment is marked reversed with its reason; the amount is committed again."""
        reversal = story.reversal["data"]
        assert (reversal["reversed"], reversal["reversal_reason"]) == (True, "bank return: account closed")
        assert figures(fstp_line(story.budget_reversed)) == {
            "allocated": FSTP_ALLOCATED,
            "pending": "0.00",
            "committed": APPROVED_EUR,
            "paid": "0.00",
            "own_costs": "0.00",
            "remaining": FSTP_REMAINING,
        }
        claim = story.final.claim
        assert (claim["state"], claim["approved"], claim["paid"]) == ("approved", eur(APPROVED_EUR), eur("0.00"))

    def test_the_claim_history_names_every_step_with_its_actor_and_business_date(self, story: Story) -> None:
        """Four events in order, each by the POINTEX officer on the date it took effect, with the
        EUR amount it moved and, for decisions, why."""
        history = story.final.claim["history"]
        assert [(h["event_type"], h["effective_date"], h["actor_id"]) for h in history] == [
            ("Submitted", "2023-04-02", "paola.pointex"),
            ("Approved", "2023-04-10", "paola.pointex"),
            ("ReimbursementPaid", "2023-04-20", "paola.pointex"),
            ("PaymentReversed", "2023-05-02", "paola.pointex"),
        ]
        assert [h["version"] for h in history] == sorted(h["version"] for h in history)
        # Requested, approved, paid, and committed again by the reversal.
        assert [h["amount"] for h in history] == [eur(REQUESTED_EUR)] + [eur(APPROVED_EUR)] * 3
        assert history[1]["reason"] == "receipts checked"
        assert history[3]["reason"] == "bank return: account closed"


class TestRestart:
    """Stopping the server and starting it again on the same files changes nothing."""

    def test_a_restarted_server_shows_the_same_budget_claim_payment_and_audit_trail(
        self, story: Story, database_url: str, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        """Budget, claim with its lines and history, payment and every audit event read back identical
        from a new process on the same SQLite files (nothing was lost or replayed twice)."""
        before = story.final
        claim_id, payment_id = before.claim["id"], before.payment["id"]
        log = tmp_path_factory.mktemp("e2e-log") / "server-2.log"
        with Server(database_url, log) as server:
            after = read_state(server, story.tokens.auditor, claim_id, payment_id)
            exit_code = server.stop()
        assert_stopped_gracefully(exit_code, log)
        assert len(after.audit) == len(before.audit) > 0
        assert after.audit == before.audit
        assert after.budget == before.budget
        assert after.claim == before.claim
        assert after.payment == before.payment
        assert figures(fstp_line(after.budget))["committed"] == APPROVED_EUR


class TestConcurrentReads:
    """Many readers at once are all answered: none waits for a database connection that
    another waiting reader holds."""

    def test_thirty_two_simultaneous_reads_all_answer_with_the_same_figures(
        self, story: Story, database_url: str, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        """32 clients ask for the budget and the claims at the same moment (more than the read
        connection pool holds). Each read used to hold a connection while waiting for a second
        one for its token, and 16 such readers starved the pool: 500s after 30 s, then a
        stalled server. Every answer must now be 200 within seconds, with the same budget."""
        log = tmp_path_factory.mktemp("e2e-log") / "server-concurrent.log"
        token = story.tokens.coordinator
        start = threading.Barrier(32)

        def read(n: int) -> httpx.Response:
            with httpx.Client(
                base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=15.0
            ) as client:
                start.wait(timeout=15)
                return client.get("/api/v1/budget" if n % 2 == 0 else "/api/v1/claims")

        with Server(database_url, log) as server, ThreadPoolExecutor(max_workers=32) as pool:
            answers = list(pool.map(read, range(32)))
        assert [a.status_code for a in answers] == [200] * 32, log.read_text(errors="replace")[-2000:]
        budgets = [a.json() for n, a in enumerate(answers) if n % 2 == 0]
        assert all(budget == story.final.budget for budget in budgets)
