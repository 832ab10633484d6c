"""Whose rows an actor may export (ledger.actors.export_scope)."""

from __future__ import annotations

import pytest

from ledger.actors import Actor, export_scope
from ledger.errors import NotAllowed


class TestExportScope:
    @pytest.mark.parametrize("actor", [Actor.auditor("a"), Actor.coordinator("c", "TECHTERA")])
    def test_auditors_and_the_coordinator_export_all_partners_or_the_one_asked(self, actor: Actor) -> None:
        assert export_scope(actor, None) is None
        assert export_scope(actor, "NTT") == "NTT"

    def test_an_officer_exports_their_own_partner_asked_or_not(self) -> None:
        officer = Actor.officer("p", "POINTEX")
        assert export_scope(officer, None) == "POINTEX"
        assert export_scope(officer, "POINTEX") == "POINTEX"

    def test_an_officer_asking_for_another_partner_is_refused_saying_what_to_ask(self) -> None:
        with pytest.raises(NotAllowed, match=r"officer 'p' of POINTEX may not export NTT's books.*partner=POINTEX"):
            export_scope(Actor.officer("p", "POINTEX"), "NTT")
