"""Trade missions: where and when, who organises them, and what they reimburse to SMEs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID

from ledger.actors import Actor
from ledger.base import LedgerAggregate
from ledger.errors import InvalidInput, NotFound, Refused
from ledger.ids import legacy_key, natural_id
from ledger.money import EUR, Money, parse_fraction
from ledger.text import clean_country, clean_text


class CostType(StrEnum):
    """Kinds of SME mission costs a mission may declare eligible."""

    TRAVEL = "TRAVEL"
    ACCOMMODATION = "ACCOMMODATION"
    REGISTRATION_FEE = "REGISTRATION_FEE"
    STAND = "STAND"
    LOCAL_TRANSPORT = "LOCAL_TRANSPORT"
    SUBSISTENCE = "SUBSISTENCE"


class UnknownMission(NotFound):
    title = "Unknown mission"


class IneligibleCostType(Refused):
    title = "Cost type not eligible for this mission"


def mission_id(code: str) -> UUID:
    """A mission's id follows from its code (e.g. USA-2022), which is therefore unique."""
    return natural_id("mission", legacy_key(code))


def parse_cost_type(value: str) -> CostType:
    try:
        return CostType(value)
    except ValueError:
        known = ", ".join(c.value for c in CostType)
        raise InvalidInput(f"cost type {value!r} is unknown; use one of {known}") from None


class Mission(LedgerAggregate):
    class Opened(LedgerAggregate.Created):
        code: str
        country: str
        city: str
        start: date
        end: date
        responsible_partner: str
        reimbursement_rate: Decimal
        cap_per_sme: Money
        eligible_cost_types: list[str]

        def apply(self, mission: Mission) -> None:
            mission.code = self.code
            mission.country = self.country
            mission.city = self.city
            mission.start = self.start
            mission.end = self.end
            mission.responsible_partner = self.responsible_partner
            mission.reimbursement_rate = self.reimbursement_rate
            mission.cap_per_sme = self.cap_per_sme
            mission.eligible_cost_types = list(self.eligible_cost_types)

    if TYPE_CHECKING:
        code: str
        country: str
        city: str
        start: date
        end: date
        responsible_partner: str
        reimbursement_rate: Decimal
        cap_per_sme: Money
        eligible_cost_types: list[str]

    @classmethod
    def open(
        cls,
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
        eligible_cost_types: list[str],
        opened_on: date,
    ) -> Mission:
        key = code  # the id follows from the code as given, as the use case looks it up
        code = clean_text(code, "code", missing="a mission needs a code, e.g. USA-2022")
        country = clean_country(country, "country")
        city = clean_text(city, "city", missing="a mission needs the city it goes to")
        if end < start:
            raise InvalidInput(f"mission {code} ends ({end}) before it starts ({start})")
        if cap_per_sme.currency != EUR or not cap_per_sme.is_positive:
            raise InvalidInput(f"the cap per SME must be a positive EUR amount, got {cap_per_sme}")
        if not eligible_cost_types:
            raise InvalidInput(f"mission {code} must list at least one eligible cost type")
        reimbursement_rate = parse_fraction(reimbursement_rate, f"reimbursement rate of mission {code}")
        types = sorted({parse_cost_type(t).value for t in eligible_cost_types})
        return cls._create(
            cls.Opened,
            id=mission_id(key),
            actor=actor,
            effective_date=opened_on,
            code=code,
            country=country,
            city=city,
            start=start,
            end=end,
            responsible_partner=responsible_partner,
            reimbursement_rate=reimbursement_rate,
            cap_per_sme=cap_per_sme,
            eligible_cost_types=types,
        )

    def require_eligible(self, cost_type: str, line_no: int) -> None:
        if cost_type not in self.eligible_cost_types:
            raise IneligibleCostType(
                f"line {line_no}: {cost_type} costs are not eligible on mission {self.code}; "
                f"eligible are {', '.join(self.eligible_cost_types)}"
            )
