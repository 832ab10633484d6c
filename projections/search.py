"""One search across claims, SMEs, payments and own costs, with the store's own text search.

The search read model (``rm_search``, fed by projections/handlers/search.py) holds one row per
searchable field of a record: an SME's legal name and identifier, a claim's receipt references,
descriptions and EUR amounts, a payment's bank reference and amount, a cost's document
reference, description and EUR amount. Its ``text`` is the value folded into words
(``words``: no case, no accents, no punctuation), done in Python so that SQLite and PostgreSQL
find the same records. The store then indexes those words:

- SQLite: an FTS5 table over ``rm_search`` (external content, kept in step by triggers, so a
  replay rebuilds it with the table and ``search_index_problems`` can check it);
- PostgreSQL: a GIN index on ``to_tsvector('simple', text)``.

A query matches a record when every word of it begins a word of one field (``ferr`` finds
Ferrari), or when its canonical form begins a reference or identifier ("IT 0987-654" finds
"it0987654": ``ledger.ids.fold_key``), or when it is an amount (``1234.50``, ``1,234.50``)
equal to a EUR amount. What a person types is never query syntax: it is folded into words of
letters and digits first, and each word is written into the store's query as a quoted term.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import BigInteger, Connection, and_, column, func, literal_column, or_, select, text, tuple_
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ColumnElement

from ledger.errors import InvalidInput
from ledger.ids import fold_key
from projections import tables as t

#: What a search may look for, and the order hits of one age are listed in.
KINDS = ("sme", "claim", "payment", "cost")
#: Longest query, and most words of it used.
MAX_QUERY = 200
MAX_WORDS = 12
#: The SQLite full-text table (named literally in the statements below).
FTS_TABLE = "rm_search_fts"
_CHUNKS = re.compile(r"[\W_]+")
_ASCII_WORDS = re.compile(r"[a-z0-9]+")
_AMOUNT = re.compile(r"(?:EUR|€)?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?\s*(?:EUR|€)?", re.IGNORECASE)


def words(value: str) -> str:
    """``value`` as the words the search compares: each run of letters and digits folded as
    references are (``fold_key``: no case, no accents, digits of any script as ASCII), one
    space between them. Everything else (punctuation, symbols, emoji, controls) separates."""
    if value.isascii():  # most text: the same words, without Unicode's tables (a rebuild's hot path)
        return " ".join(_ASCII_WORDS.findall(value.lower()))
    return any_words(value)


def any_words(value: str) -> str:
    """``words`` for any text (``words`` takes a shortcut for ASCII; the tests hold them equal)."""
    chunks = _CHUNKS.split(unicodedata.normalize("NFKC", value))
    return " ".join(folded for folded in (fold_key(chunk) for chunk in chunks) if folded)


def reference_key(value: str) -> str:
    """A reference's or identifier's canonical form (``ledger.ids.fold_key``; "IT 0987-654" is
    "it0987654"), with the same shortcut for ASCII as ``words``."""
    if value.isascii():
        return "".join(_ASCII_WORDS.findall(value.lower()))
    return fold_key(value)


def amount_of(query: str) -> Decimal | None:
    """The EUR amount a query names (``1234.50``, ``1,234.50``, ``EUR 1234.5``), or None."""
    found = _AMOUNT.fullmatch(query.strip())
    if found is None:
        return None
    whole, cents = found.group(1).replace(",", ""), found.group(2) or "0"
    try:
        return Decimal(f"{whole}.{cents.ljust(2, '0')}")
    except InvalidOperation:  # pragma: no cover - the pattern admits digits only
        return None


# --- the index ------------------------------------------------------------------------------
_SQLITE_INDEX = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS rm_search_fts USING fts5("
    "text, content='rm_search', content_rowid='doc', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER IF NOT EXISTS rm_search_ai AFTER INSERT ON rm_search BEGIN "
    "INSERT INTO rm_search_fts(rowid, text) VALUES (new.doc, new.text); END",
    "CREATE TRIGGER IF NOT EXISTS rm_search_ad AFTER DELETE ON rm_search BEGIN "
    "INSERT INTO rm_search_fts(rm_search_fts, rowid, text) VALUES ('delete', old.doc, old.text); END",
    "CREATE TRIGGER IF NOT EXISTS rm_search_au AFTER UPDATE ON rm_search BEGIN "
    "INSERT INTO rm_search_fts(rm_search_fts, rowid, text) VALUES ('delete', old.doc, old.text); "
    "INSERT INTO rm_search_fts(rowid, text) VALUES (new.doc, new.text); END",
)


def create_index(conn: Connection, *, sqlite: bool, schema: str | None) -> None:
    """The store's full-text index over ``rm_search`` (made once; ``rm_search`` exists)."""
    if sqlite:
        for statement in _SQLITE_INDEX:
            conn.exec_driver_sql(statement)
        return
    table = f'"{schema}".rm_search' if schema else "rm_search"
    conn.exec_driver_sql(
        f"CREATE INDEX IF NOT EXISTS ix_rm_search_words ON {table} USING gin (to_tsvector('simple', text))"
    )


