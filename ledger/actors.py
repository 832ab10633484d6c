"""Who acts: the authenticated user behind every command, and what their role allows."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ledger.errors import InvalidInput, NotAllowed
from ledger.text import clean_text
from ledger.words import any_of


class Role(StrEnum):
    OFFICER = "officer"
    COORDINATOR = "coordinator"
    AUDITOR = "auditor"


@dataclass(frozen=True, slots=True)
class Actor:
    """The acting user: an id, a role and, for officers, the partner they work for.

    Built from a token or a command line, the id and partner are checked like any text the
    ledger records (an event decoded from the store is taken as it was recorded)."""

    id: str
    role: str
    partner: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", clean_text(self.id, "actor id", missing="the acting user must have an id"))
        if self.partner is not None:
            object.__setattr__(self, "partner", clean_text(self.partner, "actor partner", required=False))
        try:
            role = Role(self.role)
        except ValueError:
            raise InvalidInput(f"role {self.role!r} is unknown; use officer, coordinator or auditor") from None
        if role is Role.OFFICER and not self.partner:
            raise InvalidInput(f"officer {self.id!r} must belong to a partner")

    @classmethod
    def officer(cls, user_id: str, partner: str) -> Actor:
        return cls(user_id, Role.OFFICER.value, partner)

    @classmethod
    def coordinator(cls, user_id: str, partner: str | None = None) -> Actor:
        return cls(user_id, Role.COORDINATOR.value, partner)

    @classmethod
    def auditor(cls, user_id: str) -> Actor:
        return cls(user_id, Role.AUDITOR.value, None)

    def describe(self) -> str:
        where = f" of {self.partner}" if self.partner else ""
        return f"{self.role} {self.id!r}{where}"


def require_role(actor: Actor, action: str, *roles: Role) -> None:
    """Refuse unless the actor has one of the roles."""
    if actor.role not in {r.value for r in roles}:
        raise NotAllowed(f"{actor.describe()} may not {action}: only {any_of(r.value for r in roles)} may")


def require_officer_of(actor: Actor, partner: str, action: str) -> None:
    """Refuse unless the actor is a financial officer of this partner."""
    require_role(actor, action, Role.OFFICER)
    if actor.partner != partner:
        raise NotAllowed(
            f"{actor.describe()} may not {action}: it is charged to {partner}'s budget, "
            f"and only {partner}'s financial officers may act on it"
        )


def export_scope(actor: Actor, partner: str | None) -> str | None:
    """Whose rows an actor may export: auditors and the coordinator every partner's (None) or
    the one partner they ask for; a financial officer only their own partner's, asked or not."""
    require_role(actor, "export the books", Role.AUDITOR, Role.COORDINATOR, Role.OFFICER)
    if actor.role != Role.OFFICER.value:
        return partner
    if partner is not None and partner != actor.partner:
        raise NotAllowed(
            f"{actor.describe()} may not export {partner}'s books: an officer exports only their own "
            f"partner's rows; ask for partner={actor.partner} or leave partner out"
        )
    return actor.partner
