"""The family of errors the ledger raises when it refuses a command.

Each error says, in plain words, what was refused and why, with the numbers. The kinds
map one to one onto what an entrypoint tells its user: invalid input, not allowed,
not found, refused by a rule of the grant, or a conflict with another write.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every refusal. Nothing was recorded when one is raised."""

    #: A short, stable title for this kind of refusal (problem details 'title').
    title = "Refused by the ledger"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(LedgerError):
    """The command itself is malformed: a bad amount, date, code or missing field."""

    title = "Invalid input"


class NotAllowed(LedgerError):
    """The acting user's role or partner does not allow this command."""

    title = "Not allowed"


class NotFound(LedgerError):
    """The command names something the ledger does not know."""

    title = "Not found"


class Refused(LedgerError):
    """A rule of the grant forbids the command (budget, caps, claim state...)."""

    title = "Refused by a rule of the grant"


class NothingToCorrect(Refused):
    """A correction that would leave the record as it is: a correction must change something."""

    title = "Nothing to correct"


class Conflict(LedgerError):
    """The command conflicts with what was already recorded (duplicate id, race)."""

    title = "Conflict"


class IdempotencyConflict(Conflict):
    """The same client-chosen id was already used for a command with different content."""

    title = "Id already used for a different command"


class ConcurrencyConflict(Conflict):
    """Other writes kept changing the same records; retrying did not resolve it."""

    title = "Concurrent changes"
