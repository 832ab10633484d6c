"""Text as the ledger records it: one check for every free-text and identifier field.

Whatever a command accepts ends up in events kept for years, in read models on SQLite and
PostgreSQL, in exports and journals. So the ledger refuses, at the edge of the domain, what
no reader can show or store faithfully:
- control characters (Unicode category Cc: NUL, escape, ...); a line break or a tab only in
  multi-line text (descriptions and reasons), where CR LF becomes LF;
- line and paragraph separators (Zl, Zp), which break lines where a plain line break is not
  expected;
- invisible format characters (Cf: zero width spaces and joiners, the byte order mark, soft
  hyphen, bidirectional overrides and isolates, which can make a text read differently from
  what it holds);
- code points that are not characters: unassigned (Cn), private use (Co), lone surrogates (Cs);
- every default-ignorable code point (``DEFAULT_IGNORABLE``), which a reader shows as
  nothing although it is not of category Cf: the combining grapheme joiner, variation
  selectors, Mongolian free variation selectors, Hangul fillers...;
- in single-line text, the Braille pattern blank (U+2800), which shows as a space but is
  not one (multi-line text may hold it, as Braille can).
What it accepts is normalised to NFC (one encoding for one visible text) and trimmed.
"""

from __future__ import annotations

import re
import unicodedata

from ledger.countries import COUNTRIES, ISO_FOR
from ledger.errors import InvalidInput

#: Longest single-line text (a name, code or reference), in characters.
LINE_MAX = 500
#: Longest multi-line text (a description or reason), in characters.
TEXT_MAX = 4000

#: Unicode's Default_Ignorable_Code_Point property, which Python's unicodedata lacks, as
#: inclusive ranges from DerivedCoreProperties.txt of Unicode 15.1 (unchanged in 16.0).
DEFAULT_IGNORABLE: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x061C, 0x061C),  # Arabic letter mark
    (0x115F, 0x1160),  # Hangul choseong and jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian free variation selectors, vowel separator
    (0x200B, 0x200F),  # zero width space, joiners, directional marks
    (0x202A, 0x202E),  # bidirectional embeddings and overrides
    (0x2060, 0x206F),  # word joiner, invisible operators, isolates, deprecated formats
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),  # zero width no-break space (byte order mark)
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF0, 0xFFF8),  # unassigned, reserved as default-ignorable
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical symbol format controls
    (0xE0000, 0xE0FFF),  # tags, variation selectors supplement, reserved
)
#: Shows as a space but is a Braille pattern (category So).
BRAILLE_BLANK = "\u2800"
#: Text and emoji presentation selectors: allowed in descriptions and reasons only.
EMOJI_PRESENTATION = frozenset("\ufe0e\ufe0f")


def is_whole_number(text: str) -> bool:
    """Whether ``text`` is a whole number written in the digits 0-9 only (``str.isdigit`` also
    takes "²" or "١", which ``int`` refuses or reads as another digit)."""
    return text.isascii() and text.isdigit()


def is_default_ignorable(char: str) -> bool:
    """Whether a character is a Unicode Default_Ignorable_Code_Point (shown as nothing)."""
    code = ord(char)
    return any(low <= code <= high for low, high in DEFAULT_IGNORABLE)


#: Names of the control characters, which the Unicode database leaves unnamed.
_CONTROL_NAMES = {
    0x00: "NULL",
    0x07: "BELL",
    0x08: "BACKSPACE",
    0x09: "CHARACTER TABULATION",
    0x0A: "LINE FEED",
    0x0B: "LINE TABULATION",
    0x0C: "FORM FEED",
    0x0D: "CARRIAGE RETURN",
    0x1B: "ESCAPE",
    0x7F: "DELETE",
    0x85: "NEXT LINE",
}


def describe_char(char: str) -> str:
    """``U+200B ZERO WIDTH SPACE``: a character's code point and name, for messages."""
    code = ord(char)
    name = _CONTROL_NAMES.get(code) or unicodedata.name(char, "")
    return f"U+{code:04X} {name}".rstrip()


