"""Text as the auditors' tools must read it: data, never formulas, lines, postings or directives.

The read models may hold any text (an old store holds whatever was accepted then), so every
text that reaches an export goes through one function here, one per tool:

- ``cell``: a CSV or XLSX cell. Numbers stay numbers; a text that a spreadsheet would read as
  a formula (OWASP "CSV injection": it starts with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return, also in their full-width forms or after leading blanks) gets a leading
  single quote, and the few characters a workbook cannot hold (most controls, lone
  surrogates) are written as visible ``\\uXXXX`` escapes.
- ``journal_text``: a description or metadata value in the hledger or beancount journal, on
  one line, with no comment start, payee separator or tag separator left in it;
  ``beancount_string`` quotes it as a beancount string.
- ``account_component``: one component of an account name both tools accept: capital ASCII
  letters, digits and hyphens, starting with a letter or a digit. A text that is not one
  already is cleaned to one and marked with a digest of the original, so that two different
  codes never share an account.

In the journals escapes are ``\\uXXXX`` (``\\UXXXXXXXX`` beyond the first plane) and a backslash
is written ``\\\\``, so the original text can always be read back.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal

from ledger.grant import Category

#: Unicode categories never written as they are: controls, format characters (zero-width,
#: bidirectional overrides), surrogates, private use, unassigned, line and paragraph separators.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _visible(text: str, unsafe: Callable[[str], bool]) -> str:
    """``text`` with a backslash doubled and every unsafe character as its escape."""
    return "".join("\\\\" if ch == "\\" else _escape(ch) if unsafe(ch) else ch for ch in text)


# --- spreadsheets: CSV and XLSX ---------------------------------------------------------------

#: What makes a spreadsheet read a cell as a formula (compared after NFKC, so full-width
#: and small forms such as U+FF1D count too).
_FORMULA_STARTS = frozenset("=+-@")
#: Characters that start a formula by themselves at the start of a cell (OWASP).
_FORMULA_BLANKS = frozenset("\t\r\n")
#: Characters an XLSX cell cannot hold (XML 1.0), and lone surrogates (no UTF-8 for them).
_XLSX_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

Cell = Decimal | int | str


def _reads_as_formula(text: str) -> bool:
    if text[:1] in _FORMULA_BLANKS:
        return True
    for ch in text:  # the first character that shows, past blanks and invisible ones
        if ch.isspace() or unicodedata.category(ch) in _INVISIBLE:
            continue
        return unicodedata.normalize("NFKC", ch)[:1] in _FORMULA_STARTS
    return False


def cell(value: object) -> Cell:
    """A value as a CSV or XLSX cell: exact numbers as they are, anything else as safe text."""
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return value
    text = _XLSX_ILLEGAL.sub(lambda m: _escape(m.group()), "" if value is None else str(value))
    return f"'{text}" if _reads_as_formula(text) else text


# --- journals: hledger and beancount ----------------------------------------------------------

#: ';' starts a comment (hledger, and beancount outside strings), '#' a comment line, '|'
#: separates payee and note (hledger), ',' ends a tag value (hledger).
_JOURNAL_SEPARATORS = frozenset(";#|,")
#: What printable ASCII text may hold that is escaped (the quick check for most texts).
_PLAIN_UNSAFE = re.compile(r"[;#|,\\]")


def _journal_unsafe(char: str) -> bool:
    return char in _JOURNAL_SEPARATORS or unicodedata.category(char) in _INVISIBLE


def journal_text(text: str) -> str:
    """A description or metadata value for either journal: one line, nothing but text.

    Line breaks of every kind, tabs and other controls, comment starts, the payee and tag
    separators are escaped; so is a leading '(' (hledger would read a transaction code).
    """
    plain = text.isascii() and text.isprintable() and not _PLAIN_UNSAFE.search(text)
    visible = text if plain else _visible(text, _journal_unsafe)
    return _escape("(") + visible[1:] if visible.startswith("(") else visible


def beancount_string(text: str) -> str:
    """``journal_text(text)`` as a beancount string: quoted, its quotes and backslashes escaped."""
    escaped = journal_text(text).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


#: beancount's metadata keys: a lower-case letter, then letters, digits, '-' and '_'.
_META_KEY = re.compile(r"[a-z][a-zA-Z0-9_-]*")


def beancount_meta(key: str, value: str) -> str:
    """One metadata line of a beancount transaction (the key is ours: it must be valid)."""
    if not _META_KEY.fullmatch(key):
        raise ValueError(f"{key!r} is not a beancount metadata key")
    return f"  {key}: {beancount_string(value)}"


_COMPONENT = re.compile(r"[A-Z0-9][A-Z0-9-]*")
#: Category codes are a closed list: their underscores read as hyphens (OTHER-GOODS-SERVICES).
_CATEGORIES = {c.value: c.value.replace("_", "-") for c in Category}
#: An id as the read models write it (a UUID in lower case): written in capitals.
_ID = re.compile(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}")
#: Valid components that other texts are written as: a text that is one of them is not kept
#: as it is (a cleaned text's digest mark, a capitalised id, a category's hyphenated form).
_TAKEN = re.compile(
    r".*-H[0-9A-F]{16}|[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}|"
    + "|".join(re.escape(form) for code, form in _CATEGORIES.items() if form != code)
)


@functools.lru_cache(maxsize=1 << 16)
def account_component(text: str) -> str:
    """One account name component from a code (a partner, a category, an SME's id).

    A code already made of capital letters, digits and hyphens is kept; a category's
    underscores become hyphens and an id is written in capitals; any other text (lower case,
    spaces, ':', accents, symbols) is cleaned to capitals, digits and hyphens and marked
    ``-H`` and 16 hex digits of its SHA-256, so different texts never share an account.
    """
    if text in _CATEGORIES:
        return _CATEGORIES[text]
    if _ID.fullmatch(text):
        return text.upper()
    if _COMPONENT.fullmatch(text) and not _TAKEN.fullmatch(text):
        return text
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper()
    cleaned = re.sub(r"[^A-Z0-9]+", "-", ascii_text).strip("-") or "X"
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16].upper()
    return f"{cleaned}-H{digest}"