def pause_index(conn: Connection, *, sqlite: bool, schema: str | None) -> None:
    """Stop keeping the full-text index in step with ``rm_search`` while it is loaded in bulk
    (``resume_index`` builds it once, from every row: SQLite's FTS5 ``rebuild`` took 0.08 s for
    the 82,400 rows of a 100k-event history, kept in step row by row about 1.5 s)."""
    if sqlite:
        for trigger in ("rm_search_ai", "rm_search_ad", "rm_search_au"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
        return
    prefix = f'"{schema}".' if schema else ""
    conn.exec_driver_sql(f"DROP INDEX IF EXISTS {prefix}ix_rm_search_words")


def resume_index(conn: Connection, *, sqlite: bool, schema: str | None) -> None:
    """The full-text index built from every row of ``rm_search``, and kept in step again."""
    create_index(conn, sqlite=sqlite, schema=schema)
    if sqlite:
        conn.exec_driver_sql("INSERT INTO rm_search_fts(rm_search_fts) VALUES ('rebuild')")


def drop_index(conn: Connection, *, sqlite: bool) -> None:
    """Drop the SQLite full-text table (PostgreSQL's index goes with its table)."""
    if sqlite:
        conn.exec_driver_sql("DROP TABLE IF EXISTS rm_search_fts")


def search_index_problems(conn: Connection) -> list[str]:
    """What is wrong with the full-text index against ``rm_search`` (SQLite's FTS5 integrity
    check against its content table; PostgreSQL's index is the database's own), or []."""
    if conn.dialect.name != "sqlite":
        return []
    try:
        conn.exec_driver_sql("INSERT INTO rm_search_fts(rm_search_fts, rank) VALUES ('integrity-check', 1)")
    except DBAPIError as error:
        if isinstance(error.orig, sqlite3.OperationalError):  # busy, locked...: not the index's fault
            raise
        return [f"{FTS_TABLE}: {str(error.orig).splitlines()[0]}"]
    return []


# --- the query ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Match:
    field: str
    #: The claim line the field belongs to (0 for the record itself).
    part: int
    value: str


@dataclass(frozen=True)
class Hit:
    kind: str
    record_id: str
    label: str
    matches: tuple[Match, ...]


def _words_match(conn: Connection, terms: list[str]) -> ColumnElement[bool]:
    s = t.search.c
    if conn.dialect.name == "sqlite":
        fts = " ".join(f'"{term}"*' for term in terms)  # terms hold letters and digits only
        found = text("SELECT rowid FROM rm_search_fts WHERE rm_search_fts MATCH :fts").bindparams(fts=fts)
        return s.doc.in_(found.columns(column("rowid", BigInteger)))
    tsquery = " & ".join(f"{term}:*" for term in terms)
    return func.to_tsvector(literal_column("'simple'"), s.text).op("@@")(
        func.to_tsquery(literal_column("'simple'"), tsquery)
    )


def _matching(conn: Connection, query: str) -> ColumnElement[bool] | None:
    """Where a row of ``rm_search`` matches ``query``; None when nothing could."""
    s = t.search.c
    terms = words(query).split()[:MAX_WORDS]
    conditions: list[ColumnElement[bool]] = []
    if terms:
        conditions.append(_words_match(conn, terms))
    key = reference_key(query)
    if key:
        conditions.append(s.key.startswith(key, autoescape=True))
    amount = amount_of(query)
    if amount is not None:
        conditions.append(s.amount == amount)
    return or_(*conditions) if conditions else None


def check_query(query: str) -> str:
    """The query, refused when empty or too long (words are what is searched)."""
    stripped = query.strip()
    if not stripped:
        raise InvalidInput("the search is empty; give a name, an identifier, a reference, a description or an amount")
    if len(stripped) > MAX_QUERY:
        raise InvalidInput(f"the search is {len(stripped)} characters long; give at most {MAX_QUERY}")
    return stripped


def search(conn: Connection, query: str, *, offset: int = 0, limit: int = 50) -> tuple[list[Hit], int]:
    """The records matching ``query``, newest first, one page; and how many match in all."""
    condition = _matching(conn, check_query(query))
    if condition is None:
        return [], 0
    s = t.search.c
    records = select(s.kind, s.record_id, func.min(s.position).label("since")).where(condition)
    records = records.group_by(s.kind, s.record_id)
    count = int(conn.execute(select(func.count()).select_from(records.subquery())).scalar_one())
    page = conn.execute(
        records.order_by(literal_column("since").desc(), s.kind, s.record_id).offset(offset).limit(limit)
    ).all()
    if not page:
        return [], count
    keys = [(row.kind, row.record_id) for row in page]
    matched: dict[tuple[str, str], list[Match]] = defaultdict(list)
    rows = conn.execute(
        select(s.kind, s.record_id, s.field, s.part, s.value)
        .where(and_(condition, tuple_(s.kind, s.record_id).in_(keys)))
        .order_by(s.kind, s.record_id, s.field, s.part)
    )
    for row in rows:
        matched[(row.kind, row.record_id)].append(Match(row.field, row.part, row.value))
    labels = _labels(conn, keys)
    hits = [Hit(kind, rid, labels.get((kind, rid), ""), tuple(matched[(kind, rid)])) for kind, rid in keys]
    return hits, count


def _labels(conn: Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """A short label per record: what a person recognises it by."""
    wanted: dict[str, list[str]] = defaultdict(list)
    for kind, record_id in keys:
        wanted[kind].append(record_id)
    labels: dict[tuple[str, str], str] = {}
    if wanted["sme"]:
        for r in conn.execute(select(t.smes).where(t.smes.c.id.in_(wanted["sme"]))):
            labels[("sme", r.id)] = f"{r.legal_name} ({r.identifier}, {r.country})"
    if wanted["claim"]:
        c, sme, mission = t.claims.c, t.smes.c, t.missions.c
        rows = conn.execute(
            select(c.id, c.state, c.requested, c.submitted_on, sme.legal_name, mission.code)
            .join(t.smes, sme.id == c.sme_id)
            .join(t.missions, mission.id == c.mission_id)
            .where(c.id.in_(wanted["claim"]))
        )
        for r in rows:
            requested = f"EUR {r.requested:.2f} requested on {r.submitted_on}"
            labels[("claim", r.id)] = f"claim of {r.legal_name} under {r.code}, {requested}, {r.state}"
    if wanted["payment"]:
        for r in conn.execute(select(t.payments).where(t.payments.c.id.in_(wanted["payment"]))):
            reversed_ = ", reversed" if r.reversed else ""
            labels[("payment", r.id)] = f"payment {r.bank_reference} of EUR {r.amount:.2f} on {r.value_date}{reversed_}"
    if wanted["cost"]:
        for r in conn.execute(select(t.costs).where(t.costs.c.id.in_(wanted["cost"]))):
            labels[("cost", r.id)] = (
                f"{r.partner} {r.category} cost {r.document_ref} of EUR {r.eur:.2f} on {r.cost_date}: {r.description}"
            )
    return labels
