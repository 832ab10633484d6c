"""The ledger's plumbing shared by every use case: atomic saves with bounded retries, and
loading aggregates with clear errors (who holds a receipt: ledger/usecases/holding.py).

Every command loads what it needs, lets the aggregates decide, and saves every changed
aggregate in ONE atomic save with optimistic concurrency. If another writer changed one
of them in between, the save fails, the command reloads and decides again (bounded), and
then reports a clear conflict. A refused command raises a LedgerError and records nothing.

Within one process, writers that collided take turns: a retry decides and saves holding the
process's turn, and for CONTENDED_SECONDS after a collision every command does, so that
writers of the same records (every approval of a partner's claims commits on its FSTP line)
stop undoing each other's work. The store's own writes are one at a time anyway; commands of
different records run side by side again once no collision happened for that long.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent, Repository
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import EventStore, IntegrityError, JSONTranscoder, Mapper, PersistenceError
from eventsourcing.utils import strtobool

from ledger.base import register_transcodings
from ledger.blobs import BlobStore, blob_store
from ledger.budget import BudgetLine, line_id
from ledger.claim import (
    Claim,
    UnknownClaim,
)
from ledger.cost import Cost, UnknownCost
from ledger.documents import DEFAULT_MAX_BYTES, ENV_MAX_BYTES
from ledger.errors import ConcurrencyConflict, IdempotencyConflict, InvalidInput, LedgerError, NotFound
from ledger.grant import (
    BeforeTheGrant,
    Grant,
    GrantNotSigned,
)
from ledger.ids import require_chosen_id
from ledger.loading import TrustedRepository
from ledger.mission import Mission, UnknownMission
from ledger.money import Money
from ledger.payment import Payment, UnknownPayment
from ledger.rates import ExchangeRate, Quote, RateMissing, month_of, parse_month, rate_id
from ledger.records import ENV_SNAPSHOT_KEY, BoundMapper, SnapshotMapper, SnapshotTally, TrustedSnapshots, seal_secret
from ledger.sme import (
    Sme,
    UnknownSme,
)
from ledger.text import is_whole_number
from ledger.words import article

log = logging.getLogger(__name__)
T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)

#: Attempts of one command when concurrent writers keep changing the same aggregates.
MAX_ATTEMPTS = 8
#: Seconds after a collision during which the process's commands take turns.
CONTENDED_SECONDS = 1.0
#: Cap per SME over the whole grant (EU Financial Regulation, cap per third party).
SME_SUPPORT_CAP = Money.eur("60000")
#: INDIRECT flat rate of direct costs excluding subcontracting and FSTP (assumed default).
INDIRECT_RATE = Decimal("0.07")

Outcome = tuple[T, Sequence[Aggregate]]


def try_create(create: Callable[[], A]) -> A | None:
    """The aggregate a repeated command would create, or None if its content is invalid
    (and so certainly not the same as what was recorded)."""
    try:
        return create()
    except LedgerError:
        return None


def terms_of(aggregate: Grant | Mission) -> dict[str, object]:
    """What a repeated creating command must match: the aggregate's state but its identity,
    version and times."""
    skip = {"_id", "_version", "_created_on", "_modified_on", "_pending_events", "reporting_periods"}
    return {k: v for k, v in vars(aggregate).items() if k not in skip}


def _max_bytes(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_MAX_BYTES
    if not is_whole_number(value) or int(value) < 1:
        raise InvalidInput(f"{ENV_MAX_BYTES} must be a positive number of bytes (20971520 is 20 MB), got {value!r}")
    return int(value)


def utc_today() -> date:
    """Today's date in UTC: the default clock of the application."""
    return datetime.now(UTC).date()


def _decided(decide: Callable[[], Outcome[T]]) -> Outcome[T]:
    """What a command decided. Arithmetic that fails on the command's own numbers (a Decimal
    result past any precision, from amounts or rates far out of range) refuses the command as
    invalid input, before anything is saved; it is logged, so that a fault stays visible."""
    try:
        return decide()
    except ArithmeticError:
        log.warning("a command's arithmetic failed on its inputs; refused as invalid input", exc_info=True)
        raise InvalidInput(
            "the amounts or rates of this command are too far out of range to compute exactly; "
            "check them (amounts up to 1,000,000,000, rates as InforEuro quotes them). Nothing was recorded"
        ) from None


