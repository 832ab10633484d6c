"""Loading aggregates from a snapshot only when it summarises this store's own event.

The library's repository takes the latest snapshot and applies the events after it. Ours
reads the events from the snapshot's version inclusive (one more row), checks that the
first of them is the very record the snapshot was sealed with (ledger.records: the digest
of its place and stored bytes), drops it and applies the rest. A snapshot whose event is not
that record (one copied from another store that shares the key, or whose event was changed)
is tampering: it is logged and counted, and the aggregate is loaded from its first event.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain, islice
from typing import cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, ProjectorFunction, Repository
from eventsourcing.domain import TDomainEvent, TMutableOrImmutableAggregate

from ledger.records import TrustedSnapshots


class TrustedRepository(Repository[UUID]):
    """The library's repository, using a snapshot only with the event it was sealed with."""

    def _reconstruct_aggregate(
        self,
        aggregate_id: UUID,
        version: int | None,
        projector_func: ProjectorFunction[TMutableOrImmutableAggregate, TDomainEvent],
    ) -> TMutableOrImmutableAggregate:
        snapshots = self.snapshot_store
        if not isinstance(snapshots, TrustedSnapshots):
            return super()._reconstruct_aggregate(aggregate_id, version, projector_func)
        aggregate: TMutableOrImmutableAggregate | None = None
        sealed = snapshots.latest(aggregate_id, lte=version)
        if sealed is not None:
            records = self.event_store.recorder.select_events(aggregate_id, gt=sealed.version - 1, lte=version)
            if records and sealed.summarises(records[0]):
                after = map(self.event_store.mapper.to_domain_event, islice(records, 1, None))
                events = cast("Iterable[TDomainEvent]", chain([sealed.snapshot], after))
                aggregate = projector_func(None, events)
            else:
                snapshots.mismatch(aggregate_id, sealed.version)
                sealed = None
        if sealed is None:
            everything = cast("Iterable[TDomainEvent]", self.event_store.get(aggregate_id, lte=version))
            aggregate = projector_func(None, everything)
        if aggregate is None:
            raise AggregateNotFoundError(f"Aggregate {aggregate_id!r} version {version!r} not found.")
        return aggregate
