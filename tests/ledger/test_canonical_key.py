"""The canonical form in which receipt references and SME identifiers compare (issue 11,
section 4): what a person reads as the same reference is one key, whatever separators,
symbols, marks, digits, look-alike letters or invisible code points it was typed with.
"""

from __future__ import annotations

import string
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import InvalidInput
from ledger.ids import canonical_key, fold_key
from ledger.receipts import receipt_id
from ledger.sme import identifier_index_id
from ledger.text import clean_text, is_default_ignorable

#: "IT0987654" as a person would read it: other separators, symbols, marks, digits, letters.
LOOKS_THE_SAME = {
    "plus sign": "IT+0987654",
    "parentheses": "IT(0987)654",
    "hash": "IT#0987654",
    "katakana middle dot": "IT\u30fb0987654",
    "fraction slash": "IT\u20440987654",
    "asterisk and section sign": "\u00a7IT*0987654",
    "Braille pattern blank": "IT\u28000987654",
    "modifier letter apostrophe": "IT\u02bc0987654",
    "modifier letter prime and vertical line": "IT\u02b90987\u02c8654",
    "superscript letters": "\u2071\u1d400987654",
    "Greek capitals": "\u0399\u03a40987654",
    "Cyrillic capitals": "\u0406\u04220987654",
    "Greek small letters": "\u03b9\u03c40987654",
    "combining acute on a digit": "IT0987654\u0301",
    "combining dot below on a letter": "I\u0323T0987654",
    "Arabic-Indic digits": "IT" + "".join(chr(0x660 + int(d)) for d in "0987654"),
    "Devanagari digits": "IT" + "".join(chr(0x966 + int(d)) for d in "0987654"),
    "mathematical bold digits": "IT" + "".join(chr(0x1D7CE + int(d)) for d in "0987654"),
}
#: "IT0987654" with a default-ignorable code point that is not of category Cf.
INVISIBLE = {
    "combining grapheme joiner": "IT098765\u034f4",
    "variation selector-1": "IT0987654\ufe00",
    "variation selector-16": "IT0987654\ufe0f",
    "variation selector-17": "IT0987654\U000e0100",
    "Mongolian free variation selector": "IT0987654\u180b",
    "Hangul filler": "IT0987654\u3164",
    "Hangul choseong filler": "IT\u115f0987654",
    "Hangul jungseong filler": "IT\u11600987654",
    "halfwidth Hangul filler": "IT\uffa00987654",
}


class TestCanonicalKey:
    @pytest.mark.parametrize(
        "typed",
        [
            "IT 0987-654",
            "it0987654",
            " IT\u00a00987\u2013654 ",  # no-break space, en dash
            "IT.0987/654",
            "IT_0987\u2010654",  # hyphen
            "\uff29\uff34\uff10\uff19\uff18\uff17\uff16\uff15\uff14",  # full-width
            "It 0987\t654",
            "IT\u20090987\u2212654",  # thin space, minus sign
            *LOOKS_THE_SAME.values(),
            *INVISIBLE.values(),
        ],
    )
    def test_separators_case_width_marks_digits_and_look_alikes_do_not_matter(self, typed: str) -> None:
        assert canonical_key(typed) == "it0987654"

    def test_letters_and_digits_matter(self) -> None:
        """Only punctuation, symbols, spaces, marks and invisible characters go: the letters and
        digits a person reads stay, case-folded (not upper-cased)."""
        assert canonical_key("INV#1") == canonical_key("INV 1")  # every punctuation goes now
        assert len({canonical_key(typed) for typed in ("INV-1", "INV-7", "INV-1A", "INW-1", "INV-1B", "I-NV1")}) == 5
        assert canonical_key("Stra\u00dfe-1") == canonical_key("STRASSE 1")  # case folding, not upper case
        assert canonical_key("Caf\u00e9-1") == canonical_key("CAFE 1") == canonical_key("Cafe\u0301 1")

    @pytest.mark.parametrize("typed", ["", "   ", "-/-", "\u2014"])
    def test_a_reference_without_letter_or_digit_is_refused(self, typed: str) -> None:
        with pytest.raises(InvalidInput, match="has no letter or digit"):
            canonical_key(typed, "receipt reference")

    @pytest.mark.parametrize(
        ("typed", "scripts"),
        [
            ("INV-\u04101", r"Cyrillic 'А' \(U\+0410\), Latin 'I' \(U\+0049\)"),
            ("\u0391BC-12", r"Greek 'Α' \(U\+0391\), Latin 'B'"),
            ("p\u0430ypal", "Cyrillic"),
        ],
    )
    def test_look_alike_letters_of_another_script_are_refused(self, typed: str, scripts: str) -> None:
        with pytest.raises(InvalidInput, match=f"mixes letters of different scripts .*{scripts}"):
            canonical_key(typed, "receipt reference")

    def test_one_script_or_an_east_asian_mix_is_accepted(self) -> None:
        """A reference in one script is accepted; its letters that look Latin compare as the
        Latin letter, the others stay (Cyrillic 'Ч', Greek 'Λ'), in any case."""
        assert canonical_key("\u0421\u0427\u0401\u0422-12") == "c\u0447et12"  # Cyrillic СЧЁТ: Ё is Е
        assert canonical_key("\u0441\u0447\u0451\u0442 12") == "c\u0447et12"  # the same in small letters
        assert canonical_key("\u03a4\u0399\u039c-3") == canonical_key("\u03c4\u03b9\u03bc 3") == "tim3"  # Greek
        assert canonical_key("\u039b\u039f\u0393-3") == "\u03bbo\u03b33"  # Greek ΛΟΓ: only Ο looks Latin
        assert canonical_key("INV-東京-ホテル-7") == "inv東京ホテル7"
        assert canonical_key("서울-7") == "서울7"  # Hangul decomposes and composes again

    @pytest.mark.parametrize(
        ("latin", "look_alike"),
        [
            ("TAX-7781", "\u03a4\u0391\u03a7-7781"),  # Greek ΤΑΧ
            ("TAX-7781", "\u0422\u0410\u0425-7781"),  # Cyrillic ТАХ
            ("tax-7781", "\u03c4\u03b1\u03c7-7781"),  # Greek, small letters
            ("ABEZHIKMNOPTYX", "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ"),  # every Greek capital of the table
            ("ABEKMHOPCTYXIJS", "АВЕКМНОРСТУХІЈЅ"),  # every Cyrillic capital of the table
        ],
    )
    def test_a_reference_wholly_in_look_alike_letters_is_the_latin_one(self, latin: str, look_alike: str) -> None:
        assert canonical_key(look_alike) == canonical_key(latin)

    def test_receipt_and_identifier_ids_use_it(self) -> None:
        assert receipt_id("INV 2023-001") == receipt_id("inv2023001")
        assert identifier_index_id("IT 09876543210") == identifier_index_id("it09876543210")


