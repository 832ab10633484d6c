"""SMEs: registration under a unique identifier, selection for missions, support received.

The SME aggregate keeps the running totals that the per-SME caps are checked against
(invariant 3): approved support per mission and over the whole grant. Every approval is
an event on it, so two officers approving for the same SME at once cannot both pass.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from ledger.actors import Actor
from ledger.base import LedgerAggregate
from ledger.errors import Conflict, InvalidInput, NotFound, NothingToCorrect, Refused
from ledger.ids import canonical_key, legacy_key, natural_id
from ledger.money import EUR, Money
from ledger.text import clean_country, clean_text


class UnknownSme(NotFound):
    title = "Unknown SME"


class SmeAlreadyRegistered(Conflict):
    title = "SME already registered"


class SmeNotSelected(Refused):
    title = "SME not selected for the mission"


class SmeCapReached(Refused):
    title = "SME support cap reached"


def identifier_index_id(identifier: str) -> UUID:
    """The index of an identifier in its canonical form ("IT 0987-654" is "it0987654")."""
    return natural_id("sme-identifier", canonical_key(identifier, "SME identifier"))


def legacy_identifier_index_id(identifier: str) -> UUID:
    """Where the index of this identifier was recorded before canonical keys."""
    return natural_id("sme-identifier", legacy_key(identifier))


class SmeIdentifierIndex(LedgerAggregate):
    """Maps an SME's VAT or national number to its id, so it is registered once."""

    class Reserved(LedgerAggregate.Created):
        identifier: str
        sme_id: UUID

        def apply(self, index: SmeIdentifierIndex) -> None:
            index.identifier = self.identifier
            index.sme_id = self.sme_id

    if TYPE_CHECKING:
        identifier: str
        sme_id: UUID

    @classmethod
    def reserve(cls, *, actor: Actor, identifier: str, sme_id: UUID, on: date) -> SmeIdentifierIndex:
        return cls._create(
            cls.Reserved,
            id=identifier_index_id(identifier),
            actor=actor,
            effective_date=on,
            identifier=canonical_key(identifier, "SME identifier"),
            sme_id=sme_id,
        )


class Sme(LedgerAggregate):
    class Registered(LedgerAggregate.Created):
        legal_name: str
        country: str
        identifier: str

        def apply(self, sme: Sme) -> None:
            sme.legal_name = self.legal_name
            sme.country = self.country
            sme.identifier = self.identifier
            sme.missions = []
            sme.approved_by_mission = {}
            sme.approved_total = Money.zero(EUR)

    class RegistrationCorrected(LedgerAggregate.Event):
        """The legal name and country as they should have been registered, and why; the
        identifier stays (it is what the SME is registered under)."""

        legal_name: str
        country: str
        reason: str

        def apply(self, sme: Sme) -> None:
            sme.legal_name = self.legal_name
            sme.country = self.country

    class Selected(LedgerAggregate.Event):
        mission_id: UUID

        def apply(self, sme: Sme) -> None:
            sme.missions.append(str(self.mission_id))
            sme.approved_by_mission[str(self.mission_id)] = Money.zero(EUR)

    class SupportApproved(LedgerAggregate.Event):
        claim_id: UUID
        mission_id: UUID
        amount: Money

        def apply(self, sme: Sme) -> None:
            key = str(self.mission_id)
            sme.approved_by_mission[key] = sme.approved_by_mission[key] + self.amount
            sme.approved_total = sme.approved_total + self.amount

    class SupportReleased(LedgerAggregate.Event):
        """Support a claim no longer holds (settled short, approval revoked): the caps have room again."""

        claim_id: UUID
        mission_id: UUID
        amount: Money
        reason: str

        def apply(self, sme: Sme) -> None:
            key = str(self.mission_id)
            sme.approved_by_mission[key] = sme.approved_by_mission[key] - self.amount
            sme.approved_total = sme.approved_total - self.amount

    if TYPE_CHECKING:
        legal_name: str
        country: str
        identifier: str
        missions: list[str]
        approved_by_mission: dict[str, Money]
        approved_total: Money

    @classmethod
    def register(cls, *, sme_id: UUID, actor: Actor, legal_name: str, country: str, identifier: str, on: date) -> Sme:
        legal_name = clean_text(legal_name, "legal_name", missing="an SME needs its legal name")
        country = clean_country(country, "country")
        identifier = clean_text(
            identifier, "identifier", missing="an SME needs its VAT or national registration number"
        )
        canonical_key(identifier, "SME identifier")  # refused if it has no letter or digit, or mixes scripts
        return cls._create(
            cls.Registered,
            id=sme_id,
            actor=actor,
            effective_date=on,
            legal_name=legal_name,
            country=country,
            identifier=legacy_key(identifier),
        )

    def correct_registration(
        self, *, actor: Actor, legal_name: str, country: str, reason: str, on: date, registered_on: date
    ) -> None:
        """Correct the legal name and country (the identifier stays), with a reason, on or
        after the day it was registered (``registered_on``)."""
        legal_name = clean_text(legal_name, "legal_name", missing="an SME needs its legal name")
        country = clean_country(country, "country")
        reason = clean_text(reason, "reason", multiline=True, missing="a correction of a registration needs a reason")
        if on < registered_on:
            raise InvalidInput(
                f"correction date {on} is before the SME's registration on {registered_on}; "
                "a registration is corrected after it was made"
            )
        if (legal_name, country) == (self.legal_name, self.country):
            raise NothingToCorrect(
                f"SME {self.identifier} is already registered as {legal_name!r} in {country}; "
                "a correction gives a different legal name or country"
            )
        self.trigger_event(
            self.RegistrationCorrected,
            actor=actor,
            effective_date=on,
            legal_name=legal_name,
            country=country,
            reason=reason,
        )

    def is_selected_for(self, mission_id: UUID) -> bool:
        return str(mission_id) in self.missions

    def select(self, *, actor: Actor, mission_id: UUID, on: date) -> None:
        if not self.is_selected_for(mission_id):
            self.trigger_event(self.Selected, actor=actor, effective_date=on, mission_id=mission_id)

    def approved_for(self, mission_id: UUID) -> Money:
        return self.approved_by_mission.get(str(mission_id), Money.zero(EUR))

    def approve_support(
        self,
        *,
        actor: Actor,
        claim_id: UUID,
        mission_id: UUID,
        amount: Money,
        mission_cap: Money,
        overall_cap: Money,
        on: date,
    ) -> None:
        """Invariant 3: per mission <= the mission's cap per SME; overall <= the grant's cap."""
        if self.approved_for(mission_id) + amount > mission_cap:
            raise SmeCapReached(
                f"{self.legal_name} has {self.approved_for(mission_id)} approved on this mission; "
                f"{amount} more would exceed the mission's cap per SME of {mission_cap}"
            )
        if self.approved_total + amount > overall_cap:
            raise SmeCapReached(
                f"{self.legal_name} has {self.approved_total} approved over the grant; "
                f"{amount} more would exceed the cap per SME of {overall_cap}"
            )
        self.trigger_event(
            self.SupportApproved,
            actor=actor,
            effective_date=on,
            claim_id=claim_id,
            mission_id=mission_id,
            amount=amount,
        )

    def release_support(
        self, *, actor: Actor, claim_id: UUID, mission_id: UUID, amount: Money, reason: str, on: date
    ) -> None:
        if amount.is_positive:
            self.trigger_event(
                self.SupportReleased,
                actor=actor,
                effective_date=on,
                claim_id=claim_id,
                mission_id=mission_id,
                amount=amount,
                reason=reason,
            )
