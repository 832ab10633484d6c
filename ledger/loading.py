"""Loading aggregates from a snapshot only when it summarises this store's own event.

The library's repository takes the latest snapshot and applies the events after it. Ours
reads the events from the snapshot's version inclusive (one more row), checks that the
first of them is the very record the snapshot was sealed with (ledger.records: the digest
of its place and stored bytes), drops it and applies the rest. A snapshot whose event is not
that record (one copied from another store that shares the key, or whose event was changed)
is tampering: it is logged and counted, and the aggregate is loaded from its first event.

An aggregate of a class that is never snapshotted (a claim, a mission, a receipt index...) is
loaded from its events without asking the snapshot table first (``load``).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain, islice
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, ProjectorFunction, Repository, project_aggregate
from eventsourcing.domain import Aggregate, TDomainEvent, TMutableOrImmutableAggregate

from ledger.records import TrustedSnapshots


class TrustedRepository(Repository[UUID]):
    """The library's repository, using a snapshot only with the event it was sealed with;
    ``snapshotted``: the aggregate classes the application takes snapshots of."""

    def __init__(self, *args: Any, snapshotted: Iterable[type[Any]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.snapshotted = tuple(snapshotted)

    def load(self, cls: type[Aggregate], aggregate_id: UUID, version: int | None = None) -> object:
        """The aggregate ``aggregate_id`` (at ``version``), expected to be a ``cls``: when no
        class of ``cls`` is ever snapshotted and no cache is kept, straight from its events
        (one query instead of two); otherwise as ``get`` loads it."""
        if self.cache is not None or any(issubclass(k, cls) for k in self.snapshotted):
            return self.get(aggregate_id, version=version)
        aggregate: Aggregate | None = project_aggregate(None, self.event_store.get(aggregate_id, lte=version))
        if aggregate is None:
            raise AggregateNotFoundError(f"Aggregate {aggregate_id!r} version {version!r} not found.")
        return aggregate

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
