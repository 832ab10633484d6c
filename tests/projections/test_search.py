"""One search across claims, SMEs, payments and own costs, with the store's own text search
(SQLite FTS5, PostgreSQL full text): each kind of field, canonical references, amounts,
hostile text, paging, and an index that a replay rebuilds equal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection

from ledger.claim import Claim
from ledger.errors import InvalidInput
from ledger.ids import fold_key
from projections import search
from projections.db import ReadDatabase
from projections.handlers import HANDLERS
from projections.handlers.common import REGISTERED, handles
from projections.replay import compare, rebuild, scratch_database
from tests.conftest import PostgresSchema
from tests.projections.findable import Findable, projected


@pytest.fixture
def books(store_url: str) -> Iterator[tuple[Connection, Findable]]:
    with projected(store_url) as (_app, db, found), db.reading() as conn:
        yield conn, found


def hits(conn: Connection, query: str) -> list[tuple[str, str, list[str]]]:
    """(kind, id, fields matched) of every hit, in order."""
    found, count = search.search(conn, query, limit=100)
    assert count == len(found)
    return [(hit.kind, hit.record_id, [m.field for m in hit.matches]) for hit in found]


class TestFields:
    def test_sme_name_by_prefix_any_case_and_accents(self, books: tuple[Connection, Findable]) -> None:
        """`ferr` finds both SMEs whose name has a word starting so; accents and case do not matter."""
        conn, found = books
        assert {h[1] for h in hits(conn, "ferr")} == {str(found.smes["ferrari"]), str(found.smes["ferro"])}
        assert hits(conn, "FERRARI tess") == [("sme", str(found.smes["ferrari"]), ["legal_name"])]
        assert hits(conn, "legere") == [("sme", str(found.smes["creme"]), ["legal_name"])]
        assert hits(conn, "LÉGÈRE") == hits(conn, "legere")

    def test_identifier_as_written_and_in_canonical_form(self, books: tuple[Connection, Findable]) -> None:
        """ "IT 0987-654" was registered; "it0987654", "IT-0987 654" and its start find it."""
        conn, found = books
        ferrari = [("sme", str(found.smes["ferrari"]), ["identifier"])]
        for query in ("it0987654", "IT 0987-654", "IT-0987 654", "it0987"):
            assert hits(conn, query) == ferrari, query

    def test_receipt_reference_and_description_of_a_claim_line(self, books: tuple[Connection, Findable]) -> None:
        conn, found = books
        paid = str(found.claims["paid"])
        assert hits(conn, "rcpt77a") == [("claim", paid, ["receipt_ref"])]
        assert hits(conn, "RCPT-77") == [("claim", paid, ["receipt_ref"])]
        assert hits(conn, "milan tokyo") == [("claim", paid, ["description"])]
        first, _ = search.search(conn, "shinjuku")
        assert first[0].matches[0].part == 1
        assert first[0].matches[0].value == "hotel Shinjuku"
        assert "Ferrovia Compositi" in first[0].label
        assert "JPN-2023" in first[0].label

    def test_bank_reference_of_a_payment(self, books: tuple[Connection, Findable]) -> None:
        conn, found = books
        assert hits(conn, "SEPA 2023/0412") == [("payment", str(found.payments["paid"]), ["bank_reference"])]
        assert hits(conn, "sepa20230412") == [("payment", str(found.payments["paid"]), ["bank_reference"])]
        reversed_, _ = search.search(conn, "SEPA-RET-9")
        assert reversed_[0].label.endswith("reversed")

    def test_document_reference_and_description_of_a_cost(self, books: tuple[Connection, Findable]) -> None:
        conn, found = books
        assert hits(conn, "ntt-inv-7") == [("cost", str(found.costs["ntt-equipment"]), ["document_ref"])]
        assert hits(conn, "loom") == [("cost", str(found.costs["ntt-equipment"]), ["description"])]

    def test_one_word_across_kinds_newest_first(self, books: tuple[Connection, Findable]) -> None:
        """ "crème" names an SME and a cost's description: both, the one recorded last first."""
        conn, found = books
        assert hits(conn, "crème") == [
            ("cost", str(found.costs["pointex-travel"]), ["description"]),
            ("sme", str(found.smes["creme"]), ["legal_name"]),
        ]

    def test_nothing_matches_a_word_in_no_record(self, books: tuple[Connection, Findable]) -> None:
        conn, _ = books
        assert hits(conn, "ferrari quantum") == []


