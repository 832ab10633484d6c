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
#: Removed from a reference or identifier before comparing, besides whitespace (any Unicode
#: space or line break) and every dash (Unicode category Pd: hyphens, en and em dashes...).
SEPARATORS = frozenset(".,;:/\\_'\u2019\u00b7\u2212\u00ad")
#: Scripts that may share one reference (UTS #39 "highly restrictive"): Latin with Han and the
#: Japanese kana, with Han and Bopomofo, or with Han and Hangul. Any other mix is refused.
_MIXES = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)


def _is_separator(char: str) -> bool:
    return char.isspace() or char in SEPARATORS or unicodedata.category(char) in {"Pd", "Zs", "Zl", "Zp", "Cf"}


def _script(char: str) -> str | None:
    """The script of a letter, from its Unicode name (None for a character of no script)."""
    if not unicodedata.category(char).startswith("L") or unicodedata.category(char) == "Lm":
        return None
    name = unicodedata.name(char, "")
    first = name.split(" ", 1)[0]
    return "HAN" if first == "CJK" else first or None


def canonical_key(value: str, what: str = "reference") -> str:
    """A reference or identifier as the ledger compares it: NFKC, case-folded, with spaces and
    separators removed ("IT 0987-654" is "it0987654"). Refuses a value with no letter or digit,
    and one whose letters mix scripts that look alike (a Cyrillic 'А' inside a Latin reference)."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    key = "".join(c for c in folded if not _is_separator(c))
    if not any(c.isalnum() for c in key):
        raise InvalidInput(f"{what} {value!r} has no letter or digit; give the reference as written on the document")
    scripts: dict[str, str] = {}
    for char in unicodedata.normalize("NFKC", value):
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
