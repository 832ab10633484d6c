"""Text at the edge of the domain: every free-text and identifier field is checked alike.

A refused text names its field, the character and where it is; an accepted one is stored
in NFC, trimmed, with CR LF as LF in multi-line text. Nothing is recorded on a refusal.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest

from ledger.actors import Actor
from ledger.application import GrantLedger
from ledger.claim import Claim, ExpenseLine, LineDecision
from ledger.errors import InvalidInput
from ledger.grant import PartnerInfo
from ledger.money import Money
from ledger.storage import open_ledger
from ledger.text import (
    DEFAULT_IGNORABLE,
    EMOJI_PRESENTATION,
    LINE_MAX,
    clean_country,
    clean_text,
    describe_char,
    is_default_ignorable,
)
from tests.builders import (
    COORDINATOR,
    PARTNERS,
    eur,
    eur_line,
    grant_terms,
    officer,
    open_mission,
    selected_sme,
    sign_alliance,
    submit,
)
from tests.ledger.test_application import records_nothing

POINTEX = officer("POINTEX")
DAY = date(2023, 4, 5)


class TestCleanText:
    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("Acme\x00 Srl", r"legal_name: contains a control character \(U\+0000 NULL\) at position 5; retype"),
            ("Acme\u200b Srl", r"legal_name: contains an invisible character \(U\+200B ZERO WIDTH SPACE\) at pos"),
            ("\u202eAcme", r"\(U\+202E RIGHT-TO-LEFT OVERRIDE\) at position 1"),
            ("\u2067Acme\u2069", r"\(U\+2067 RIGHT-TO-LEFT ISOLATE\) at position 1"),
            ("\ufeffAcme", r"\(U\+FEFF ZERO WIDTH NO-BREAK SPACE\) at position 1"),
            ("Ac\xadme", r"\(U\+00AD SOFT HYPHEN\) at position 3"),
            ("Ac\u200dme", r"\(U\+200D ZERO WIDTH JOINER\)"),
            ("Acme\x1b[31m", r"control character \(U\+001B ESCAPE\) at position 5"),
            ("Acme\nSrl", r"a line break \(U\+000A LINE FEED\) at position 5; write it on one line"),
            ("Acme\r\nSrl", r"a line break \(U\+000D CARRIAGE RETURN\) at position 5"),
            ("Acme\tSrl", r"a tab \(U\+0009 CHARACTER TABULATION\) at position 5; use a space instead"),
            ("Acme\u2028Srl", r"a line or paragraph separator \(U\+2028 LINE SEPARATOR\) at position 5"),
            ("Acme\x85", r"control character \(U\+0085 NEXT LINE\)"),
            ("Acme\u0378", r"an unassigned code point \(U\+0378\) at position 5; it is not a character"),
            ("Acme\ufffe", r"an unassigned code point \(U\+FFFE\)"),
            ("Acme\ue000", r"a private-use character \(U\+E000\) at position 5"),
            ("Acme\U000f0000", r"a private-use character \(U\+F0000\)"),
            ("Acme\ud800", r"a lone surrogate \(U\+D800\) at position 5; it is not valid Unicode"),
            ("   ", r"legal_name: is empty"),
            ("x" * (LINE_MAX + 1), rf"legal_name: is {LINE_MAX + 1} characters long; shorten it to at most {LINE_MAX}"),
        ],
    )
    def test_refuses_what_no_reader_can_show_and_names_the_field(self, text: str, message: str) -> None:
        """Each kind of refused character is named with its code point and 1-based position."""
        with pytest.raises(InvalidInput, match=message):
            clean_text(text, "legal_name")

    def test_multiline_text_keeps_line_breaks_and_tabs(self) -> None:
        """Descriptions and reasons may span lines: CR LF becomes LF; a lone CR is refused."""
        assert clean_text(" first\r\nsecond\n\tthird \n", "reason", multiline=True) == "first\nsecond\n\tthird"
        with pytest.raises(InvalidInput, match=r"reason: contains a carriage return without a line feed"):
            clean_text("first\rsecond", "reason", multiline=True)
        with pytest.raises(InvalidInput, match=r"reason: contains a control character \(U\+0000 NULL\)"):
            clean_text("first\n\x00", "reason", multiline=True)
        with pytest.raises(InvalidInput, match=r"use a plain line break"):
            clean_text("first\u2029second", "reason", multiline=True)

    def test_normalises_to_nfc_and_trims(self) -> None:
        """One visible text, one encoding: a decomposed accent is stored composed."""
        assert clean_text("  Cafe\u0301 Srl\u00a0", "legal_name") == "Caf\u00e9 Srl"
        assert clean_text("Ångström 東京 🚀", "city") == "Ångström 東京 🚀"

    @pytest.mark.parametrize(
        ("char", "name"),
        [
            ("\u034f", "COMBINING GRAPHEME JOINER"),
            ("\u061c", "ARABIC LETTER MARK"),
            ("\u115f", "HANGUL CHOSEONG FILLER"),
            ("\u1160", "HANGUL JUNGSEONG FILLER"),
            ("\u17b4", "KHMER VOWEL INHERENT AQ"),
            ("\u180b", "MONGOLIAN FREE VARIATION SELECTOR ONE"),
            ("\u180f", "MONGOLIAN FREE VARIATION SELECTOR FOUR"),
            ("\u3164", "HANGUL FILLER"),
            ("\ufe00", "VARIATION SELECTOR-1"),
            ("\ufe0f", "VARIATION SELECTOR-16"),
            ("\uffa0", "HALFWIDTH HANGUL FILLER"),
            ("\U0001bca0", "SHORTHAND FORMAT LETTER OVERLAP"),
            ("\U0001d173", "MUSICAL SYMBOL BEGIN BEAM"),
            ("\U000e0001", "LANGUAGE TAG"),
            ("\U000e0100", "VARIATION SELECTOR-17"),
            ("\U000e01ef", "VARIATION SELECTOR-256"),
        ],
    )
    def test_refuses_every_default_ignorable_code_point(self, char: str, name: str) -> None:
        """Invisible although not of category Cf (marks, letters, fillers): refused in every
        field, single-line or multi-line, naming the character (but for the emoji selectors
        U+FE0E and U+FE0F, which descriptions and reasons may hold)."""
        message = rf"identifier: contains an invisible character \(U\+{ord(char):04X} {name}\) at position 3"
        for multiline in (False,) if char in EMOJI_PRESENTATION else (False, True):
            with pytest.raises(InvalidInput, match=message):
                clean_text(f"IT{char}0987", "identifier", multiline=multiline)

    def test_the_default_ignorable_table_is_the_unicode_property(self) -> None:
        """Every code point of the table that Unicode assigns is invisible (Mn, Me, Cf, Lo
        filler); none of the table's neighbours a reader sees is in it."""
        for low, high in DEFAULT_IGNORABLE:
            for char in map(chr, range(low, high + 1)):
                assert is_default_ignorable(char)
                category = unicodedata.category(char)
                assert category in {"Mn", "Cf", "Cn"} or "FILLER" in unicodedata.name(char), describe_char(char)
        for visible in ("A", "\u00ac", "\u034e", "\u0350", "\u3163", "\u3165", "\ufe10", "\u2070", "\U000f0000"):
            assert not is_default_ignorable(visible)

    def test_a_braille_blank_is_refused_on_one_line_and_kept_in_text(self) -> None:
        """U+2800 shows as a space but is not one: a name or reference may not hold it; a
        description may (Braille text has blanks)."""
        with pytest.raises(
            InvalidInput,
            match=r"identifier: contains a Braille pattern blank, which looks like a space "
            r"\(U\+2800 BRAILLE PATTERN BLANK\) at position 3; use a plain space",
        ):
            clean_text("IT\u28000987", "identifier")
        assert clean_text("\u2801\u2800\u2803", "description", multiline=True) == "\u2801\u2800\u2803"

    def test_an_emoji_selector_is_kept_in_text_and_refused_on_one_line(self) -> None:
        """U+FE0F makes a heart an emoji: a description may hold it; a name or reference may not
        (it is invisible there, and references compare)."""
        assert clean_text("thanks \u2764\ufe0f", "description", multiline=True) == "thanks \u2764\ufe0f"
        with pytest.raises(InvalidInput, match=r"receipt_ref: contains an invisible character \(U\+FE0F"):
            clean_text("JAL-7781\ufe0f", "receipt_ref")

    def test_optional_texts_and_other_types(self) -> None:
        assert clean_text("  ", "reason", required=False) == ""
        with pytest.raises(InvalidInput, match="reason: a rejection needs a reason"):
            clean_text(" ", "reason", missing="a rejection needs a reason")
        with pytest.raises(InvalidInput, match="legal_name: must be text, got int"):
            clean_text(42, "legal_name")

    def test_countries_are_iso_alpha_2(self) -> None:
        assert clean_country(" IT ", "country") == "IT"
        for bad in ("ITA", "it", "I", "\uff29\uff34"):
            with pytest.raises(InvalidInput, match=r"country: country .* must be an ISO 3166 alpha-2 code"):
                clean_country(bad, "country")
        for unassigned in ("XX", "QZ", "AA"):
            with pytest.raises(InvalidInput, match=rf"{unassigned} is not a country's ISO 3166 alpha-2 code"):
                clean_country(unassigned, "country")
        for written, iso in (("EL", "GR"), ("UK", "GB")):
            with pytest.raises(InvalidInput, match=rf"write {iso}, the ISO 3166 code, rather than {written}"):
                clean_country(written, "country")
        assert clean_country("XK", "country") == "XK", "Kosovo, as the EU writes it"


