"""Identifiers that cannot be squatted or duplicated (issue 11, section 4).

Client-chosen ids never share the ledger's derived id space, and receipt references and SME
identifiers compare in one canonical form, also against indexes recorded before it existed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from ledger import receipts
from ledger.application import GrantLedger
from ledger.errors import InvalidInput
from ledger.ids import derived_id, natural_id, require_chosen_id
from ledger.mission import mission_id
from ledger.rates import rate_id
from ledger.receipts import ReceiptAlreadyUsed, ReceiptIndex, legacy_receipt_id, receipt_id
from ledger.sme import SmeAlreadyRegistered, SmeIdentifierIndex, identifier_index_id, legacy_identifier_index_id
from ledger.usecases import core, holding
from tests.builders import COORDINATOR, eur, eur_line, officer, open_mission, selected_sme, sign_alliance
from tests.ledger.test_canonical_key import INVISIBLE, LOOKS_THE_SAME

POINTEX = officer("POINTEX")
#: The Japan mission and one SME selected for it.
Ready = tuple[GrantLedger, uuid.UUID, uuid.UUID]
SUBMITTED_ON = date(2023, 4, 1)


def register(
    app: GrantLedger, identifier: str, sme_id: uuid.UUID | None = None, legal_name: str | None = None
) -> uuid.UUID:
    return app.register_sme(
        actor=POINTEX,
        sme_id=sme_id or uuid.uuid4(),
        legal_name=legal_name or f"SME {identifier}",
        country="IT",
        identifier=identifier,
        on=date(2022, 12, 5),
    )


def claim_with(
    app: GrantLedger, mission: uuid.UUID, sme: uuid.UUID, *refs: str, claim_id: uuid.UUID | None = None
) -> uuid.UUID:
    return app.submit_claim(
        actor=POINTEX,
        claim_id=claim_id or uuid.uuid4(),
        sme_id=sme,
        mission_id=mission,
        lines=[eur_line("100.00", receipt=ref) for ref in refs],
        on=SUBMITTED_ON,
    )


@pytest.fixture
def japan(memory_app: GrantLedger) -> Ready:
    sign_alliance(memory_app)
    mission = open_mission(memory_app)
    return memory_app, mission, selected_sme(memory_app, mission)


class TestIdSpaces:
    def test_derived_ids_are_version_8_deterministic_and_apart(self) -> None:
        """derived_id gives the same v8 UUID for the same names, another for other names, and
        never a natural (v5) id of the same names."""
        first = derived_id("idempotency-key", "officer.pointex", "key-1")
        assert (first.version, first.variant) == (8, uuid.RFC_4122)
        assert first == derived_id("idempotency-key", "officer.pointex", "key-1")
        assert first != derived_id("idempotency-key", "officer.pointex", "key-2")
        assert derived_id("a/b", "c") != derived_id("a", "b/c")  # names are encoded unambiguously
        assert natural_id("receipt", "inv1").version == 5

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (natural_id("receipt", "inv1"), r"name-based UUID \(version 5\)"),
            (uuid.uuid3(uuid.NAMESPACE_DNS, "x"), r"name-based UUID \(version 3\)"),
            (uuid.UUID(int=0), "nil UUID"),
            (uuid.UUID(int=(1 << 128) - 1), "max UUID"),
        ],
    )
    def test_a_chosen_id_that_could_be_derived_is_refused(self, value: uuid.UUID, message: str) -> None:
        with pytest.raises(InvalidInput, match=message) as refused:
            require_chosen_id("claim", value)
        assert "use a random UUID (version 4), e.g. from uuid4()" in str(refused.value)

    def test_random_and_derived_ids_may_be_chosen(self) -> None:
        for value in (
            uuid.uuid4(),
            derived_id("demo", "claim", "1"),
            uuid.UUID("01890a5d-ac96-774b-bcce-b302099a8057"),
        ):
            require_chosen_id("claim", value)


class TestSquatting:
    """An officer cannot create a record whose id blocks another partner's future receipt, rate,
    mission or SME: the ledger refuses to create records under name-based ids."""

    def test_a_claim_under_a_future_receipts_id_is_refused_and_the_receipt_stays_free(self, japan: Ready) -> None:
        app, mission, sme = japan
        with pytest.raises(InvalidInput, match=r"claim id .* is a name-based UUID"):
            claim_with(app, mission, sme, "R-OWN-1", claim_id=receipt_id("INV-1"))
        assert app.claim(claim_with(app, mission, sme, "INV-1")).state == "submitted"

    def test_records_under_a_future_rate_mission_or_sme_id_are_refused(self, japan: Ready) -> None:
        app, _mission, _sme = japan
        with pytest.raises(InvalidInput, match=r"SME id .* is a name-based UUID"):
            register(app, "IT55555555555", sme_id=rate_id("USD", "2023-03"))
        with pytest.raises(InvalidInput, match=r"cost id .* is a name-based UUID"):
            app.record_cost(
                actor=POINTEX,
                cost_id=mission_id("CAN-2023"),
                partner="POINTEX",
                category="TRAVEL",
                amount=eur("10.00"),
                document_ref="T-1",
                description="taxi",
                on=date(2023, 3, 1),
            )
        with pytest.raises(InvalidInput, match=r"transfer id .* is a name-based UUID"):
            app.transfer_budget(
                actor=COORDINATOR,
                transfer_id=identifier_index_id("IT66666666666"),
                from_partner="NTT",
                from_category="PERSONNEL",
                to_partner="NTT",
                to_category="TRAVEL",
                amount=eur("1.00"),
                decision_ref="CD-1",
                reason="test",
                on=date(2023, 3, 1),
            )
        # The legitimate commands that would have collided now work.
        app.record_rate(actor=POINTEX, currency="USD", month="2023-03", rate=Decimal("1.0630"))
        open_mission(app, code="CAN-2023", partner="NIDV")
        register(app, "IT66666666666")

    def test_a_payment_under_a_name_based_id_is_refused(self, japan: Ready) -> None:
        app, mission, sme = japan
        claim = claim_with(app, mission, sme, "R-1")
        app.approve_claim(actor=POINTEX, claim_id=claim, on=date(2023, 4, 5))
        with pytest.raises(InvalidInput, match=r"payment id .* is a name-based UUID"):
            app.record_payment(
                actor=POINTEX,
                payment_id=uuid.uuid5(uuid.NAMESPACE_URL, "pay"),
                claim_id=claim,
                amount=eur("70.00"),
                bank_reference="SEPA-1",
                on=date(2023, 4, 6),
            )

    def test_a_repeat_of_a_record_created_under_a_legacy_v5_id_still_answers_the_same(
        self, japan: Ready, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Stores written before the check hold records under uuid5 ids (the demo's, the API's
        Idempotency-Key ids): repeating such a command still records nothing."""
        app, mission, sme = japan
        legacy = uuid.uuid5(uuid.NAMESPACE_URL, "grantledger:officer.pointex:key-1")
        with monkeypatch.context() as old_code:
            old_code.setattr(core, "require_chosen_id", lambda *_: None)
            claim_with(app, mission, sme, "R-LEGACY", claim_id=legacy)
        before = app.recorder.max_notification_id()
        assert claim_with(app, mission, sme, "R-LEGACY", claim_id=legacy) == legacy
        assert app.recorder.max_notification_id() == before