class LedgerCore(Application[UUID]):
    """What every use case builds on; ``GrantLedger`` assembles the use cases."""

    name = "GrantLedger"
    snapshotting_intervals = {BudgetLine: 50, Sme: 50}  # noqa: RUF012 - the library's class attribute

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_transcodings(transcoder)

    def __init__(self, env: Mapping[str, str] | None = None, *, today: Callable[[], date] | None = None) -> None:
        #: Snapshots left aside when loading (tampered ones are also logged as warnings).
        self.snapshot_tally = SnapshotTally()
        super().__init__(env)
        self._written = threading.local()
        #: Held by a command deciding and saving in turn (ledger/usecases/core.py's docstring).
        self._turn = threading.RLock()
        self._contended_until = 0.0
        #: The bytes of supporting documents, beside the events (ledger/blobs.py).
        self.blobs: BlobStore = blob_store(
            self.recorder, self.factory.cipher(), create=strtobool(self.env.get("CREATE_TABLE", "y"))
        )
        #: The largest document accepted, in bytes (GRANTLEDGER_DOCUMENT_MAX_BYTES, 20 MB by default).
        self.document_max_bytes = _max_bytes(self.env.get(ENV_MAX_BYTES))
        #: The application's clock: no business date may lie after ``today()`` (UTC by default).
        self.today: Callable[[], date] = today or utc_today

    # --- records bound to their place, snapshots sealed (ledger.records) ----------------
    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=BoundMapper)

    def construct_snapshot_store(self) -> EventStore[UUID]:
        """Snapshots are sealed with the event they summarise in this store, and only those
        whose seal checks and whose event is that one are ever loaded."""
        cipher = self.factory.cipher()
        events = self.mapper
        mapper = SnapshotMapper(
            events.transcoder,
            compressor=events.compressor,
            cipher=cipher,
            secret=seal_secret(
                events.cipher_key if isinstance(events, BoundMapper) else None, self.env.get(ENV_SNAPSHOT_KEY)
            ),
        )
        recorder = self.factory.aggregate_recorder(purpose="snapshots")
        return TrustedSnapshots(mapper, recorder, self.snapshot_tally, events=self.recorder)

    def construct_repository(self) -> Repository[UUID]:
        """The library's repository, as configured, but using a snapshot only together with
        this store's record of the event it was sealed with (ledger.loading)."""
        cache_maxsize = self.env.get(self.AGGREGATE_CACHE_MAXSIZE)
        return TrustedRepository(
            event_store=self.events,
            snapshot_store=self.snapshots,
            cache_maxsize=int(cache_maxsize) if cache_maxsize else None,
            fastforward=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD, "y")),
            fastforward_skipping=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD_SKIPPING, "n")),
            deepcopy_from_cache=strtobool(self.env.get(self.DEEPCOPY_FROM_AGGREGATE_CACHE, "y")),
            snapshotted=self.snapshotting_intervals or (),
        )

    @property
    def _trusted(self) -> TrustedRepository:
        repository = self.repository
        if not isinstance(repository, TrustedRepository):
            raise TypeError("the ledger's repository is a TrustedRepository (construct_repository)")
        return repository

    def position_written(self) -> int | None:
        """Where in the event log this thread's last command wrote its events (None when it
        recorded nothing, e.g. a repeated command): a reader waits until its projections
        reach this position to see its own writes."""
        return getattr(self._written, "position", None)

    # --- plumbing ---------------------------------------------------------------------
    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshots only speed up loading: failing to take one must never fail (or, through
        a retry, repeat) a command whose events are already recorded."""
        try:
            super()._take_snapshots(processing_event)
        except PersistenceError:
            log.warning("could not store a snapshot; loading will replay events instead", exc_info=True)

    def _write(self, decide: Callable[[], Outcome[T]], documents: Mapping[str, bytes] | None = None) -> T:
        """Decide and save atomically; on a concurrent change, reload and decide again.

        ``documents`` (digest -> bytes) are stored before the events that reference them are
        saved, and only when there is something to save (ledger/blobs.py on orphans)."""
        self._written.position = None
        for attempt in range(MAX_ATTEMPTS):
            in_turn = attempt > 0 or time.monotonic() < self._contended_until
            with self._turn if in_turn else contextlib.nullcontext():
                result, changed = _decided(decide)
                if not any(a.pending_events for a in changed):
                    return result
                for sha256, data in (documents or {}).items():
                    self.blobs.put(sha256, data)
                try:
                    recordings = self.save(*changed)
                except IntegrityError:
                    self._contended_until = time.monotonic() + CONTENDED_SECONDS
                    recordings = None
            if recordings is None:  # another process, or a writer not in turn, changed them: wait a little
                time.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311 - jitter, not crypto
                continue
            self._written.position = max((r.notification.id for r in recordings), default=None)
            return result
        raise ConcurrencyConflict(
            f"other officers changed the same records {MAX_ATTEMPTS} times while this command ran; "
            "nothing was recorded. Reload and try again"
        )

    def _load(self, cls: type[A], aggregate_id: UUID, missing: Callable[[], Exception]) -> A:
        try:
            aggregate: object = self._trusted.load(cls, aggregate_id)
        except AggregateNotFoundError:
            raise missing() from None
        if not isinstance(aggregate, cls):
            raise missing()
        return aggregate

    def _find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        try:
            aggregate: object = self._trusted.load(cls, aggregate_id)
        except AggregateNotFoundError:
            return None
        if not isinstance(aggregate, cls):
            raise IdempotencyConflict(f"id {aggregate_id} is already used by {article(type(aggregate).__name__)}")
        return aggregate

    @staticmethod
    def _new_id(what: str, record_id: UUID) -> UUID:
        """A client-chosen id for a record not yet recorded: never one the ledger could derive
        (a repeat of a record created earlier, even under a legacy name-based id, is found
        before this check, so it still records nothing and answers the same)."""
        require_chosen_id(what, record_id)
        return record_id

    def _not_future(self, *dates: tuple[date, str], since_signing: bool = True) -> None:
        """No business date lies in the future of the application's clock, nor (once the grant
        is signed, unless not ``since_signing``) before the grant's first day: its signing date
        or the action period's start, whichever is earlier (an action may start before it is
        signed, and its costs count from that start)."""
        today = self.today()
        first = self._first_day() if since_signing else None
        for day, what in dates:
            if day > today:
                raise InvalidInput(
                    f"{what} {day} is in the future (today is {today}); "
                    "record what has happened, on the day it happened"
                )
            if first is not None and day < first[0]:
                signed_on, period_start = first[1]
                raise BeforeTheGrant(
                    f"{what} {day} is before the grant began: it was signed on {signed_on} and its action "
                    f"period starts on {period_start}; nothing in it happens before {first[0]}, "
                    "write a date from then on"
                )

    def check_rate_month(self, month: str) -> str:
        """A rate's month is written YYYY-MM and is at most the month after today's: InforEuro
        publishes a month's rate shortly before it starts, never further ahead."""
        parse_month(month)
        today = self.today()
        latest = month_of(date(today.year + today.month // 12, today.month % 12 + 1, 1))
        if month > latest:
            raise InvalidInput(
                f"the rate month {month} is in the future: rates are published at most a month ahead "
                f"(today is {today}, so the latest month is {latest}); record a month up to {latest}"
            )
        return month

    def _first_day(self) -> tuple[date, tuple[date, date]] | None:
        """The grant's first day, with its signing date and action period start (None before the
        grant is signed). Both are fixed once signed, so they are read once."""
        known: tuple[date, tuple[date, date]] | None = getattr(self, "_grant_first_day", None)
        if known is None:
            signing = next(iter(self.events.get(Grant.ID, lte=1)), None)
            if not isinstance(signing, Grant.Signed):
                return None
            dates = (signing.effective_date, signing.period_start)
            known = (min(dates), dates)
            self._grant_first_day = known
        return known

    @staticmethod
    def _same(existing: Aggregate, what: str, same: bool) -> UUID:
        if not same:
            raise IdempotencyConflict(
                f"{what} {existing.id} was already recorded with different content; "
                "use a new id for a new command, or repeat the original exactly"
            )
        return existing.id

    def grant(self) -> Grant:
        return self._load(Grant, Grant.ID, lambda: GrantNotSigned("the grant agreement has not been signed in yet"))

    def budget_line(self, partner: str, category: str) -> BudgetLine:
        return self._load(
            BudgetLine,
            line_id(partner, category),
            lambda: NotFound(f"there is no budget line {partner} {category}"),
        )

    def claim(self, claim_id: UUID, version: int | None = None) -> Claim:
        return self._load_at(Claim, claim_id, version, lambda: UnknownClaim(f"there is no claim {claim_id}"))

    def mission(self, mission_id: UUID) -> Mission:
        return self._load(Mission, mission_id, lambda: UnknownMission(f"there is no mission {mission_id}"))

    def sme(self, sme_id: UUID) -> Sme:
        return self._load(Sme, sme_id, lambda: UnknownSme(f"there is no SME {sme_id}"))

    def payment(self, payment_id: UUID) -> Payment:
        return self._load(Payment, payment_id, lambda: UnknownPayment(f"there is no payment {payment_id}"))

    def cost(self, cost_id: UUID) -> Cost:
        return self._load(Cost, cost_id, lambda: UnknownCost(f"there is no cost {cost_id}"))

    def quote(self, currency: str, month: str) -> Quote:
        """The recorded rate of a currency for a month; a missing rate is an error, not a guess."""
        found = self._find(ExchangeRate, rate_id(currency, month))
        if found is None:
            raise RateMissing(
                f"no {currency} exchange rate is recorded for {month}; record the InforEuro rate "
                f"for {currency} {month} (grantledger import-rates or POST /exchange-rates) and try again"
            )
        return found.quote

    def aggregate_at(self, aggregate_id: UUID, version: int) -> Aggregate:
        """Any aggregate as it was at a given version (historical state)."""
        return self._load_at(Aggregate, aggregate_id, version, lambda: NotFound(f"nothing has id {aggregate_id}"))

    def _load_at(self, cls: type[A], aggregate_id: UUID, version: int | None, missing: Callable[[], Exception]) -> A:
        if version is None:
            return self._load(cls, aggregate_id, missing)
        if version < 1:
            raise InvalidInput(f"versions start at 1, got {version}")
        try:
            aggregate: object = self._trusted.load(cls, aggregate_id, version)
        except AggregateNotFoundError:
            raise missing() from None
        if not isinstance(aggregate, cls):
            raise missing()
        return aggregate