class TestAmounts:
    @pytest.mark.parametrize("query", ["864.15", "EUR 864.15", "864.15 €"])
    def test_a_eur_amount_matches_exactly(self, books: tuple[Connection, Findable], query: str) -> None:
        """The paid claim (requested and approved 864.15) and its payment; nothing else."""
        conn, found = books
        assert hits(conn, query) == [
            ("payment", str(found.payments["paid"]), ["amount"]),
            ("claim", str(found.claims["paid"]), ["approved", "requested"]),
        ]

    @pytest.mark.parametrize("query", ["1234.50", "1,234.50", "1234.5"])
    def test_thousands_separators_and_one_decimal(self, books: tuple[Connection, Findable], query: str) -> None:
        """1234.50 is the EUR line of the paid claim; 1,234.50 and 1234.5 are the same amount."""
        conn, found = books
        assert hits(conn, query) == [("claim", str(found.claims["paid"]), ["line_amount"])]

    def test_an_amount_matches_no_other_cents(self, books: tuple[Connection, Findable]) -> None:
        conn, _ = books
        assert hits(conn, "864.16") == []
        assert hits(conn, "864") == []

    def test_a_foreign_line_is_not_a_eur_amount(self, books: tuple[Connection, Findable]) -> None:
        """The JPY 14483 line of the pending claim is no EUR amount."""
        conn, _ = books
        assert hits(conn, "14483") == []
        assert hits(conn, "14,483.00") == []


class TestPaging:
    def test_pages_of_one_cover_every_hit_once(self, books: tuple[Connection, Findable]) -> None:
        conn, _ = books
        everything, count = search.search(conn, "s", limit=100)
        assert count == len(everything) >= 4
        paged = [search.search(conn, "s", offset=n, limit=1) for n in range(count)]
        assert [(hit.kind, hit.record_id) for page, _ in paged for hit in page] == [
            (hit.kind, hit.record_id) for hit in everything
        ]
        assert {total for _, total in paged} == {count}


HOSTILE = [
    '"',
    '""',
    "*",
    "ferr*",
    '"ferrari" OR "ferro"',
    "NEAR(ferrari ferro)",
    "ferrari NOT ferro",
    "-ferrari",
    "ferrari AND",
    "(",
    ")",
    "^",
    ":",
    "text:ferrari",
    "{a b}",
    "'",
    "\\",
    "a & b | !c",
    "ferr:* & x",
    "\x00",
    "fer\x00rari",
    "🎉🎉",
    "Ferrari 🎉",
    "\u202eirarreF",
    "עברית ferrari",
    "%",
    "_",
    "ferr%",
    "OR",
    "AND",
    "NEAR",
]


class TestHostileQueries:
    @pytest.mark.parametrize("query", HOSTILE)
    def test_never_query_syntax(self, books: tuple[Connection, Findable], query: str) -> None:
        """No syntax error and no operator: the text is only ever searched for as words."""
        conn, _ = books
        result = hits(conn, query)
        assert all(kind in search.KINDS for kind, _, _ in result)
        if query == '"ferrari" OR "ferro"':  # every word must match: "or" is a word, not an operator
            assert result == []

    def test_operators_are_words(self, books: tuple[Connection, Findable]) -> None:
        """`-ferrari` and `ferr*` find Ferrari by its name; `ferrari NOT ferro` finds nothing
        (three words, not a negation)."""
        conn, found = books
        ferrari = ("sme", str(found.smes["ferrari"]), ["legal_name"])
        assert ferrari in hits(conn, "-ferrari")
        assert ferrari in hits(conn, "ferr*")
        assert hits(conn, "ferrari NOT ferro") == []

    @pytest.mark.parametrize("query", ["", "   ", "x" * (search.MAX_QUERY + 1)])
    def test_empty_or_long_is_refused(self, books: tuple[Connection, Findable], query: str) -> None:
        conn, _ = books
        with pytest.raises(InvalidInput, match="the search is"):
            search.search(conn, query)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(query=st.text(min_size=1, max_size=60).filter(str.strip))
    def test_any_text_is_answered(self, books: tuple[Connection, Findable], query: str) -> None:
        """Whatever the text, the search answers (maybe with nothing), on both stores."""
        conn, _ = books
        found, count = search.search(conn, query)
        assert count >= len(found)


