"""Identifiers: the ids the ledger derives from natural keys, the ids derived from other
names, and the canonical form in which references and identifiers compare.

Three id spaces that never meet:
- ``natural_id``: the ledger's own aggregates named by a natural key (a receipt reference, an
  SME identifier, a rate's currency and month, a mission code, a budget line, the grant) are
  name-based UUIDs, version 5 in the ledger's namespace. Only the ledger creates them.
- ``derived_id``: an id derived from other names (an actor and an Idempotency-Key, a demo
  record's readable names) is a version-8 UUID (RFC 9562, custom) made from SHA-256.
- client-chosen ids are random (version 4 or 7). The ledger refuses to create a record under a
  client-chosen name-based id (version 3 or 5) or the nil or max UUID (``require_chosen_id``),
  so no client can take an id the ledger will one day derive.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from uuid import UUID, uuid5

from ledger.errors import InvalidInput
from ledger.text import is_default_ignorable

NAMESPACE = UUID("6f1c2b8e-53a4-4d7e-9a51-2f0e8c6b7d10")
_MAX_UUID = (1 << 128) - 1


def natural_id(kind: str, *parts: str) -> UUID:
    """The id of the aggregate of this kind with this natural key (uuid5)."""
    return uuid5(NAMESPACE, "/".join((kind, *parts)))


def derived_id(kind: str, *parts: str) -> UUID:
    """A deterministic id that is not name-based: a version-8 UUID from the SHA-256 of the
    kind and parts (encoded without ambiguity), so it never equals a ``natural_id``."""
    digest = hashlib.sha256(json.dumps([kind, *parts], ensure_ascii=False).encode()).digest()
    value = int.from_bytes(digest[:16], "big")
    value = (value & ~(0xF << 76)) | (0x8 << 76)  # version 8
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 9562 variant
    return UUID(int=value)


def require_chosen_id(what: str, value: UUID) -> None:
    """Refuse a client-chosen id for a NEW record if it could be one the ledger derives."""
    if value.int == 0:
        raise InvalidInput(f"{what} id {value} is the nil UUID; use a random UUID (version 4), e.g. from uuid4()")
    if value.int == _MAX_UUID:
        raise InvalidInput(f"{what} id {value} is the max UUID; use a random UUID (version 4), e.g. from uuid4()")
    if value.version in (3, 5):
        raise InvalidInput(
            f"{what} id {value} is a name-based UUID (version {value.version}), the kind the ledger "
            "derives for its own records; use a random UUID (version 4), e.g. from uuid4()"
        )


# --- canonical keys -----------------------------------------------------------------------
#: Scripts that may share one reference (UTS #39 "highly restrictive"): Latin with Han and the
#: Japanese kana, with Han and Bopomofo, or with Han and Hangul. Any other mix is refused.
_MIXES = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
#: Greek and Cyrillic letters that look like a Latin letter, mapped to it: a small "skeleton"
#: after the idea of Unicode's confusables.txt (UTS #39), so that a reference typed wholly in
#: look-alike letters ("ΤΑΧ-7781" in Greek) is the Latin one. Keys are the case-folded forms,
#: so a capital and its small letter map alike; the target is the Latin letter the CAPITAL
#: looks like (references are written in capitals: Greek Η and Cyrillic Н are "h", Greek Ν
#: is "n" although its small letter looks like a "v"). Only letters whose capital is a
#: look-alike in common fonts are listed; the table is deliberately not all of confusables.txt.
_LOOK_ALIKES = str.maketrans(
    {
        # Greek: Α Β Ε Ζ Η Ι Κ Μ Ν Ο Ρ Τ Υ Χ
        "\u03b1": "a",
        "\u03b2": "b",
        "\u03b5": "e",
        "\u03b6": "z",
        "\u03b7": "h",
        "\u03b9": "i",
        "\u03ba": "k",
        "\u03bc": "m",
        "\u03bd": "n",
        "\u03bf": "o",
        "\u03c1": "p",
        "\u03c4": "t",
        "\u03c5": "y",
        "\u03c7": "x",
        # Cyrillic: А В Е К М Н О Р С Т У Х І Ј Ѕ
        "\u0430": "a",
        "\u0432": "b",
        "\u0435": "e",
        "\u043a": "k",
        "\u043c": "m",
        "\u043d": "h",
        "\u043e": "o",
        "\u0440": "p",
        "\u0441": "c",
        "\u0442": "t",
        "\u0443": "y",
        "\u0445": "x",
        "\u0456": "i",
        "\u0458": "j",
        "\u0455": "s",
    }
)


def _script(char: str) -> str | None:
    """The script of a letter, from its Unicode name (None for a character of no script)."""
    if not unicodedata.category(char).startswith("L") or unicodedata.category(char) == "Lm":
        return None
    name = unicodedata.name(char, "")
    first = name.split(" ", 1)[0]
    return "HAN" if first == "CJK" else first or None


def _without_symbols(value: str) -> str:
    """The value without its punctuation, symbols, separators, controls and default-ignorable
    code points, taken out before NFKC so that one whose compatibility form holds letters
    ("™" is "TM", "⒜" is "(a)") is still nothing but a symbol."""
    return "".join(c for c in value if unicodedata.category(c)[0] not in "PSZC" and not is_default_ignorable(c))


def _is_spacing_modifier(char: str) -> bool:
    """A spacing modifier letter that is still one after NFKC (U+02B9 prime, U+02BC apostrophe,
    U+02C6 circumflex, U+02D0 length mark...): it reads as punctuation or an accent. (The
    superscript letters of the block are plain letters after NFKC.)"""
    return 0x02B0 <= ord(char) <= 0x02FF and unicodedata.category(char) == "Lm"


def fold_key(value: str) -> str:
    """The comparison form of a text, without the checks of ``canonical_key``: NFKC and case
    folded; decomposed (NFD) so that accents and every other combining mark are dropped; each
    decimal digit of any script as its ASCII digit; only letters and numbers kept (every
    punctuation, symbol, space, separator, control and default-ignorable code point goes, and
    the modifier letters that look like punctuation);
    recomposed (NFC); and Greek and Cyrillic look-alikes of Latin letters as the Latin letter."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", _without_symbols(value)).casefold())
    kept: list[str] = []
    for char in unicodedata.normalize("NFD", folded):
        category = unicodedata.category(char)
        if category == "Nd":
            kept.append(str(unicodedata.digit(char)))
        elif category[0] in "LN" and not is_default_ignorable(char) and not _is_spacing_modifier(char):
            kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept)).translate(_LOOK_ALIKES)


