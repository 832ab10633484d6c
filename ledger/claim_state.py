"""A claim's states, and the refusals that name them (importable from ledger.claim as before)."""

from __future__ import annotations

from enum import StrEnum

from ledger.errors import NotFound, Refused


class ClaimState(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


def state_label(state: str) -> str:
    """A claim state as a person says it: "partly paid"."""
    return state.replace("_", " ")


class UnknownClaim(NotFound):
    title = "Unknown claim"


class ClaimNotInState(Refused):
    title = "Claim is not in the right state"


class Overpayment(Refused):
    title = "Payment exceeds what is outstanding"