class TestCanonicalUniqueness:
    def test_an_sme_typed_with_separators_is_the_same_sme(self, japan: Ready) -> None:
        app, _mission, _sme = japan
        first = register(app, "IT09876543210")
        for typed in ("IT 09876543210", "it-0987-654-3210", "IT.09876543210"):
            with pytest.raises(SmeAlreadyRegistered, match=f"already registered: SME IT09876543210 \\({first}\\)"):
                register(app, typed)

    def test_the_sme_keeps_its_identifier_as_typed_tidied(self, japan: Ready) -> None:
        app, _mission, _sme = japan
        assert app.sme(register(app, " it 0987-654 ")).identifier == "IT 0987-654"

    def test_a_receipt_typed_otherwise_is_the_same_receipt(self, japan: Ready) -> None:
        app, mission, sme = japan
        claim_with(app, mission, sme, "HOTEL/2023-0315")
        other = selected_sme(app, mission)
        with pytest.raises(ReceiptAlreadyUsed, match="'HOTEL/2023-0315' is already declared"):
            claim_with(app, mission, other, "hotel 2023 0315")
        with pytest.raises(InvalidInput, match="appears twice"):
            claim_with(app, mission, other, "R-9", "r9")

    @pytest.mark.parametrize("what", [*LOOKS_THE_SAME, *INVISIBLE])
    def test_an_sme_that_looks_the_same_is_refused_or_the_same_sme(self, japan: Ready, what: str) -> None:
        """The reviewer's escapes: each was a second SME beside IT0987654. An invisible
        character (or a Braille blank) is refused in the identifier; anything else a person
        would read as IT0987654 is the SME already registered. Nothing is recorded."""
        app, _mission, _sme = japan
        first = register(app, "IT0987654")
        typed = {**LOOKS_THE_SAME, **INVISIBLE}[what]
        before = app.recorder.max_notification_id()
        if what in INVISIBLE or what == "Braille pattern blank":
            refused = r"identifier: contains (an invisible character|a Braille pattern blank)"
            with pytest.raises(InvalidInput, match=refused):
                register(app, typed, legal_name="Tessuti Avanzati S.r.l.")
        else:
            with pytest.raises(SmeAlreadyRegistered, match=f"already registered: SME IT0987654 \\({first}\\)"):
                register(app, typed, legal_name="Tessuti Avanzati S.r.l.")
        assert app.recorder.max_notification_id() == before

    @pytest.mark.parametrize(
        ("original", "typed", "refused"),
        [
            ("JAL-7781", "JAL-778\u034f1", "invisible character"),
            ("JAL-7781", "JAL-7781\ufe0f", "invisible character"),
            ("JAL-7781", "JAL-7781\u3164", "invisible character"),
            ("JAL-7781", "JAL\u28007781", "Braille pattern blank"),
            ("TAX-7781", "\u03a4\u0391\u03a7-7781", None),  # Greek ΤΑΧ
            ("TAX-7781", "\u0422\u0410\u0425-7781", None),  # Cyrillic ТАХ
            ("JAL-7781", "JAL+7781", None),
            ("JAL-7781", "JAL(7781)", None),
            ("JAL-7781", "JAL#7781", None),
            ("JAL-7781", "JAL\u30fb7781", None),
            ("JAL-7781", "JAL\u20447781", None),
            ("JAL-7781", "JAL-\u0667\u0667\u0668\u0661", None),  # Arabic-Indic digits
            ("JAL-7781", "JAL-\u096d\u096d\u096e\u0967", None),  # Devanagari digits
            ("JAL-7781", "JAL-7781\u0323", None),  # combining dot below
            ("JAL-7781", "J\u00c1L-7781", None),  # an accented letter
        ],
    )
    def test_a_receipt_that_looks_the_same_is_refused_or_already_declared(
        self, japan: Ready, original: str, typed: str, refused: str | None
    ) -> None:
        app, mission, sme = japan
        claim_with(app, mission, sme, original)
        other = selected_sme(app, mission)
        before = app.recorder.max_notification_id()
        if refused:
            with pytest.raises(InvalidInput, match=f"receipt.* contains an? {refused}"):
                claim_with(app, mission, other, typed)
        else:
            with pytest.raises(ReceiptAlreadyUsed, match=f"'{original}' is already declared"):
                claim_with(app, mission, other, typed)
        assert app.recorder.max_notification_id() == before

    def test_a_mixed_script_receipt_is_refused_on_a_claim(self, japan: Ready) -> None:
        app, mission, sme = japan
        before = app.recorder.max_notification_id()
        with pytest.raises(InvalidInput, match="receipt reference 'INV-\u04101' mixes letters"):
            claim_with(app, mission, sme, "INV-\u04101")
        assert app.recorder.max_notification_id() == before