# --- every field the ledger records -----------------------------------------------------
@dataclass
class World:
    """A ledger with one of everything a command can act on."""

    app: GrantLedger
    #: A ledger with no grant yet, to sign one in.
    blank: GrantLedger
    mission: UUID
    sme: UUID
    submitted: UUID
    unpaid: UUID
    payment: UUID
    cost: UUID


@pytest.fixture
def blank() -> Iterator[GrantLedger]:
    ledger = open_ledger("memory://")
    try:
        yield ledger
    finally:
        ledger.close()


@pytest.fixture
def world(memory_app: GrantLedger, blank: GrantLedger) -> World:
    app = memory_app
    sign_alliance(app)
    mission = open_mission(app)
    sme = selected_sme(app, mission)
    paid = submit(app, mission, sme, eur_line("200"))
    app.approve_claim(actor=POINTEX, claim_id=paid, on=DAY)
    payment = app.record_payment(
        actor=POINTEX, payment_id=uuid.uuid4(), claim_id=paid, amount=eur("140"), bank_reference="B-1", on=DAY
    )
    unpaid = submit(app, mission, sme, eur_line("100"))
    app.approve_claim(actor=POINTEX, claim_id=unpaid, on=DAY)
    submitted = submit(app, mission, sme, eur_line("100"))
    cost = app.record_cost(
        actor=POINTEX,
        cost_id=uuid.uuid4(),
        partner="POINTEX",
        category="TRAVEL",
        amount=eur("10"),
        document_ref="INV-1",
        description="taxi",
        on=DAY,
    )
    app.record_rate(actor=POINTEX, currency="USD", month="2023-03", rate=Decimal("1.07"))
    return World(app, blank, mission, sme, submitted, unpaid, payment, cost)