def canonical_key(value: str, what: str = "reference") -> str:
    """A reference or identifier as the ledger compares it (``fold_key``): what a person reads
    as the same reference is the same key ("IT 0987-654", "it(0987)654", "ΙΤ0987654" in Greek
    letters and "IT٠٩٨٧٦٥٤" with Arabic-Indic digits are all "it0987654"). Refuses a value with
    no letter or digit, and one whose letters mix scripts that look alike (a Cyrillic 'А'
    inside a Latin reference): such a value is a mistake or a deception, never a reference."""
    key = fold_key(value)
    if not key:
        raise InvalidInput(f"{what} {value!r} has no letter or digit; give the reference as written on the document")
    scripts: dict[str, str] = {}
    for char in unicodedata.normalize("NFKC", _without_symbols(value)):
        script = _script(char)
        if script is not None:
            scripts.setdefault(script, char)
    if len(scripts) > 1 and not any(set(scripts) <= mix for mix in _MIXES):
        letters = ", ".join(f"{s.title()} {c!r} (U+{ord(c):04X})" for s, c in sorted(scripts.items()))
        raise InvalidInput(
            f"{what} {value!r} mixes letters of different scripts ({letters}); letters that merely look "
            "alike make two references seem one. Type it again in one script, e.g. Latin letters only"
        )
    return key


def legacy_key(value: str) -> str:
    """The comparison form before canonical keys: trimmed, inner whitespace collapsed, upper
    case. Index aggregates recorded before canonical keys have ids derived from it (and mission
    ids still do, so recorded missions keep their ids); it is also the SME identifier's display form."""
    return " ".join(value.split()).upper()