@given(value=st.text(alphabet=st.characters(max_codepoint=127), max_size=80))
def test_the_ascii_shortcut_folds_as_unicode_does(value: str) -> None:
    """ASCII text takes a shortcut past Unicode's tables: it gives the same words and keys."""
    assert search.words(value) == search.any_words(value)
    assert search.reference_key(value) == fold_key(value)


@given(value=st.text(max_size=80))
def test_words_are_folded_once(value: str) -> None:
    """Folding words again changes nothing: what is stored and what is asked meet in one form."""
    folded = search.words(value)
    assert search.words(folded) == folded
    assert all(char.isalnum() for word in folded.split() for char in word)


class TestIndexUnderReplay:
    def test_a_rebuild_finds_the_same_and_compares_equal(self, store_url: str) -> None:
        """Rebuilt from the events, the search table and its full-text index equal the live ones,
        and the rebuilt index answers as the live one does."""
        with projected(store_url) as (app, live, _), scratch_database(live) as fresh:
            rebuild(app, fresh)
            assert list(compare(live, fresh)) == []
            for query in ("ferr", "IT 0987-654", "1,234.50", "loom"):
                with live.reading() as a, fresh.reading() as b:
                    assert hits(a, query) == hits(b, query), query

    def test_a_damaged_sqlite_index_is_a_difference(self, tmp_path: object) -> None:
        """An FTS5 index that lost a row of rm_search (a damaged file) makes replay report it."""
        url = f"sqlite:///{tmp_path}/ledger.db"
        with projected(url) as (app, live, _), scratch_database(live) as fresh:
            rebuild(app, fresh)
            with live.writing() as conn:
                row = conn.exec_driver_sql("SELECT doc, text FROM rm_search WHERE text <> '' LIMIT 1").one()
                conn.exec_driver_sql(
                    "INSERT INTO rm_search_fts(rm_search_fts, rowid, text) VALUES ('delete', ?, ?)", (row.doc, row.text)
                )
            differences = list(compare(live, fresh))
            assert [d.table for d in differences] == [search.FTS_TABLE]
            assert "consistent" in str(differences[0])


class TestHandlers:
    def test_several_modules_follow_one_event(self) -> None:
        """A claim's submission feeds the books and the search index: both handlers are
        registered, and HANDLERS keeps one callable per event type that runs them in order."""
        assert [h.__module__ for h in REGISTERED[Claim.Submitted]] == [
            "projections.handlers.claims",
            "projections.handlers.search",
        ]
        assert callable(HANDLERS[Claim.Submitted])
        assert set(HANDLERS) == set(REGISTERED)

    def test_a_handler_registers_once_per_event_type(self) -> None:
        """Registering the same function twice for one event type is a mistake, refused."""
        with pytest.raises(ValueError, match="already handles"):
            handles(Claim.Submitted)(REGISTERED[Claim.Submitted][0])


def test_postgresql_has_the_gin_index(pg_schema: PostgresSchema) -> None:
    """On PostgreSQL the words are indexed by GIN over to_tsvector('simple', text)."""
    db = ReadDatabase(pg_schema.url)
    try:
        with db.reading() as conn:
            found = conn.exec_driver_sql(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = %(schema)s AND indexname = 'ix_rm_search_words'",
                {"schema": pg_schema.name},
            ).scalar_one()
        assert "USING gin" in found
        assert "to_tsvector('simple'::regconfig, text)" in found
    finally:
        db.close()