Command = Callable[[World, str], object]


def _partners(code: str = "NTT", name: str = "Next Technology Tecnotessile", country: str = "IT") -> list[PartnerInfo]:
    return [*(p for p in PARTNERS if p.code != "NTT"), PartnerInfo(code, name, country)]


def _transfer(
    w: World, decision_ref: str = "SC-1", reason: str = "more SMEs", transfer_id: UUID | None = None
) -> object:
    return w.app.transfer_budget(
        actor=COORDINATOR,
        transfer_id=transfer_id or uuid.uuid4(),
        from_partner="NTT",
        from_category="FSTP",
        to_partner="POINTEX",
        to_category="FSTP",
        amount=eur("10"),
        decision_ref=decision_ref,
        reason=reason,
        on=DAY,
    )


def _mission(w: World, code: str = "USA-2022", country: str = "US", city: str = "Washington") -> object:
    return w.app.open_mission(
        actor=COORDINATOR,
        code=code,
        country=country,
        city=city,
        start=date(2022, 10, 10),
        end=date(2022, 10, 12),
        responsible_partner="TECHTERA",
        reimbursement_rate=Decimal("0.7"),
        cap_per_sme=eur("2000"),
        eligible_cost_types=["TRAVEL"],
        on=DAY,
    )


def _sme(w: World, legal_name: str = "Acme Srl", country: str = "IT", identifier: str = "IT-NEW-1") -> object:
    return w.app.register_sme(
        actor=POINTEX, sme_id=uuid.uuid4(), legal_name=legal_name, country=country, identifier=identifier, on=DAY
    )


