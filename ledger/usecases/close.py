"""Use cases of period close: lock, sign, send back and submit the partners' statements.

Locking a statement closes its period on every budget line of its partner in the same atomic
save: a command racing the lock that charges one of those lines conflicts with it, decides
again, and is refused if dated in the period (invariant 9). So whatever the statement shows
once locked, nothing dated in the period can be added to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from ledger.actors import Actor, Role, require_officer_of, require_role
from ledger.budget import BudgetLine
from ledger.errors import NotFound
from ledger.grant import Grant
from ledger.periods import ReportingPeriod
from ledger.statement import STATE_WORDS, Statement, StatementState, StatementStep, statement_id
from ledger.usecases.core import LedgerCore, Outcome


class CloseCases(LedgerCore):
    """The workflow of each partner's statement per reporting period."""

    def statement(self, partner: str, number: int) -> Statement | None:
        """The statement's workflow record (None: still in draft, never locked)."""
        return self._find(Statement, statement_id(partner, number))

    def _period(self, grant: Grant, number: int) -> ReportingPeriod:
        period = next((p for p in grant.reporting_periods if p.number == number), None)
        if period is None:
            known = "; ".join(str(p) for p in grant.reporting_periods) or "none is set yet"
            raise NotFound(f"there is no reporting period {number}; the periods are: {known}")
        return period

    def _lines_of(self, grant: Grant, partner: str) -> list[BudgetLine]:
        return [self.budget_line(partner, category) for category in grant.budget.get(partner, {})]

    def _locked_once(self, partner: str, period: ReportingPeriod, step: str, hint: str) -> Statement:
        """The statement of a step that needs it locked at least once (else it is still a draft)."""
        statement = self.statement(partner, period.number)
        if statement is None:
            raise StatementStep(f"{partner}'s statement for {period} is in draft, so it cannot be {step}; {hint}")
        return statement

    def lock_statement(self, *, actor: Actor, partner: str, number: int, reason: str, on: date) -> None:
        """The partner's officer locks its statement for review once the period has ended:
        from then on nothing dated in the period can be charged to the partner's budget.
        Locking a locked statement again records nothing."""
        require_officer_of(actor, partner, f"lock the statement of {partner}")
        self._not_future((on, "the date of the lock"))

        def decide() -> Outcome[None]:
            grant = self.grant()
            grant.require_partner(partner)
            period = self._period(grant, number)
            statement = self.statement(partner, number)
            if statement is not None and statement.state is StatementState.LOCKED:
                return None, []
            if statement is None:
                statement = Statement.start_for(actor=actor, partner=partner, period=period, on=on)
            statement.lock(actor=actor, reason=reason, on=on)
            lines = self._lines_of(grant, partner)
            for line in lines:
                line.close_period(actor=actor, period=period, submitted=False, on=on)
            return None, [statement, *lines]

        return self._write(decide)

    def sign_statement(
        self,
        *,
        actor: Actor,
        partner: str,
        number: int,
        content: Mapping[str, str],
        position: int,
        seal: str,
        on: date,
        reason: str = "",
    ) -> str:
        """The partner's officer signs its locked statement: the figures ``content`` as the read
        models showed them at ``position`` of the event log, whose chain seal is ``seal``.
        Returns the digest of the content (verify recomputes it: invariant 10)."""
        require_officer_of(actor, partner, f"sign the statement of {partner}")
        self._not_future((on, "the date of the signature"))
        head = self.recorder.max_notification_id() or 0

        def decide() -> Outcome[str]:
            grant = self.grant()
            grant.require_partner(partner)
            period = self._period(grant, number)
            statement = self._locked_once(partner, period, "signed", "lock it for review first, then sign it")
            if position > head:
                raise StatementStep(
                    f"the figures were read at position {position}, after the log's last event ({head}); "
                    "read the statement again and sign what it shows"
                )
            digest = statement.sign(actor=actor, content=content, position=position, seal=seal, on=on, reason=reason)
            return digest, [statement]

        return self._write(decide)

    def send_back_statement(self, *, actor: Actor, partner: str, number: int, reason: str, on: date) -> None:
        """The coordinator sends a locked or signed statement back to draft, saying why, until
        the period is submitted: its period opens again on the partner's lines."""
        require_role(actor, "send a statement back", Role.COORDINATOR)
        self._not_future((on, "the date it is sent back"))

        def decide() -> Outcome[None]:
            grant = self.grant()
            grant.require_partner(partner)
            period = self._period(grant, number)
            statement = self._locked_once(partner, period, "sent back", "its officer can go on changing it")
            statement.send_back(actor=actor, reason=reason, on=on)
            lines = self._lines_of(grant, partner)
            for line in lines:
                line.reopen_period(actor=actor, number=number, reason=statement.reason, on=on)
            return None, [statement, *lines]

        return self._write(decide)

    def submit_period(self, *, actor: Actor, number: int, on: date, reason: str = "") -> None:
        """The coordinator submits the period once every partner's statement is signed: every
        statement of it is submitted, and the period is closed for good on every line."""
        require_role(actor, "submit a reporting period", Role.COORDINATOR)
        self._not_future((on, "the date of the submission"))

        def decide() -> Outcome[None]:
            grant = self.grant()
            period = self._period(grant, number)
            statements = {partner: self.statement(partner, number) for partner in sorted(grant.partners)}
            if all(s is not None and s.state is StatementState.SUBMITTED for s in statements.values()):
                return None, []
            waiting = [
                f"{partner} ({STATE_WORDS[s.state] if s is not None else STATE_WORDS[StatementState.DRAFT]})"
                for partner, s in statements.items()
                if s is None or s.state is not StatementState.SIGNED
            ]
            if waiting:
                raise StatementStep(
                    f"{period} can be submitted once every partner's statement is signed; not yet signed: "
                    f"{', '.join(waiting)}"
                )
            changed: list[Statement | BudgetLine] = []
            for partner, statement in statements.items():
                assert statement is not None  # noqa: S101 - every one is signed
                statement.submit(actor=actor, on=on, reason=reason)
                changed.append(statement)
                for line in self._lines_of(grant, partner):
                    line.close_period(actor=actor, period=period, submitted=True, on=on)
                    changed.append(line)
            return None, changed

        return self._write(decide)

    def _require_no_closed_statement(self, grant: Grant) -> None:
        """Reporting periods are cut anew only while every statement is in draft."""
        for period in grant.reporting_periods:
            for partner in sorted(grant.partners):
                statement = self.statement(partner, period.number)
                if statement is not None and statement.state is not StatementState.DRAFT:
                    raise StatementStep(
                        f"{statement.label} is {STATE_WORDS[statement.state]}: the reporting periods cannot be "
                        "cut anew once a statement is locked, signed or submitted"
                    )
