"""Use cases of the grant and its budget: sign in the grant, transfer budget between lines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from uuid import UUID

from ledger.actors import Actor, Role, require_role
from ledger.budget import BudgetLine, Transfer
from ledger.grant import (
    CERTIFICATE_THRESHOLD,
    Category,
    Grant,
    GrantAlreadySigned,
    PartnerInfo,
    parse_category,
)
from ledger.money import EUR, Money
from ledger.text import clean_text
from ledger.usecases.core import INDIRECT_RATE, SME_SUPPORT_CAP, LedgerCore, Outcome, terms_of, try_create


class BudgetCases(LedgerCore):
    """The grant agreement and its budget lines."""

    def sign_grant(
        self,
        *,
        actor: Actor,
        code: str,
        title: str,
        total: Money,
        funding_rate: Decimal,
        eu_cap: Money,
        period_start: date,
        period_end: date,
        coordinator: str,
        partners: Sequence[PartnerInfo],
        budget: dict[str, dict[str, Money]],
        decision_ref: str,
        on: date,
        indirect_rate: Decimal = INDIRECT_RATE,
        sme_support_cap: Money = SME_SUPPORT_CAP,
        funding_rates: dict[str, Decimal] | None = None,
        certificate_threshold: Money = CERTIFICATE_THRESHOLD,
    ) -> UUID:
        """Sign in the grant agreement and open every partner x category budget line.
        ``funding_rates``: the categories the call funds at another rate than ``funding_rate``."""
        require_role(actor, "sign in the grant", Role.COORDINATOR)
        self._not_future((on, "the signing date"), since_signing=False)
        lines = {
            p.code: {c.value: budget.get(p.code, {}).get(c.value, Money.zero(EUR)) for c in Category} for p in partners
        }

        def sign() -> Grant:
            return Grant.sign(
                actor=actor,
                code=code,
                title=title,
                total=total,
                funding_rate=funding_rate,
                eu_cap=eu_cap,
                period_start=period_start,
                period_end=period_end,
                coordinator=coordinator,
                partners=list(partners),
                budget=lines,
                indirect_rate=indirect_rate,
                sme_support_cap=sme_support_cap,
                decision_ref=decision_ref,
                signed_on=on,
                funding_rates=funding_rates,
                certificate_threshold=certificate_threshold,
            )

        def decide() -> Outcome[UUID]:
            existing = self._find(Grant, Grant.ID)
            if existing is not None:
                fresh = try_create(sign)
                if fresh is None or terms_of(existing) != terms_of(fresh):
                    raise GrantAlreadySigned(
                        f"grant {existing.code} is already signed with other terms; a ledger keeps one grant, "
                        "and its budget changes only by transfers"
                    )
                return existing.id, []
            grant = sign()
            opened = [
                BudgetLine.open(actor=actor, partner=p, category=c, allocated=amount, on=on)
                for p, by_category in lines.items()
                for c, amount in by_category.items()
            ]
            return grant.id, [grant, *opened]

        return self._write(decide)

    def transfer_budget(
        self,
        *,
        actor: Actor,
        transfer_id: UUID,
        from_partner: str,
        from_category: str,
        to_partner: str,
        to_category: str,
        amount: Money,
        decision_ref: str,
        reason: str,
        on: date,
    ) -> UUID:
        """Move budget between two partner x category lines; the total never changes."""
        require_role(actor, "transfer budget", Role.COORDINATOR)
        self._not_future((on, "the transfer date"))
        parse_category(from_category)
        parse_category(to_category)

        def decide() -> Outcome[UUID]:
            existing = self._find(Transfer, transfer_id)
            if existing is not None:
                same = (existing.from_line, existing.to_line, existing.amount, existing.decision_ref) == (
                    (from_partner, from_category),
                    (to_partner, to_category),
                    amount,
                    clean_text(decision_ref, "decision_ref"),
                )
                return self._same(existing, "transfer", same), []
            grant = self.grant()
            grant.require_partner(from_partner)
            grant.require_partner(to_partner)
            source = self.budget_line(from_partner, from_category)
            target = self.budget_line(to_partner, to_category)
            transfer = Transfer.make(
                transfer_id=self._new_id("transfer", transfer_id),
                actor=actor,
                source=source,
                target=target,
                amount=amount,
                decision_ref=decision_ref,
                reason=reason,
                on=on,
            )
            return transfer.id, [transfer, source, target]

        return self._write(decide)