def _claim(w: World, cost_type: str = "TRAVEL", receipt_ref: str = "R-NEW-1", description: str = "flight") -> object:
    line = ExpenseLine(cost_type, date(2023, 3, 14), eur("50"), receipt_ref, description)
    return w.app.submit_claim(
        actor=POINTEX, claim_id=uuid.uuid4(), sme_id=w.sme, mission_id=w.mission, lines=[line], on=date(2023, 4, 1)
    )


def _cost(w: World, document_ref: str = "INV-NEW-1", description: str = "taxi") -> object:
    return w.app.record_cost(
        actor=POINTEX,
        cost_id=uuid.uuid4(),
        partner="POINTEX",
        category="TRAVEL",
        amount=eur("10"),
        document_ref=document_ref,
        description=description,
        on=DAY,
    )


#: field -> a command that records ``text`` in that field.
FIELDS: dict[str, Command] = {
    "code": lambda w, text: w.blank.sign_grant(**grant_terms(code=text)),
    "title": lambda w, text: w.blank.sign_grant(**grant_terms(title=text)),
    "coordinator": lambda w, text: w.blank.sign_grant(**grant_terms(coordinator=text)),
    "decision_ref": lambda w, text: _transfer(w, decision_ref=text),
    "partners.code": lambda w, text: w.blank.sign_grant(**grant_terms(partners=_partners(code=text))),
    r"partners.name \(NTT\)": lambda w, text: w.blank.sign_grant(**grant_terms(partners=_partners(name=text))),
    "reason": lambda w, text: _transfer(w, reason=text),
    "mission code": lambda w, text: _mission(w, code=text),
    "mission country": lambda w, text: _mission(w, country=text),
    "city": lambda w, text: _mission(w, city=text),
    "legal_name": lambda w, text: _sme(w, legal_name=text),
    "sme country": lambda w, text: _sme(w, country=text),
    "identifier": lambda w, text: _sme(w, identifier=text),
    "source": lambda w, text: w.app.record_rate(
        actor=POINTEX, currency="CAD", month="2023-03", rate=Decimal(1), source=text
    ),
    "rate correction reason": lambda w, text: w.app.correct_rate(
        actor=POINTEX, currency="USD", month="2023-03", rate=Decimal("1.08"), reason=text
    ),
    "lines.cost_type": lambda w, text: _claim(w, cost_type=text),
    "lines.receipt_ref": lambda w, text: _claim(w, receipt_ref=text),
    "lines.description": lambda w, text: _claim(w, description=text),
    "approval reason": lambda w, text: w.app.approve_claim(actor=POINTEX, claim_id=w.submitted, on=DAY, reason=text),
    r"decisions.reason \(line 1\)": lambda w, text: w.app.approve_claim(
        actor=POINTEX, claim_id=w.submitted, on=DAY, decisions=[LineDecision(1, eur("50"), text)]
    ),
    "rejection reason": lambda w, text: w.app.reject_claim(actor=POINTEX, claim_id=w.submitted, reason=text, on=DAY),
    "withdrawal reason": lambda w, text: w.app.withdraw_claim(actor=POINTEX, claim_id=w.submitted, reason=text, on=DAY),
    "bank_reference": lambda w, text: w.app.record_payment(
        actor=POINTEX, payment_id=uuid.uuid4(), claim_id=w.unpaid, amount=eur("10"), bank_reference=text, on=DAY
    ),
    "reversal reason": lambda w, text: w.app.reverse_payment(actor=POINTEX, payment_id=w.payment, reason=text, on=DAY),
    "document_ref": lambda w, text: _cost(w, document_ref=text),
    "cost description": lambda w, text: _cost(w, description=text),
    "cost correction reason": lambda w, text: w.app.correct_cost(
        actor=POINTEX, cost_id=w.cost, amount=eur("12"), reason=text, on=DAY
    ),
    "actor id": lambda w, text: Actor.officer(text, "POINTEX"),
    "actor partner": lambda w, text: Actor.coordinator("claire", text),
}


