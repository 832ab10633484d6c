"""Use cases of missions and SMEs: open a mission, register an SME, select it for a mission."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from uuid import UUID

from ledger.actors import Actor, Role, require_officer_of, require_role
from ledger.mission import Mission, mission_id
from ledger.money import Money
from ledger.sme import (
    Sme,
    SmeAlreadyRegistered,
    SmeIdentifierIndex,
    identifier_index_id,
    legacy_identifier_index_id,
)
from ledger.text import clean_code
from ledger.usecases.core import LedgerCore, Outcome, terms_of, try_create


class MissionCases(LedgerCore):
    """Missions and the SMEs that travel on them."""

    def open_mission(
        self,
        *,
        actor: Actor,
        code: str,
        country: str,
        city: str,
        start: date,
        end: date,
        responsible_partner: str,
        reimbursement_rate: Decimal,
        cap_per_sme: Money,
        eligible_cost_types: Sequence[str],
        on: date,
    ) -> UUID:
        require_role(actor, "open a mission", Role.COORDINATOR)
        self._not_future((on, "the mission's opening date"))
        code = clean_code(code, "code", example="JPN-2023", missing="a mission needs a code, e.g. USA-2022")

        def open_it() -> Mission:
            return Mission.open(
                actor=actor,
                code=code,
                country=country,
                city=city,
                start=start,
                end=end,
                responsible_partner=responsible_partner,
                reimbursement_rate=reimbursement_rate,
                cap_per_sme=cap_per_sme,
                eligible_cost_types=list(eligible_cost_types),
                opened_on=on,
            )

        def decide() -> Outcome[UUID]:
            existing = self._find(Mission, mission_id(code))
            if existing is not None:
                fresh = try_create(open_it)
                same = fresh is not None and terms_of(existing) == terms_of(fresh)
                return self._same(existing, f"mission {code}", same), []
            grant = self.grant()
            grant.require_partner(responsible_partner)
            grant.require_in_period(start, f"mission {code} start")
            grant.require_in_period(end, f"mission {code} end")
            mission = open_it()
            return mission.id, [mission]

        return self._write(decide)

    def register_sme(
        self, *, actor: Actor, sme_id: UUID, legal_name: str, country: str, identifier: str, on: date
    ) -> UUID:
        require_role(actor, "register an SME", Role.OFFICER, Role.COORDINATOR)
        self._not_future((on, "the registration date"))

        def decide() -> Outcome[UUID]:
            existing = self._find(Sme, sme_id)
            if existing is not None:
                fresh = Sme.register(
                    sme_id=sme_id, actor=actor, legal_name=legal_name, country=country, identifier=identifier, on=on
                )
                same = (existing.legal_name, existing.country, existing.identifier) == (
                    fresh.legal_name,
                    fresh.country,
                    fresh.identifier,
                )
                return self._same(existing, "SME", same), []
            sme = Sme.register(
                sme_id=self._new_id("SME", sme_id),
                actor=actor,
                legal_name=legal_name,
                country=country,
                identifier=identifier,
                on=on,
            )
            # The identifier in its canonical form, or as an index recorded before canonical keys held it.
            taken = self._find(SmeIdentifierIndex, identifier_index_id(identifier)) or self._find(
                SmeIdentifierIndex, legacy_identifier_index_id(identifier)
            )
            if taken is not None:
                other = self.sme(taken.sme_id)
                raise SmeAlreadyRegistered(
                    f"an SME with identifier {sme.identifier} is already registered: "
                    f"{other.legal_name} ({other.id}); use that SME"
                )
            index = SmeIdentifierIndex.reserve(actor=actor, identifier=identifier, sme_id=sme_id, on=on)
            return sme.id, [sme, index]

        return self._write(decide)

    def select_sme(self, *, actor: Actor, mission_id: UUID, sme_id: UUID, on: date) -> UUID:
        """Select a registered SME for a mission (officer of the mission's responsible partner)."""
        self._not_future((on, "the selection date"))

        def decide() -> Outcome[UUID]:
            mission = self.mission(mission_id)
            require_officer_of(actor, mission.responsible_partner, f"select SMEs for mission {mission.code}")
            sme = self.sme(sme_id)
            sme.select(actor=actor, mission_id=mission_id, on=on)
            return sme.id, [sme]

        return self._write(decide)
