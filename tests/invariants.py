"""The ledger's invariants (docs/domain.md), each one call over a GrantLedger and a plain model.

A test keeps a ``LedgerModel`` (plain Python: dicts of Decimals, no ledger arithmetic)
beside the real application and calls ``check_all(app, model)`` after every command. Each
check reads the application through its public queries; some check a rule that must hold
whatever happened, the others that the application agrees with the model. The numbers in
the names follow the list of invariants in docs/domain.md.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from uuid import UUID

from ledger.application import GrantLedger
from ledger.base import LedgerAggregate
from ledger.claim import Claim
from ledger.grant import Category, eu_contribution
from ledger.money import Money
from ledger.receipts import ReceiptIndex, receipt_id

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
FSTP = "FSTP"
#: Claim states, spelt as the ledger reports them.
SUBMITTED, APPROVED, PAID, REJECTED, WITHDRAWN = "submitted", "approved", "paid", "rejected", "withdrawn"
PARTLY_PAID = "partly_paid"
#: A claim in one of these states holds its receipts (rejected and withdrawn claims release them).
LIVE_STATES = frozenset({SUBMITTED, APPROVED, PARTLY_PAID, PAID})


def normalised(reference: str) -> str:
    """A receipt reference or SME identifier as the ledger compares it (docs/domain.md): NFKC,
    case-folded, with whitespace, dashes and the separators . , ; : / \\ _ ' removed."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", reference).casefold())
    return "".join(c for c in folded if not (c.isspace() or c in ".,;:/\\_'" or unicodedata.category(c) == "Pd"))


def half_up(value: Decimal) -> Decimal:
    """Round half up to the cent, at a precision no realistic amount can exhaust."""
    with localcontext(Context(prec=60)):
        return value.quantize(CENT, ROUND_HALF_UP)


@dataclass
class LineModel:
    """One partner x category budget line, in EUR."""

    allocated: Decimal
    committed: Decimal = ZERO
    paid: Decimal = ZERO
    spent: Decimal = ZERO


@dataclass
class MissionModel:
    code: str
    partner: str
    rate: Decimal
    cap: Decimal
    cost_types: tuple[str, ...]


