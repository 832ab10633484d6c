"""The read models' tables (SQLAlchemy Core): what the projector writes and the queries read.

Money never touches a float: EUR amounts are whole cents in BIGINT columns (exact, and SQL
can sum them), amounts in other currencies and rates are exact decimal strings. Recorded
times are stored as naive UTC and read back as aware UTC, the same on SQLite and PostgreSQL.
Text columns hold any text the event store holds (``StoredText``), the same on both stores.
Every table can be dropped and rebuilt from the events (``projections.replay``).
"""

from __future__ import annotations

from sqlalchemy import (
    DDL,
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    event,
)

from projections.columns import Cents, ExactDecimal, StoredString, StoredText, UtcDateTime

metadata = MetaData()

#: The read models' layout: bump it with any change to a table below. Read models built with
#: an older layout are upgraded in place when the change only adds an index (add its step to
#: projections.layouts.UPGRADES), else dropped and rebuilt from the events when opened (projections.db).
LAYOUT = 7

#: How far each projection has applied the event log (its tracking position).
tracking = Table(
    "rm_tracking",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

grant = Table(
    "rm_grant",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", StoredText, nullable=False),
    Column("title", StoredText, nullable=False),
    Column("total", Cents, nullable=False),
    Column("funding_rate", ExactDecimal, nullable=False),
    Column("eu_cap", Cents, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("coordinator", StoredText, nullable=False),
    Column("indirect_rate", ExactDecimal, nullable=False),
    Column("sme_support_cap", Cents, nullable=False),
    Column("decision_ref", StoredText, nullable=False),
    Column("signed_on", Date, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("certificate_threshold", Cents, nullable=False),
    #: How many reporting periods are set (rm_reporting_periods numbers them 1 to this).
    Column("periods", Integer, nullable=False),
)

#: The cost categories a call funds at another rate than the grant's one (rm_grant.funding_rate).
funding_rates = Table(
    "rm_funding_rates",
    metadata,
    Column("category", StoredText, primary_key=True),
    Column("rate", ExactDecimal, nullable=False),
)

#: The reporting periods that tile the action period, as the coordinator set them last.
reporting_periods = Table(
    "rm_reporting_periods",
    metadata,
    Column("number", Integer, primary_key=True),
    Column("start", Date, nullable=False),
    Column("end", Date, nullable=False),
    Column("position", BigInteger, nullable=False),
)

partners = Table(
    "rm_partners",
    metadata,
    Column("code", StoredText, primary_key=True),
    Column("name", StoredText, nullable=False),
    Column("country", StoredString(2), nullable=False),
)

budget_lines = Table(
    "rm_budget_lines",
    metadata,
    Column("partner", StoredText, primary_key=True),
    Column("category", StoredText, primary_key=True),
    Column("line_id", String(36), nullable=False, unique=True),
    Column("allocated", Cents, nullable=False),
    Column("pending", Cents, nullable=False),
    Column("committed", Cents, nullable=False),
    Column("paid", Cents, nullable=False),
    Column("spent", Cents, nullable=False),
)

#: Every change of a budget line figure, so the books can be read as of any position or date.
movements = Table(
    "rm_budget_movements",
    metadata,
    Column("position", BigInteger, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("partner", StoredText, nullable=False),
    Column("category", StoredText, nullable=False),
    Column("measure", String(12), nullable=False),
    Column("delta", Cents, nullable=False),
    #: The cost a "spent" movement charges (rm_costs.id), the payment a "paid" one pays or
    #: returns (rm_payments.id); NULL for others. A cost's date tells a current cost from an
    #: adjustment of an earlier period, a payment's claim the SME supported (projections.statements).
    Column("ref", String(36)),
    Index("ix_rm_budget_movements_effective", "effective_date"),
    #: A partner's costs of a period (projections.statements.cost_movements): its own "spent"
    #: and FSTP "paid" movements by date, without reading every partner's (layout 7).
    Index("ix_rm_budget_movements_costs", "partner", "measure", "effective_date"),
)

missions = Table(
    "rm_missions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("code", StoredText, nullable=False),
    Column("country", StoredString(2), nullable=False),
    Column("city", StoredText, nullable=False),
    Column("start", Date, nullable=False),
    Column("end", Date, nullable=False),
    Column("partner", StoredText, nullable=False),
    Column("reimbursement_rate", ExactDecimal, nullable=False),
    Column("cap_per_sme", Cents, nullable=False),
    Column("cost_types", StoredText, nullable=False),
    Column("opened_on", Date, nullable=False),
)

#: Claimed and accepted amounts of a mission's expense lines, per original currency.
mission_currencies = Table(
    "rm_mission_currencies",
    metadata,
    Column("mission_id", String(36), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("claimed", ExactDecimal, nullable=False),
    Column("accepted", ExactDecimal, nullable=False),
    Column("accepted_eur", Cents, nullable=False),
)

smes = Table(
    "rm_smes",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("legal_name", StoredText, nullable=False),
    Column("country", StoredString(2), nullable=False),
    Column("identifier", StoredText, nullable=False),
    Column("registered_on", Date, nullable=False),
)

sme_missions = Table(
    "rm_sme_missions",
    metadata,
    Column("sme_id", String(36), primary_key=True),
    Column("mission_id", String(36), primary_key=True),
    Column("selected_on", Date, nullable=False),
    Column("requested", Cents, nullable=False),
    Column("approved", Cents, nullable=False),
    Column("paid", Cents, nullable=False),
)

claims = Table(
    "rm_claims",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("sme_id", String(36), nullable=False, index=True),
    Column("mission_id", String(36), nullable=False, index=True),
    Column("partner", StoredText, nullable=False, index=True),
    Column("state", String(12), nullable=False, index=True),
    Column("submitted_on", Date, nullable=False),
    Column("requested", Cents, nullable=False),
    Column("eligible_eur", Cents),
    Column("approved", Cents),
    Column("capped_by", StoredText),
    Column("decided_on", Date),
    #: Paid net of reversals, settled short, and still outstanding (committed): NULL without an approval.
    Column("paid", Cents),
    Column("settled_short", Cents),
    Column("outstanding", Cents),
    #: The latest payment not reversed, and every one of them (ids in the order paid, comma-separated).
    Column("payment_id", String(36)),
    Column("live_payments", Text, nullable=False),
    Column("reason", StoredText, nullable=False),
    Column("version", Integer, nullable=False),
    Column("position", BigInteger, nullable=False),
)

claim_lines = Table(
    "rm_claim_lines",
    metadata,
    Column("claim_id", String(36), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("cost_type", StoredText, nullable=False),
    Column("expense_date", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("receipt_ref", StoredText, nullable=False),
    Column("description", StoredText, nullable=False),
    Column("accepted", ExactDecimal),
    Column("rate", ExactDecimal),
    Column("rate_month", String(7)),
    Column("rate_source", StoredText),
    Column("eur", Cents),
    Column("reason", StoredText, nullable=False),
    # The estimate at submission: the rate it used (with its month and source) and its EUR value.
    Column("estimate_rate", ExactDecimal),
    Column("estimate_rate_month", String(7)),
    Column("estimate_rate_source", StoredText),
    Column("estimate_eur", Cents),
)

#: The decisions and payments of each claim, in order.
claim_history = Table(
    "rm_claim_history",
    metadata,
    Column("claim_id", String(36), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("event_type", StoredText, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("actor_id", StoredText, nullable=False),
    Column("role", String(20), nullable=False),
    Column("amount", Cents),
    Column("reason", StoredText, nullable=False),
)

payments = Table(
    "rm_payments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("claim_id", String(36), nullable=False, index=True),
    Column("partner", StoredText, nullable=False),
    Column("amount", Cents, nullable=False),
    Column("bank_reference", StoredText, nullable=False),
    Column("value_date", Date, nullable=False),
    #: The claim's commitment released with the payment beyond its amount (a shortfall).
    Column("released", Cents, nullable=False),
    Column("reversed", Boolean, nullable=False),
    Column("reversal_reason", StoredText, nullable=False),
)

costs = Table(
    "rm_costs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("partner", StoredText, nullable=False),
    Column("category", StoredText, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("eur", Cents, nullable=False),
    Column("cost_date", Date, nullable=False),
    Column("document_ref", StoredText, nullable=False),
    Column("description", StoredText, nullable=False),
    Column("version", Integer, nullable=False),
)

rates = Table(
    "rm_exchange_rates",
    metadata,
    Column("id", String(36), nullable=False, unique=True),
    Column("currency", String(3), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("rate", ExactDecimal, nullable=False),
    Column("source", StoredText, nullable=False),
    Column("version", Integer, nullable=False),
)

#: The supporting documents attached to claim lines and own costs, one row per attachment (the
#: event that attached it: its holder and version), superseded ones kept with their reason (their
#: bytes are kept too). ``receipt_ref`` is the claim line's receipt reference or the cost's
#: document reference; ``position`` the attaching event's.
documents = Table(
    "rm_documents",
    metadata,
    Column("holder_id", String(36), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
    Column("holder_kind", String(5), nullable=False),
    Column("partner", StoredText, nullable=False, index=True),
    Column("line", Integer),
    Column("receipt_ref", StoredText, nullable=False),
    Column("filename", StoredText, nullable=False),
    Column("media_type", StoredText, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("attached_on", Date, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("attached_by", StoredText, nullable=False),
    Column("live", Boolean, nullable=False),
    Column("superseded_reason", StoredText, nullable=False),
)

#: Budget transfers between two partner x category lines, with the consortium's decision.
transfers = Table(
    "rm_transfers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("from_partner", StoredText, nullable=False),
    Column("from_category", StoredText, nullable=False),
    Column("to_partner", StoredText, nullable=False),
    Column("to_category", StoredText, nullable=False),
    Column("amount", Cents, nullable=False),
    Column("decision_ref", StoredText, nullable=False),
    Column("reason", StoredText, nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("position", BigInteger, nullable=False),
)

#: What the search finds (projections/search.py): one row per searchable field of a record
#: (``part`` tells the lines of a claim apart). ``text`` is the value folded into words (no case,
#: no accents, no punctuation: the same on SQLite and PostgreSQL), ``key`` an identifier's or a
#: reference's canonical form, ``amount`` a EUR amount. ``doc`` numbers the row for the store's
#: own full-text index (an FTS5 table on SQLite, a GIN index on PostgreSQL); ``position`` is
#: the event that created the record, so hits come newest first.
search = Table(
    "rm_search",
    metadata,
    Column("kind", String(12), primary_key=True),
    Column("record_id", String(36), primary_key=True),
    Column("field", String(20), primary_key=True),
    Column("part", Integer, primary_key=True),
    Column("doc", BigInteger, nullable=False, unique=True),
    Column("position", BigInteger, nullable=False),
    Column("value", StoredText, nullable=False),
    Column("text", StoredText, nullable=False),
    Column("key", StoredText),
    Column("amount", Cents),
    Index("ix_rm_search_key", "key"),
    Index("ix_rm_search_amount", "amount"),
)

# SQLite's full-text table over rm_search (projections.search makes it) goes with it, whoever
# drops the tables: left behind, it would index rows that are gone.
event.listen(search, "after_drop", DDL("DROP TABLE IF EXISTS rm_search_fts").execute_if(dialect="sqlite"))  # type: ignore[no-untyped-call]

#: One row per event: who did what, when, to which record, and why.
audit = Table(
    "rm_audit",
    metadata,
    Column("position", BigInteger, primary_key=True),
    Column("recorded_at", UtcDateTime, nullable=False, index=True),
    Column("effective_date", Date, nullable=False),
    Column("actor_id", StoredText, nullable=False, index=True),
    Column("role", String(20), nullable=False),
    Column("partner", StoredText),
    Column("aggregate_type", StoredText, nullable=False),
    Column("aggregate_id", String(36), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("event_type", StoredText, nullable=False, index=True),
    Column("reason", StoredText, nullable=False),
    Column("payload", StoredText, nullable=False),
)

#: Each partner's statement per reporting period as its workflow left it (projections.close); a
#: statement never locked has no row (it is in draft). ``content`` is the signed figures as JSON.
statements = Table(
    "rm_statements",
    metadata,
    Column("partner", StoredText, primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("state", String(12), nullable=False),
    Column("locked_by", StoredText, nullable=False),
    Column("signer", StoredText, nullable=False),
    Column("reason", StoredText, nullable=False),
    Column("submitted_by", StoredText, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("seal", StoredText, nullable=False),
    Column("digest", StoredText, nullable=False),
    Column("content", StoredText, nullable=False),
    Column("changed_on", Date, nullable=False),
)

#: The hash chain over the stored events (projections.chain): one seal per event position.
chain = Table(
    "rm_chain",
    metadata,
    Column("position", BigInteger, primary_key=True),
    Column("seal", String(64), nullable=False),
)