def _field_name(label: str) -> str:
    """The name the error gives: the label without the words that only tell cases apart."""
    for prefix in ("mission ", "sme ", "rate correction ", "approval ", "rejection ", "withdrawal ", "reversal "):
        label = label.removeprefix(prefix)
    return label.removeprefix("cost correction ").removeprefix("cost ")


class TestEveryField:
    @pytest.mark.parametrize("label", FIELDS)
    @pytest.mark.parametrize(
        ("bad", "what"),
        [
            ("X\x00Y", r"a control character \(U\+0000 NULL\) at position 2"),
            ("X\u200bY", r"an invisible character \(U\+200B ZERO WIDTH SPACE\) at position 2"),
        ],
    )
    def test_a_bad_character_is_refused_naming_the_field(self, world: World, label: str, bad: str, what: str) -> None:
        """Every free-text and identifier field refuses NUL and invisible characters, records
        nothing, and the message starts with the field's name."""
        message = rf"^{_field_name(label)}: contains {what}"
        with records_nothing(world.app), records_nothing(world.blank), pytest.raises(InvalidInput, match=message):
            FIELDS[label](world, bad)

    def test_accepted_text_is_stored_clean(self, world: World) -> None:
        """What the ledger records is the cleaned text: NFC, trimmed, LF line breaks."""
        app = world.app
        sme = _sme(world, legal_name="  Cafe\u0301 Srl ", identifier="IT-CLEAN-1")
        assert isinstance(sme, UUID)
        assert app.sme(sme).legal_name == "Caf\u00e9 Srl"
        app.reject_claim(actor=POINTEX, claim_id=world.submitted, reason="receipt\r\nillegible ", on=DAY)
        rejected = list(app.events.get(world.submitted))[-1]
        assert isinstance(rejected, Claim.Rejected)
        assert rejected.reason == "receipt\nillegible"
        claim_id = _claim(world, receipt_ref=" R-Cle\u0301an ", description="line one\r\nline two")
        assert isinstance(claim_id, UUID)
        assert app.claim(claim_id).lines[0] == ExpenseLine(
            "TRAVEL", date(2023, 3, 14), eur("50"), "R-Cl\u00e9an", "line one\nline two"
        )

    def test_a_repeated_command_with_the_same_text_is_the_same_command(self, world: World) -> None:
        """Idempotent repeats compare the cleaned text, so padding or a decomposed accent in
        the repeat does not make it a different command."""
        app = world.app
        transfer_id, payment_id = uuid.uuid4(), uuid.uuid4()
        for decision_ref, bank_reference in ((" SC-Cafe\u0301 ", " SEPA-\u00e9 "), ("SC-Caf\u00e9", "SEPA-e\u0301")):
            with_padding = _transfer(world, decision_ref=decision_ref, transfer_id=transfer_id)
            assert with_padding == transfer_id
            paid = app.record_payment(
                actor=POINTEX,
                payment_id=payment_id,
                claim_id=world.unpaid,
                amount=Money.eur("70"),
                bank_reference=bank_reference,
                on=DAY,
            )
            assert paid == payment_id


class TestMissionCodes:
    @pytest.mark.parametrize("code", ["../x", "JPN 2023", "a&b", "Ünï-1", "X" * 41])
    def test_a_code_is_letters_digits_dash_and_underscore(self, world: World, code: str) -> None:
        """A mission's code goes into addresses and file names: anything else is refused, with
        what to write, and nothing is recorded (the JSON API's schema had the rule; the ledger
        now holds it, for every entrypoint)."""
        with records_nothing(world.app), pytest.raises(InvalidInput, match=r"^code: .* is not a code; use letters"):
            _mission(world, code=code)

    def test_a_code_is_kept_in_capitals(self, world: World) -> None:
        mission = _mission(world, code="osa-2024_b")
        assert isinstance(mission, UUID)
        assert world.app.mission(mission).code == "OSA-2024_B"
