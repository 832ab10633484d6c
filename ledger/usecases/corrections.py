"""Use cases that correct a record: an exchange rate, an SME's registration, a payment record.

Nothing is edited: each correction is a new event on the record it corrects, with the acting
user, a reason and a business date. Conversions stored before a rate correction keep the
rate they used (the report of projections.assessments lists them for an officer to decide).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from ledger.actors import Actor, Role, require_officer_of, require_role
from ledger.errors import InvalidInput
from ledger.money import EUR, check_currency
from ledger.rates import DEFAULT_SOURCE, ExchangeRate, RateMissing, parse_month, rate_id
from ledger.sme import Sme
from ledger.usecases.core import LedgerCore, Outcome


class CorrectionCases(LedgerCore):
    """Corrections of exchange rates, SME registrations and payment records."""

    def correct_rate(
        self, *, actor: Actor, currency: str, month: str, rate: Decimal, reason: str, source: str = DEFAULT_SOURCE
    ) -> UUID:
        """Correct the recorded rate of a currency and month, with a reason. Assessments made
        after it use the new rate; conversions stored before it are never recomputed."""
        require_role(actor, "correct exchange rates", Role.OFFICER, Role.COORDINATOR)
        check_currency(currency)
        if currency == EUR:
            raise InvalidInput("EUR needs no exchange rate: it converts to itself at 1")
        parse_month(month)

        def decide() -> Outcome[UUID]:
            xr = self._find(ExchangeRate, rate_id(currency, month))
            if xr is None:
                raise RateMissing(
                    f"no {currency} rate is recorded for {month}, so there is nothing to correct; "
                    "record it (grantledger import-rates or POST /exchange-rates)"
                )
            xr.correct(actor=actor, rate=rate, source=source, reason=reason)
            return xr.id, [xr]

        return self._write(decide)

    def correct_sme_registration(
        self, *, actor: Actor, sme_id: UUID, legal_name: str, country: str, reason: str, on: date
    ) -> None:
        """Correct an SME's legal name and country, with a reason; its identifier stays."""
        require_role(actor, "correct an SME's registration", Role.OFFICER, Role.COORDINATOR)
        self._not_future((on, "the correction date"))

        def decide() -> Outcome[None]:
            sme = self.sme(sme_id)
            registered = next(iter(self.events.get(sme_id, lte=1)))
            if not isinstance(registered, Sme.Registered):  # pragma: no cover - self.sme() found an SME
                raise TypeError(f"the first event of SME {sme_id} is not its registration")
            sme.correct_registration(
                actor=actor,
                legal_name=legal_name,
                country=country,
                reason=reason,
                on=on,
                registered_on=registered.effective_date,
            )
            return None, [sme]

        self._write(decide)

    def correct_payment(
        self,
        *,
        actor: Actor,
        payment_id: UUID,
        reason: str,
        bank_reference: str | None = None,
        value_date: date | None = None,
    ) -> None:
        """Correct a payment's bank reference or value date (what is not given stays), with a
        reason: officers of the payment's partner only. The value date stays inside the
        action period, not in the future, not before the approval it was made under, not after a
        reversal, and between the claim's change before the payment and its next change after it
        (the claim's dates follow the order its events were recorded in)."""
        if value_date is not None:
            self._not_future((value_date, "the payment's value date"))

        def decide() -> Outcome[None]:
            payment = self.payment(payment_id)
            require_officer_of(actor, payment.partner, "correct this payment")
            new_date = payment.value_date if value_date is None else value_date
            self.grant().require_in_period(new_date, "value date")
            payment.correct_record(
                actor=actor,
                bank_reference=payment.bank_reference if bank_reference is None else bank_reference,
                value_date=new_date,
                reason=reason,
                place=self.claim(payment.claim_id).payment_dates[str(payment_id)],
            )
            return None, [payment]

        self._write(decide)
