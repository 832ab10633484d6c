"""The escaping every exported text goes through: cells, journal texts, account name components."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import account, data
from hypothesis import given
from hypothesis import strategies as st

from ledger.grant import Category
from projections.escaping import account_component, beancount_meta, beancount_string, cell, journal_text
from tests.projections.hostile import ATTACKS, PARTNER_ATTACKS
from tests.projections.test_export_cells import neutral

#: What may never be left in a journal text: line breaks of every kind, other controls, comment
#: starts, the payee and tag separators.
JOURNAL_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029;#|,]")
#: Any text, lone surrogates included (JSON can hold them, so an old store may).
ANY_TEXT = st.text(st.characters(exclude_categories=()))
ESCAPE = re.compile(r"\\\\|\\u([0-9a-f]{4})|\\U([0-9a-f]{8})")


def unescape(text: str) -> str:
    return ESCAPE.sub(lambda m: "\\" if m.group() == "\\\\" else chr(int(m.group(1) or m.group(2), 16)), text)


class TestJournalText:
    @pytest.mark.parametrize("text", ATTACKS)
    def test_one_line_of_plain_text_that_reads_back(self, text: str) -> None:
        """No line break, control, comment start or separator is left; the escapes read back."""
        escaped = journal_text(text)
        assert not JOURNAL_UNSAFE.search(escaped)
        assert unescape(escaped) == text

    @given(ANY_TEXT)
    def test_any_text(self, text: str) -> None:
        """Whatever the text (surrogates included), the same holds and it can be written as UTF-8."""
        escaped = journal_text(text)
        assert not JOURNAL_UNSAFE.search(escaped)
        assert unescape(escaped) == text
        escaped.encode("utf-8")

    def test_a_leading_parenthesis_is_no_transaction_code(self) -> None:
        """hledger would read '(code)' at the start of a description as the transaction's code."""
        assert journal_text("(code) text") == "\\u0028code) text"

    def test_beancount_reads_its_strings_as_the_escaped_text(self, tmp_path: Path) -> None:
        """A narration and metadata value in beancount read back as journal_text(text), with
        quotes and backslashes intact, and nothing else is parsed."""
        out = ["2021-01-01 open Assets:A EUR", "2021-01-01 open Assets:B EUR", ""]
        for text in ATTACKS:
            out += [f"2021-01-02 * {beancount_string(text)}", beancount_meta("note", text)]
            out += ["  Assets:A  1.00 EUR", "  Assets:B  -1.00 EUR", ""]
        path = tmp_path / "t.beancount"
        path.write_text("\n".join(out), encoding="utf-8")
        entries, errors, _ = loader.load_file(str(path))
        assert not errors
        transactions = [e for e in entries if isinstance(e, data.Transaction)]
        assert [(e.narration, e.meta["note"]) for e in transactions] == [
            (journal_text(t), journal_text(t)) for t in ATTACKS
        ]

    def test_metadata_keys_must_be_valid(self) -> None:
        """A key beancount would not read is a programming error, refused."""
        with pytest.raises(ValueError, match="metadata key"):
            beancount_meta("Actor name", "x")


CODES = (
    *PARTNER_ATTACKS,
    *ATTACKS,
    *(c.value for c in Category),
    "OTHER-GOODS-SERVICES",
    "",
    "-",
    "X-H0123456789ABCDEF",
    str(uuid.UUID(int=7)),
    str(uuid.UUID(int=7)).upper(),
    "Caf\u00e9",
    "CAFE",
)


class TestAccountComponent:
    @pytest.mark.parametrize("text", CODES)
    def test_valid_in_both_tools(self, text: str) -> None:
        """Capital ASCII letters, digits and hyphens, a letter or digit first: beancount's rules,
        and nothing that ends an hledger account name (two spaces, a tab) or a component (':')."""
        component = account_component(text)
        assert re.fullmatch(r"[A-Z0-9][A-Z0-9-]*", component)
        assert account.is_valid(f"Assets:{component}")

    def test_different_codes_never_share_an_account(self) -> None:
        """Codes that clean to the same letters (NTT, ntt, N:TT...) stay apart."""
        components = {account_component(text) for text in CODES}
        assert len(components) == len(set(CODES))

    @pytest.mark.parametrize(
        ("text", "component"),
        [
            ("NTT", "NTT"),
            ("POINTEX-2", "POINTEX-2"),
            ("OTHER_GOODS_SERVICES", "OTHER-GOODS-SERVICES"),
            ("9757b675-3b45-4816-9bb4-c1771753a9de", "9757B675-3B45-4816-9BB4-C1771753A9DE"),
        ],
    )
    def test_account_names_of_valid_codes_are_kept(self, text: str, component: str) -> None:
        """Partner codes, categories and SME ids keep the account names they always had."""
        assert account_component(text) == component

    @given(ANY_TEXT)
    def test_any_text_gives_a_valid_component(self, text: str) -> None:
        assert account.is_valid(f"Assets:{account_component(text)}")


class TestCell:
    #: OWASP's starts, their full-width and small forms, and the same past blanks or invisible characters.
    FORMULAS = ("=1", "+1", "-1", "@A1", "\t1", "\r1", "\n1", "\uff1d1", "\uff0b1", "\uff0d1", "\uff20A1", "\ufe621")
    HIDDEN = (" =1", "\u3000=1", "\u200b=1", "\ufeff=1", "\u202e=1")

    @pytest.mark.parametrize("text", FORMULAS + HIDDEN)
    def test_text_that_starts_a_formula_is_quote_prefixed(self, text: str) -> None:
        """OWASP's characters, their full-width and small forms, also past blanks and invisible ones."""
        assert cell(text) == "'" + text

    @pytest.mark.parametrize("text", ["", "TOTAL", "1-2", "a=b", "#N/A", "'quoted", "2023-04-01"])
    def test_other_text_is_kept(self, text: str) -> None:
        assert cell(text) == text

    def test_numbers_stay_numbers(self) -> None:
        """Decimals and integers (negative ones too) are cells of their own type; None is empty."""
        assert cell(Decimal("-12.50")) == Decimal("-12.50")
        assert cell(-3) == -3
        assert cell(None) == ""
        assert cell(True) == "True"

    @given(ANY_TEXT)
    def test_any_text_is_safe_to_write(self, text: str) -> None:
        """Whatever the text, its cell starts no formula unless quote-prefixed, holds no character
        an XLSX cell cannot, and can be written as UTF-8."""
        written = cell(text)
        assert isinstance(written, str)
        assert neutral(written)
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", written)
        written.encode("utf-8")
