"""A ledger whose every free text is hostile: formulas for spreadsheets, lines and directives for
journals.

The story runs through the real application with harmless placeholders (``ZQ01Z``, ...) in
every free-text field, then the events are read back with each placeholder replaced by a
hostile text before the projector sees them. So the read models hold what an old store may
hold, whatever the ledger refuses at its edge today or tomorrow: the exports and journals
must cope with anything.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import uuid
from datetime import date
from decimal import Decimal
from typing import Any, cast

from eventsourcing.persistence import Mapper, Notification

from ledger.actors import Actor
from ledger.application import GrantLedger
from ledger.claim import ExpenseLine, LineDecision
from ledger.grant import PartnerInfo
from ledger.money import Money
from ledger.storage import open_ledger
from projections.db import ReadDatabase
from projections.projector import Projector
from tests.builders import alliance_budget, grant_terms

#: What a spreadsheet would run or a journal would read as more than text.
ATTACKS = (
    '=HYPERLINK("http://x","click")',
    '+1+1\n2021-09-01 * "evil"\n  Assets:Budget:EVIL:FSTP:Paid  1000.00 EUR\n  Equity:Grant',
    "-2+3 ; hidden\r\n2021-09-01 open Assets:Evil EUR",
    "@SUM(1)\u2028x\u2029y\u0085z\x0bv\x0cf",
    "\t=1 | payee|note # comment",
    '\r=cmd "quoted" \\ back\\slash"\n  Assets:Evil  5 EUR\n  Equity:Grant',
    "\uff1d1+1 two  spaces\tand tab: colon",
    "\uff0b1, tag:value",
    "\uff0d1\x00nul",
    "\uff20x\x1bescape",
    "#N/A",
    " =1 after a space",
    "\u200b=1 after a zero-width space",
    "(code) lower-case, ; comment",
    "\u00aa\u00bd unicode",
    "-12.50",
)
#: Partner codes: they become account names (and must not collide once made valid ones).
PARTNER_ATTACKS = (
    "N:TT  x;y\nz",
    "N TT",
    '=P"B\\',
    "\u00aa\u00bd",
    "ntt",
    "NTT",
)

DAY = date(2023, 4, 1)


class Hostile:
    """Placeholders for free text, and the hostile text each stands for."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self._numbers = itertools.count(1)

    def text(self, attack: str | None = None) -> str:
        """A new placeholder; it will read as ``attack`` (by default the next of ATTACKS)."""
        n = next(self._numbers)
        placeholder = f"ZQ{n:02d}Z"
        self.texts[placeholder] = attack if attack is not None else f"{ATTACKS[n % len(ATTACKS)]} #{n}"
        return placeholder

    def swap(self, value: Any) -> Any:
        """``value`` with every placeholder inside its strings replaced (dataclasses, dicts, lists)."""
        if isinstance(value, str):
            for placeholder, attack in self.texts.items():
                value = value.replace(placeholder, attack)
            return value
        if isinstance(value, dict):
            return {self.swap(k): self.swap(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.swap(v) for v in value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type) and not isinstance(value, Money):
            swapped = copy.copy(value)
            for field in dataclasses.fields(value):
                object.__setattr__(swapped, field.name, self.swap(getattr(value, field.name)))
            return swapped
        return value


class _SwappingMapper:
    def __init__(self, mapper: Mapper[uuid.UUID], hostile: Hostile) -> None:
        self.mapper, self.hostile = mapper, hostile

    def to_domain_event(self, notification: Notification) -> Any:
        event = self.mapper.to_domain_event(notification)
        for name, value in vars(event).items():
            object.__setattr__(event, name, self.hostile.swap(value))
        return event


class _HostileView:
    """What the projector reads of a ledger: its recorder, and a mapper that swaps the texts."""

    def __init__(self, app: GrantLedger, hostile: Hostile) -> None:
        self.recorder = app.recorder
        self.mapper = _SwappingMapper(app.mapper, hostile)


def _story(app: GrantLedger, h: Hostile) -> None:
    """Every command that takes free text, each text a placeholder."""
    codes = [h.text(attack) for attack in PARTNER_ATTACKS]
    partners = [PartnerInfo(code, h.text(), "IT") for code in codes]
    budget = dict(zip(codes, alliance_budget().values(), strict=True))
    first, second = codes[0], codes[1]
    coordinator = Actor.coordinator(h.text(f"{ATTACKS[1]} #c"), first)
    officer = Actor.officer(h.text(f"{ATTACKS[5]} #o"), first)
    app.sign_grant(
        **grant_terms(
            actor=coordinator,
            code=h.text(),
            title=h.text(),
            partners=partners,
            budget=budget,
            coordinator=first,
            decision_ref=h.text(),
        )
    )
    mission = app.open_mission(
        actor=coordinator,
        code=h.text(),
        country="JP",
        city=h.text(),
        start=date(2023, 3, 15),
        end=date(2023, 3, 18),
        responsible_partner=first,
        reimbursement_rate=Decimal("0.70"),
        cap_per_sme=Money.eur("2000.00"),
        eligible_cost_types=["TRAVEL", "ACCOMMODATION"],
        on=date(2022, 12, 1),
    )
    app.record_rate(actor=officer, currency="JPY", month="2023-03", rate=Decimal("142.50"), source=h.text())
    app.correct_rate(
        actor=officer, currency="JPY", month="2023-03", rate=Decimal("143.00"), reason=h.text(), source=h.text()
    )
    smes = []
    for _ in range(3):
        sme = app.register_sme(
            actor=officer,
            sme_id=uuid.uuid4(),
            legal_name=h.text(),
            country="IT",
            identifier=h.text(),
            on=date(2022, 12, 5),
        )
        app.select_sme(actor=officer, mission_id=mission, sme_id=sme, on=date(2022, 12, 6))
        smes.append(sme)

    def claim(sme: uuid.UUID) -> uuid.UUID:
        lines = [
            ExpenseLine("TRAVEL", date(2023, 3, 14), Money.eur("900.00"), h.text(), h.text()),
            ExpenseLine("ACCOMMODATION", date(2023, 3, 16), Money.of("30000", "JPY"), h.text(), h.text()),
        ]
        return app.submit_claim(
            actor=officer, claim_id=uuid.uuid4(), sme_id=sme, mission_id=mission, lines=lines, on=DAY
        )

    paid = claim(smes[0])
    app.approve_claim(
        actor=officer,
        claim_id=paid,
        on=DAY,
        decisions=[LineDecision(1, Money.eur("800.00"), h.text())],
        reason=h.text(),
    )
    payment = app.record_payment(
        actor=officer,
        payment_id=uuid.uuid4(),
        claim_id=paid,
        amount=Money.eur("300.00"),
        bank_reference=h.text(),
        on=DAY,
    )
    app.reverse_payment(actor=officer, payment_id=payment, reason=h.text(), on=DAY)
    app.record_payment(
        actor=officer,
        payment_id=uuid.uuid4(),
        claim_id=paid,
        amount=Money.eur("200.00"),
        bank_reference=h.text(),
        on=DAY,
    )
    app.reject_claim(actor=officer, claim_id=claim(smes[1]), reason=h.text(), on=DAY)
    app.withdraw_claim(actor=officer, claim_id=claim(smes[2]), reason=h.text(), on=DAY)
    claim(smes[2])  # resubmitted, pending
    app.transfer_budget(
        actor=coordinator,
        transfer_id=uuid.uuid4(),
        from_partner=first,
        from_category="PERSONNEL",
        to_partner=second,
        to_category="TRAVEL",
        amount=Money.eur("1000.00"),
        decision_ref=h.text(),
        reason=h.text(),
        on=DAY,
    )
    cost = app.record_cost(
        actor=officer,
        cost_id=uuid.uuid4(),
        partner=first,
        category="TRAVEL",
        amount=Money.eur("450.00"),
        document_ref=h.text(),
        description=h.text(),
        on=DAY,
    )
    app.correct_cost(actor=officer, cost_id=cost, amount=Money.eur("400.00"), reason=h.text(), on=DAY)


def hostile_read_models() -> tuple[ReadDatabase, Hostile]:
    """The story's read models (SQLite, in memory), every free text in them hostile."""
    app = open_ledger("memory://")
    hostile = Hostile()
    _story(app, hostile)
    db = ReadDatabase("sqlite://")
    Projector(cast(GrantLedger, _HostileView(app, hostile)), db).catch_up()
    return db, hostile