def legacy_receipt_index(app: GrantLedger, reference: str, holder_id: uuid.UUID) -> uuid.UUID:
    """A receipt index as the code before canonical keys recorded it (id from the legacy form)."""
    index = ReceiptIndex._create(
        ReceiptIndex.Declared,
        id=legacy_receipt_id(reference),
        actor=POINTEX,
        effective_date=SUBMITTED_ON,
        reference=reference,
        holder_kind="claim",
        holder_id=holder_id,
    )
    app.save(index)
    return index.id


def holder(app: GrantLedger, index_id: uuid.UUID) -> uuid.UUID | None:
    index: object = app.repository.get(index_id)
    assert isinstance(index, ReceiptIndex)
    return index.holder_id


class TestLegacyIndexes:
    """Stores written before canonical keys keep their indexes: they still hold their keys."""

    def test_a_live_legacy_receipt_index_blocks_the_same_reference(self, app: GrantLedger) -> None:
        sign_alliance(app)
        mission = open_mission(app)
        sme = selected_sme(app, mission)
        held = legacy_receipt_index(app, "INV 2022/77", uuid.uuid4())
        assert held != receipt_id("INV 2022/77")
        for typed in ("INV 2022/77", " inv  2022/77"):
            with pytest.raises(ReceiptAlreadyUsed, match="'INV 2022/77' is already declared on claim"):
                claim_with(app, mission, sme, typed)

    def test_a_legacy_claims_receipt_is_released_and_declared_again_in_canonical_form(
        self, app: GrantLedger, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        sign_alliance(app)
        mission = open_mission(app)
        sme, other = selected_sme(app, mission), selected_sme(app, mission)
        legacy: Callable[[str], uuid.UUID] = legacy_receipt_id
        with monkeypatch.context() as old_code:  # the receipt index as the code before canonical keys wrote it
            old_code.setattr(holding, "receipt_id", legacy)
            old_code.setattr(receipts, "receipt_id", legacy)
            old = claim_with(app, mission, sme, "INV 2022/78")
        assert holder(app, legacy_receipt_id("INV 2022/78")) == old
        with pytest.raises(ReceiptAlreadyUsed):
            claim_with(app, mission, other, "INV 2022/78")

        app.reject_claim(actor=POINTEX, claim_id=old, reason="receipt illegible", on=date(2023, 4, 2))
        assert holder(app, legacy_receipt_id("INV 2022/78")) is None
        again = claim_with(app, mission, sme, "INV 2022/78")
        assert holder(app, receipt_id("INV 2022/78")) == again
        with pytest.raises(ReceiptAlreadyUsed):
            claim_with(app, mission, other, "inv-2022-78")  # now held in canonical form

    def test_a_legacy_sme_identifier_index_blocks_the_same_identifier(self, app: GrantLedger) -> None:
        sign_alliance(app)
        first = register(app, "FR 123")
        index = SmeIdentifierIndex._create(
            SmeIdentifierIndex.Reserved,
            id=legacy_identifier_index_id("IT 0987 654"),
            actor=POINTEX,
            effective_date=date(2022, 12, 5),
            identifier="IT 0987 654",
            sme_id=first,
        )
        app.save(index)
        with pytest.raises(SmeAlreadyRegistered, match=f"already registered: SME FR 123 \\({first}\\)"):
            register(app, "it 0987 654")
