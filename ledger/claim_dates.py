"""A claim's business dates follow the order in which its events were recorded.

Each new event of a claim (a decision, a payment, a reversal, settling short, a revocation) is
dated on or after the claim's latest business date so far, so the books as effective on any
past date see the claim's story in the order it happened: never committed or pending below
zero, never paid above approved. A payment's value date, when corrected, stays between the
claim's business date before the payment was recorded and the date of the claim's next event.

The aggregate keeps what these checks need, derived from the events when they are applied
(no event carries it), so claims recorded before the rule load unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from ledger.errors import InvalidInput


@dataclass(frozen=True)
class PaymentDates:
    """Where a payment stands in its claim's story: the approval it was made under, the
    claim's business date just before it, and the claim's next event after it (if any yet)."""

    approved_on: date
    before: date
    before_change: str
    next_on: date | None = None
    next_change: str = ""


class Dated(Protocol):
    last_on: date
    last_change: str
    payment_dates: dict[str, PaymentDates]


def note_change(claim: Dated, change: str, on: date) -> None:
    """Called by every event's apply: ``on`` becomes the claim's latest business date, and the
    next event of every payment that had none yet."""
    for pid, dates in claim.payment_dates.items():
        if dates.next_on is None:
            claim.payment_dates[pid] = PaymentDates(dates.approved_on, dates.before, dates.before_change, on, change)
    claim.last_on = on
    claim.last_change = change


def not_before_last_change(claim: Dated, on: date, what: str) -> None:
    """Refuse a new event of ``claim`` dated before its latest business date."""
    if on < claim.last_on:
        raise InvalidInput(
            f"{what} {on} is before the claim's last change, {claim.last_change} on {claim.last_on}; "
            f"date it on or after {claim.last_on}"
        )


def value_date_in_place(dates: PaymentDates, value_date: date) -> None:
    """Refuse a corrected value date outside the payment's place in its claim's story."""
    if value_date < dates.before:
        raise InvalidInput(
            f"payment value date {value_date} is before the claim's change before this payment, "
            f"{dates.before_change} on {dates.before}; date it on or after {dates.before}"
        )
    if dates.next_on is not None and value_date > dates.next_on:
        raise InvalidInput(
            f"payment value date {value_date} is after the claim's next change after this payment, "
            f"{dates.next_change} on {dates.next_on}; date it on or before {dates.next_on}"
        )