@dataclass
class SmeModel:
    identifier: str
    #: Approved support per mission it is selected for (selection opens the entry at zero).
    approved: dict[UUID, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum(self.approved.values(), ZERO)


@dataclass(frozen=True)
class LineInput:
    """An expense line as the test declared it (amount in the currency of the receipt)."""

    cost_type: str
    expense_date: date
    amount: Decimal
    currency: str
    receipt_ref: str

    @property
    def month(self) -> str:
        return f"{self.expense_date.year:04d}-{self.expense_date.month:02d}"


@dataclass
class ClaimModel:
    partner: str
    sme_id: UUID
    mission_id: UUID
    lines: tuple[LineInput, ...]
    submitted_on: date
    requested: Decimal
    state: str = SUBMITTED
    approved: Decimal | None = None
    #: Paid net of reversals, and settled short (zero until approved).
    paid: Decimal = ZERO
    settled_short: Decimal = ZERO
    #: What settling short gave back to the SME's caps.
    support_released: Decimal = ZERO
    #: The live (unreversed) payments: id -> amount.
    payments: dict[UUID, Decimal] = field(default_factory=dict)
    #: The date of the approval in force, and the claim's latest business date (None: its
    #: submission): each new event of the claim is dated on or after it.
    approved_on: date | None = None
    last_on: date | None = None

    def dated(self, base: date) -> date:
        """A new event's date: ``base``, or the claim's last business date when that is later."""
        return max(base, self.last_on or self.submitted_on)

    @property
    def receipt_keys(self) -> list[str]:
        return [normalised(line.receipt_ref) for line in self.lines]

    @property
    def outstanding(self) -> Decimal:
        """Still committed: approved - paid - settled short (zero without an approval)."""
        return ZERO if self.approved is None else self.approved - self.paid - self.settled_short

    def state_after_payments(self) -> str:
        if self.outstanding == ZERO:
            return PAID
        return PARTLY_PAID if self.paid > ZERO else APPROVED

    def unapprove(self) -> None:
        self.approved, self.paid, self.settled_short, self.support_released = None, ZERO, ZERO, ZERO
        self.payments = {}


@dataclass
class PaymentModel:
    claim_id: UUID
    partner: str
    amount: Decimal
    #: Its value date as paid, the approval it was paid under, the claim's business date
    #: just before it and the date of the claim's next event after it (bounds of a
    #: corrected value date).
    paid_on: date
    approved_on: date
    before: date
    next_on: date | None = None
    reversed: bool = False


@dataclass
class LedgerModel:
    """What the ledger should hold, kept by hand beside it."""

    total: Decimal
    funding_rate: Decimal
    eu_cap: Decimal
    sme_cap: Decimal
    period_start: date
    period_end: date
    partners: tuple[str, ...]
    lines: dict[tuple[str, str], LineModel]
    missions: dict[UUID, MissionModel] = field(default_factory=dict)
    smes: dict[UUID, SmeModel] = field(default_factory=dict)
    claims: dict[UUID, ClaimModel] = field(default_factory=dict)
    payments: dict[UUID, PaymentModel] = field(default_factory=dict)
    #: Exchange rates recorded, by (currency, month).
    rates: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    #: Receipt key -> the claim or cost holding it now.
    receipts: dict[str, UUID] = field(default_factory=dict)
    #: Every receipt key ever declared (held now or released).
    declared: set[str] = field(default_factory=set)

    def fstp(self, partner: str) -> LineModel:
        return self.lines[(partner, FSTP)]


# --- 1. transfers move money, never create it -----------------------------------------------
def check_budget_conserved(app: GrantLedger, model: LedgerModel) -> None:
    """1. The partner budget lines sum to the total eligible budget."""
    grant = app.grant()
    allocated = sum((app.budget_line(p, c.value).allocated.amount for p in grant.partners for c in Category), ZERO)
    assert allocated == grant.total.amount == model.total, (
        f"budget lines sum to {allocated}, grant total {grant.total}, model total {model.total}"
    )


# --- 2. no FSTP overspend ---------------------------------------------------------------------
def check_fstp_within_allocation(app: GrantLedger, model: LedgerModel) -> None:
    """2. On every partner's FSTP line, committed + paid <= allocated, and neither is negative."""
    for partner in model.partners:
        line = app.budget_line(partner, FSTP)
        assert line.committed.amount >= 0, f"{partner} FSTP committed is negative: {line.committed}"
        assert line.paid.amount >= 0, f"{partner} FSTP paid is negative: {line.paid}"
        assert line.committed + line.paid <= line.allocated, (
            f"{partner} FSTP overspent: committed {line.committed} + paid {line.paid} > allocated {line.allocated}"
        )


# --- 3. caps per SME --------------------------------------------------------------------------
def check_sme_caps(app: GrantLedger, model: LedgerModel) -> None:
    """3. Per SME and mission, approved <= the mission's cap; per SME overall, <= the grant's cap."""
    cap = app.grant().sme_support_cap
    for sme_id in model.smes:
        sme = app.sme(sme_id)
        per_mission = ZERO
        for mission_id in map(UUID, sme.missions):
            approved = sme.approved_for(mission_id)
            mission = app.mission(mission_id)
            assert approved <= mission.cap_per_sme, (
                f"SME {sme_id} has {approved} approved on mission {mission.code}, over its cap {mission.cap_per_sme}"
            )
            per_mission += approved.amount
        assert sme.approved_total <= cap, f"SME {sme_id} has {sme.approved_total} approved, over the cap {cap}"
        assert sme.approved_total.amount == per_mission, (
            f"SME {sme_id} total {sme.approved_total} differs from the sum over its missions {per_mission}"
        )


# --- 4. paid <= approved; approved = committed + paid + settled short ------------------------
def check_claims_within_approval(app: GrantLedger, model: LedgerModel) -> None:
    """4. Each claim keeps approved = committed for it + paid + settled short, with paid +
    settled short <= approved; its live payments add up to what it paid; each FSTP line
    commits what its claims have outstanding and has paid what they paid."""
    committed = dict.fromkeys(model.partners, ZERO)
    paid = dict.fromkeys(model.partners, ZERO)
    for claim_id, expected in model.claims.items():
        claim = app.claim(claim_id)
        if claim.approved is None:
            assert claim.paid.is_zero, f"claim {claim_id} is paid {claim.paid} but has no approval"
            assert not claim.payments, f"claim {claim_id} has payments but no approval"
            continue
        assert claim.approved == claim.outstanding + claim.paid + claim.settled_short, (
            f"claim {claim_id}: approved {claim.approved} != outstanding {claim.outstanding} + paid {claim.paid} "
            f"+ settled short {claim.settled_short}"
        )
        assert claim.outstanding.amount >= 0, f"claim {claim_id} paid {claim.paid} + settled > approved"
        assert sum((m.amount for m in claim.payments.values()), ZERO) == claim.paid.amount, (
            f"claim {claim_id} paid {claim.paid}, its live payments {claim.payments}"
        )
        committed[expected.partner] += expected.outstanding
        paid[expected.partner] += expected.paid
    live = {pid for claim in model.claims.values() for pid in claim.payments}
    for payment_id, expected_payment in model.payments.items():
        assert expected_payment.reversed is (payment_id not in live), f"payment {payment_id} live in the model"
        assert app.payment(payment_id).reversed is expected_payment.reversed, f"payment {payment_id} reversal"
    for partner in model.partners:
        line = app.budget_line(partner, FSTP)
        assert line.committed.amount == committed[partner], (
            f"{partner} FSTP committed {line.committed}, its claims have {committed[partner]} outstanding"
        )
        assert line.paid.amount == paid[partner], (
            f"{partner} FSTP paid {line.paid}, its claims were paid {paid[partner]}"
        )


def check_claims_as_effective(app: GrantLedger, model: LedgerModel) -> None:
    """4 and 2 as effective on every business date (GET /budget?effective=DATE): for every
    claim and every date of its events, the events dated by then (a payment by its value date
    as corrected), in the order recorded, leave it never pending, committed or paid below zero,
    nor paid above approved."""
    for claim_id in model.claims:
        events = [e for e in app.events.get(claim_id) if isinstance(e, LedgerAggregate.Event)]
        dated = [
            (app.payment(e.payment_id).value_date if isinstance(e, Claim.ReimbursementPaid) else e.effective_date, e)
            for e in events
        ]
        requested = app.claim(claim_id).requested.amount
        for day in sorted({on for on, _ in dated}):
            pending = committed = paid = approved = ZERO
            for on, e in dated:
                if on > day:
                    continue
                if isinstance(e, Claim.Submitted | Claim.ApprovalRevoked):
                    pending += requested
                if isinstance(e, Claim.Approved | Claim.Rejected | Claim.Withdrawn):
                    pending -= requested
                if isinstance(e, Claim.Approved):
                    committed, approved = committed + e.approved.amount, approved + e.approved.amount
                elif isinstance(e, Claim.ApprovalRevoked):
                    committed, approved = committed - e.released.amount, approved - e.released.amount
                elif isinstance(e, Claim.ReimbursementPaid):
                    committed, paid = committed - e.amount.amount, paid + e.amount.amount
                elif isinstance(e, Claim.PaymentReversed):
                    committed, paid = committed + e.amount.amount, paid - e.amount.amount
                elif isinstance(e, Claim.SettledShort):
                    committed -= e.amount.amount
            figures = f"pending {pending}, committed {committed}, paid {paid}, approved {approved}"
            assert min(pending, committed, paid) >= ZERO, f"claim {claim_id} as effective on {day}: {figures}"
            assert paid <= approved, f"claim {claim_id} as effective on {day}: {figures}"


# --- 5. a receipt is declared once ------------------------------------------------------------
def check_receipts_held_once(app: GrantLedger, model: LedgerModel) -> None:
    """5. Each receipt reference is held by at most one live claim (or cost), and the ledger's
    receipt index names the holder the model expects (none once released)."""
    holders: dict[str, UUID] = {}
    for claim_id in model.claims:
        claim = app.claim(claim_id)
        if claim.state not in LIVE_STATES:
            continue
        for line in claim.lines:
            key = normalised(line.receipt_ref)
            assert key not in holders, f"receipt {key!r} is held by live claims {holders[key]} and {claim_id}"
            holders[key] = claim_id
    for key in model.declared:
        index: object = app.repository.get(receipt_id(key))
        assert isinstance(index, ReceiptIndex), f"receipt {key!r} has no receipt index"
        assert index.holder_id == model.receipts.get(key), (
            f"receipt {key!r} is held by {index.holder_id} in the ledger, by {model.receipts.get(key)} in the model"
        )
        if key in holders:
            assert index.holder_id == holders[key], f"receipt {key!r} index and live claim disagree"


# --- 6. dates inside the action period --------------------------------------------------------
def check_expense_dates_in_period(app: GrantLedger, model: LedgerModel) -> None:
    """6. Every expense line recorded on a claim falls inside the action period."""
    grant = app.grant()
    for claim_id in model.claims:
        for line in app.claim(claim_id).lines:
            assert grant.period_start <= line.expense_date <= grant.period_end, (
                f"claim {claim_id} has an expense dated {line.expense_date}, outside the action period"
            )


# --- 7. EU contribution -----------------------------------------------------------------------
def check_eu_contribution(app: GrantLedger, model: LedgerModel) -> None:
    """7. EU contribution = min(cap, funding rate x accepted costs), here on the costs recorded so
    far (SME support paid plus own costs) and on the whole eligible budget."""
    grant = app.grant()
    lines = [app.budget_line(p, c.value) for p in grant.partners for c in Category]
    costs = sum((line.paid + line.spent for line in lines), Money.zero())
    for accepted in (costs, grant.total):
        expected = min(model.eu_cap, half_up(accepted.amount * model.funding_rate))
        contribution = eu_contribution(accepted, grant.funding_rate, grant.eu_cap)
        assert contribution == Money.eur(expected), f"EU contribution on {accepted} is {contribution}, not {expected}"
        assert contribution <= grant.eu_cap


# --- the application agrees with the model ----------------------------------------------------
def check_matches_model(app: GrantLedger, model: LedgerModel) -> None:
    """Budget lines, claims, SMEs and payments hold exactly what the model says."""
    for (partner, category), expected_line in model.lines.items():
        line = app.budget_line(partner, category)
        got = (line.allocated.amount, line.committed.amount, line.paid.amount, line.spent.amount)
        want = (expected_line.allocated, expected_line.committed, expected_line.paid, expected_line.spent)
        assert got == want, f"{partner} {category} (allocated, committed, paid, spent): ledger {got}, model {want}"
    for claim_id, expected in model.claims.items():
        claim = app.claim(claim_id)
        got_claim = (
            claim.state,
            claim.partner,
            claim.requested.amount,
            None if claim.approved is None else claim.approved.amount,
            claim.paid.amount,
            claim.settled_short.amount,
            {UUID(pid): amount.amount for pid, amount in claim.payments.items()},
        )
        want_claim = (
            expected.state,
            expected.partner,
            expected.requested,
            expected.approved,
            expected.paid,
            expected.settled_short,
            expected.payments,
        )
        assert got_claim == want_claim, (
            f"claim {claim_id} (state, partner, requested, approved, paid, settled short, payments): "
            f"ledger {got_claim}, model {want_claim}"
        )
    for sme_id, expected_sme in model.smes.items():
        sme = app.sme(sme_id)
        got_sme = {UUID(m): sme.approved_for(UUID(m)).amount for m in sme.missions}
        assert got_sme == expected_sme.approved, f"SME {sme_id} approved per mission: {got_sme} != {expected_sme}"
    for payment_id, expected_payment in model.payments.items():
        payment = app.payment(payment_id)
        assert (payment.claim_id, payment.amount.amount) == (expected_payment.claim_id, expected_payment.amount)


def check_all(app: GrantLedger, model: LedgerModel) -> None:
    """Every invariant, and the application agreeing with the model."""
    check_budget_conserved(app, model)
    check_fstp_within_allocation(app, model)
    check_sme_caps(app, model)
    check_claims_within_approval(app, model)
    check_claims_as_effective(app, model)
    check_receipts_held_once(app, model)
    check_expense_dates_in_period(app, model)
    check_eu_contribution(app, model)
    check_matches_model(app, model)