def _insertable() -> list[str]:
    """Every punctuation, symbol and separator character (categories P*, S*, Z*), every
    default-ignorable code point and the spacing modifier letters that look like punctuation
    (U+02B9 prime, U+02BC apostrophe...): what may be typed into a reference without changing it."""

    def modifier(char: str) -> bool:
        return "\u02b0" <= char <= "\u02ff" and unicodedata.normalize("NFKC", char) == char

    return [
        chr(code)
        for code in range(0x110000)
        if unicodedata.category(chr(code))[0] in "PSZ" or is_default_ignorable(chr(code)) or modifier(chr(code))
    ]


INSERTABLE = _insertable()
#: References in one script: Latin letters and digits, or Greek or Cyrillic letters and digits.
REFERENCES = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=12),
    st.text(alphabet="\u0391\u0392\u0393\u0394\u039b\u03a3\u03b1\u03b2\u03bb\u03c3\u03c9" + string.digits, min_size=1),
    st.text(alphabet="\u0410\u0411\u0416\u0418\u0427\u042f\u0430\u0431\u0436\u0447\u044f" + string.digits, min_size=1),
)


class TestCanonicalKeyProperties:
    @given(value=REFERENCES, inserted=st.lists(st.tuples(st.integers(0, 12), st.sampled_from(INSERTABLE)), max_size=4))
    @settings(max_examples=400)
    def test_a_separator_or_invisible_character_anywhere_changes_nothing_or_is_refused(
        self, value: str, inserted: list[tuple[int, str]]
    ) -> None:
        """The key of a reference with punctuation, symbols, spaces or default-ignorable code
        points inserted anywhere is the reference's key; and the text check either accepts the
        typed reference (with that same key) or refuses it."""
        typed = value
        for position, char in inserted:
            typed = typed[:position] + char + typed[position:]
        assert canonical_key(typed) == canonical_key(value)
        try:
            cleaned = clean_text(typed, "receipt_ref")
        except InvalidInput:
            return
        if fold_key(cleaned):
            assert canonical_key(cleaned) == canonical_key(value)

    @given(value=st.text(max_size=20))
    @settings(max_examples=600)
    def test_the_key_is_idempotent(self, value: str) -> None:
        """fold_key of a key is the key, for any text; canonical_key of an accepted value's key
        is the key again, unless the key keeps letters of a script beside Latin look-alikes
        ("ΛΟΓ" is "λoγ"), which is refused as a mix like any other."""
        key = fold_key(value)
        assert fold_key(key) == key
        try:
            accepted = canonical_key(value)
        except InvalidInput:
            return
        assert accepted == key
        try:
            again = canonical_key(key)
        except InvalidInput as refused:
            again = str(refused)
        assert again == key or (
            "mixes letters of different scripts" in again and any(char in "abcehijkmnopstxyz" for char in key)
        )