def _fault(char: str, following: str, multiline: bool) -> tuple[str, str] | None:
    """What is wrong with one character of a text and what to do, or None if it may stay."""
    category = unicodedata.category(char)
    retype = "retype the text without it"
    if category == "Cc":
        if multiline and (char in "\n\t" or (char == "\r" and following == "\n")):
            return None
        if char == "\r" and multiline:
            return "a carriage return without a line feed", "use a plain line break"
        if char in "\r\n":
            return "a line break", "write it on one line"
        if char == "\t":
            return "a tab", "use a space instead"
        return "a control character", retype
    if category in {"Zl", "Zp"}:
        return "a line or paragraph separator", "use a plain line break" if multiline else "write it on one line"
    if category == "Cf":
        return "an invisible character", retype
    if category == "Cn":
        return "an unassigned code point", f"it is not a character: {retype}"
    if category == "Co":
        return "a private-use character", f"it shows differently on every system: {retype}"
    if category == "Cs":
        return "a lone surrogate", "it is not valid Unicode: send the text again as UTF-8"
    if multiline and char in EMOJI_PRESENTATION:
        return None  # a description may hold an emoji such as U+2764 U+FE0F: nothing compares on it
    if is_default_ignorable(char):
        return "an invisible character", retype
    if char == BRAILLE_BLANK and not multiline:
        return "a Braille pattern blank, which looks like a space", "use a plain space"
    return None


def clean_text(
    value: object,
    field: str,
    *,
    multiline: bool = False,
    max_length: int | None = None,
    required: bool = True,
    missing: str | None = None,
) -> str:
    """The text as the ledger records it, or InvalidInput naming ``field`` and what to do.

    ``multiline`` allows line breaks (CR LF normalised to LF) and tabs; ``max_length``
    defaults to LINE_MAX or TEXT_MAX; ``required`` refuses a text that is empty once trimmed,
    with ``missing`` as the explanation if given (else a generic one).
    """
    if not isinstance(value, str):
        raise InvalidInput(f"{field}: must be text, got {type(value).__name__}")
    if not (value.isascii() and value.isprintable()):
        for index, char in enumerate(value):
            fault = _fault(char, value[index + 1 : index + 2], multiline)
            if fault is not None:
                what, advice = fault
                raise InvalidInput(
                    f"{field}: contains {what} ({describe_char(char)}) at position {index + 1}; {advice}"
                )
        if multiline:
            value = value.replace("\r\n", "\n")
        value = unicodedata.normalize("NFC", value)
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"{field}: {missing or 'is empty; write it in'}")
    limit = max_length if max_length is not None else (TEXT_MAX if multiline else LINE_MAX)
    if len(value) > limit:
        raise InvalidInput(f"{field}: is {len(value)} characters long; shorten it to at most {limit}")
    return value


def clean_optional(value: object, field: str, *, multiline: bool = False, max_length: int | None = None) -> str:
    """``clean_text`` of a text that may be empty (a description, an optional reason)."""
    return clean_text(value, field, multiline=multiline, max_length=max_length, required=False)


def clean_country(value: object, field: str) -> str:
    """An ISO 3166 alpha-2 country code such as IT or FR, in capitals, as assigned."""
    country = clean_text(value, field)
    if len(country) != 2 or not country.isascii() or not country.isalpha() or not country.isupper():
        raise InvalidInput(f"{field}: country {country!r} must be an ISO 3166 alpha-2 code such as IT or FR")
    if country in ISO_FOR:
        raise InvalidInput(f"{field}: write {ISO_FOR[country]}, the ISO 3166 code, rather than {country}")
    if country not in COUNTRIES:
        raise InvalidInput(
            f"{field}: {country} is not a country's ISO 3166 alpha-2 code; write the country's code, such as IT or FR"
        )
    return country


#: A code (a mission's, e.g. JPN-2023): ASCII letters, digits, '-' and '_', kept in capitals.
CODE = re.compile(r"[A-Za-z0-9_-]{1,40}")


def clean_code(value: object, field: str, *, example: str, missing: str | None = None) -> str:
    """A code as the ledger keeps it: clean text (clean_text's checks first) of ASCII letters,
    digits, '-' and '_', at most 40, in capitals; it goes into addresses and file names."""
    text = clean_text(value, field, missing=missing)
    if not CODE.fullmatch(text):
        raise InvalidInput(
            f"{field}: {text[:40]!r} is not a code; use letters A-Z, digits, '-' and '_' only "
            f"(at most 40), e.g. {example}"
        )
    return text.upper()
