"""Period close: one partner's financial statement for one reporting period, from draft to
submitted (DOMAIN.md "Reporting", invariants 9 and 10).

A statement moves draft -> locked for review (the partner's officer) -> signed (the officer,
recorded as signer, over the figures shown at a position of the event log) -> submitted (by
the coordinator, for every partner of the period at once). The coordinator may send a locked
or signed statement back to draft, with a reason, until the period is submitted.

While a statement is locked, signed or submitted, every budget line of its partner carries the
period as closed (``ledger.budget.BudgetLine``): nothing dated in it can be charged to them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID

from ledger.actors import Actor
from ledger.base import LedgerAggregate
from ledger.errors import InvalidInput, Refused
from ledger.ids import natural_id
from ledger.periods import ReportingPeriod
from ledger.text import clean_optional, clean_text


class StatementState(StrEnum):
    DRAFT = "draft"
    LOCKED = "locked"
    SIGNED = "signed"
    SUBMITTED = "submitted"


#: How each state reads in a sentence.
STATE_WORDS = {
    StatementState.DRAFT: "in draft",
    StatementState.LOCKED: "locked for review",
    StatementState.SIGNED: "signed",
    StatementState.SUBMITTED: "submitted",
}


class PeriodLocked(Refused):
    """A command dated inside a period whose statement is locked, signed or submitted."""

    title = "Reporting period closed"


class StatementStep(Refused):
    """A workflow step the statement's state does not allow."""

    title = "Statement not ready for this step"


def statement_id(partner: str, number: int) -> UUID:
    return natural_id("statement", partner, str(number))


def statement_digest(content: Mapping[str, str]) -> str:
    """SHA-256 (hex) of the statement's content as canonical JSON: the same figures give the
    same digest on every machine, in every Python."""
    text = json.dumps(dict(content), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_content(content: Mapping[str, str]) -> dict[str, str]:
    """A statement's content as signed: a non-empty mapping of text to text."""
    if not content:
        raise InvalidInput("a signed statement needs its figures; none were given")
    checked = {}
    for key, value in content.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidInput(f"a statement's figures are text keys and text values, got {key!r}: {value!r}")
        checked[key] = value
    return checked


class Statement(LedgerAggregate):
    """One partner's financial statement for one reporting period."""

    class Started(LedgerAggregate.Created):
        partner: str
        number: int
        start: date
        end: date

        def apply(self, statement: Statement) -> None:
            statement.partner = self.partner
            statement.number = self.number
            statement.start = self.start
            statement.end = self.end
            statement.state = StatementState.DRAFT
            statement.signer = ""
            statement.content = {}
            statement.position = 0
            statement.seal = ""
            statement.digest = ""
            statement.reason = ""

    class Locked(LedgerAggregate.Event):
        reason: str

        def apply(self, statement: Statement) -> None:
            statement.state = StatementState.LOCKED
            statement.reason = self.reason

    class Signed(LedgerAggregate.Event):
        """The officer signed these figures, as the read models showed them at ``position``
        (the chain's seal there: ``seal``); ``digest`` is statement_digest(content)."""

        signer: str
        content: dict[str, str]
        position: int
        seal: str
        digest: str
        reason: str

        def apply(self, statement: Statement) -> None:
            statement.state = StatementState.SIGNED
            statement.signer = self.signer
            statement.content = dict(self.content)
            statement.position = self.position
            statement.seal = self.seal
            statement.digest = self.digest
            statement.reason = self.reason

    class SentBack(LedgerAggregate.Event):
        reason: str

        def apply(self, statement: Statement) -> None:
            statement.state = StatementState.DRAFT
            statement.signer = ""
            statement.content = {}
            statement.position = 0
            statement.seal = ""
            statement.digest = ""
            statement.reason = self.reason

    class Submitted(LedgerAggregate.Event):
        reason: str

        def apply(self, statement: Statement) -> None:
            statement.state = StatementState.SUBMITTED
            statement.reason = self.reason or statement.reason

    if TYPE_CHECKING:
        partner: str
        number: int
        start: date
        end: date
        state: StatementState
        signer: str
        content: dict[str, str]
        position: int
        seal: str
        digest: str
        reason: str

    @classmethod
    def start_for(cls, *, actor: Actor, partner: str, period: ReportingPeriod, on: date) -> Statement:
        return cls._create(
            cls.Started,
            id=statement_id(partner, period.number),
            actor=actor,
            effective_date=on,
            partner=partner,
            number=period.number,
            start=period.start,
            end=period.end,
        )

    @property
    def label(self) -> str:
        return f"{self.partner}'s statement for period {self.number} ({self.start} to {self.end})"

    @property
    def period(self) -> ReportingPeriod:
        return ReportingPeriod(self.number, self.start, self.end)

    def _refuse(self, step: str, now: str) -> StatementStep:
        return StatementStep(f"{self.label} is {STATE_WORDS[self.state]}, so it cannot be {step}; {now}")

    def lock(self, *, actor: Actor, reason: str, on: date) -> None:
        if self.state is StatementState.SUBMITTED:
            raise self._refuse("locked again", "its period is submitted and closed")
        if self.state is not StatementState.DRAFT:
            raise self._refuse("locked again", "the coordinator can send it back to draft if it must change")
        if on <= self.end:
            raise StatementStep(
                f"{self.label} can be locked for review once the period has ended, from "
                f"{self.end + timedelta(days=1)}; the date given is {on}"
            )
        reason = clean_optional(reason, "reason", multiline=True)
        self.trigger_event(self.Locked, actor=actor, effective_date=on, reason=reason)

    def sign(
        self, *, actor: Actor, content: Mapping[str, str], position: int, seal: str, on: date, reason: str = ""
    ) -> str:
        if self.state is not StatementState.LOCKED:
            hint = {
                StatementState.DRAFT: "lock it for review first, then sign it",
                StatementState.SIGNED: f"it was signed by {self.signer}; the coordinator can send it back",
                StatementState.SUBMITTED: "its period is submitted and closed",
            }[self.state]
            raise self._refuse("signed", hint)
        checked = check_content(content)
        if isinstance(position, bool) or not isinstance(position, int) or position < 1:
            raise InvalidInput(f"a statement is signed at a position of the event log (1 or more), got {position!r}")
        seal = clean_text(seal, "seal", missing="a signed statement names the chain's seal at its position")
        digest = statement_digest(checked)
        self.trigger_event(
            self.Signed,
            actor=actor,
            effective_date=on,
            signer=actor.id,
            content=checked,
            position=position,
            seal=seal,
            digest=digest,
            reason=clean_optional(reason, "reason", multiline=True),
        )
        return digest

    def send_back(self, *, actor: Actor, reason: str, on: date) -> None:
        if self.state not in (StatementState.LOCKED, StatementState.SIGNED):
            hint = (
                "it is still in draft: its officer can go on changing it"
                if self.state is StatementState.DRAFT
                else "its period is submitted and closed; declare changes as adjustments in the open period"
            )
            raise self._refuse("sent back", hint)
        reason = clean_text(
            reason, "reason", multiline=True, missing="say why the statement is sent back, so its officer can fix it"
        )
        self.trigger_event(self.SentBack, actor=actor, effective_date=on, reason=reason)

    def submit(self, *, actor: Actor, on: date, reason: str = "") -> None:
        if self.state is not StatementState.SIGNED:
            raise self._refuse("submitted", "every partner's statement must be signed first")
        self.trigger_event(
            self.Submitted, actor=actor, effective_date=on, reason=clean_optional(reason, "reason", multiline=True)
        )
