"""One record's history, version by version: its events from the audit trail and its state as
it was at a version (the Application rebuilds the aggregate from its events up to it). The
JSON API's ``GET /audit/entities/{id}`` and the web app's record page both read it here.

Also what the audit trail's filters may name (the record types and their event types, from
the ledger's own classes) and a record's state flattened into labelled fields, so that two
versions can be compared field by field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Connection

from ledger.application import GrantLedger
from ledger.base import LedgerAggregate
from projections.payloads import plain
from projections.queries import AuditFilter, audit_trail

#: A field of a flattened state: the path of names (list items counted from 1).
Path = tuple[str, ...]


class VersionNotRecorded(LookupError):
    """A version after the record's latest."""


@dataclass(frozen=True)
class RecordHistory:
    aggregate_id: str
    aggregate_type: str
    #: The version the state is shown at, and the record's latest.
    version: int
    latest: int
    state: dict[str, Any]
    #: Every event of the record, oldest first (payload decoded).
    events: list[dict[str, Any]]


def state_at(app: GrantLedger, aggregate_id: UUID, version: int) -> dict[str, Any]:
    """The record's fields as they were at ``version``, as JSON-ready data (money as strings)."""
    aggregate = app.aggregate_at(aggregate_id, version)
    return {k: plain(v) for k, v in vars(aggregate).items() if not k.startswith("_")}


def record_history(
    conn: Connection, app: GrantLedger, aggregate_id: UUID, version: int | None = None
) -> RecordHistory | None:
    """The record's events and its state at ``version`` (default: the latest); None when no
    event of it is in the trail. VersionNotRecorded for a version after its latest."""
    events = audit_trail(conn, AuditFilter(aggregate_id=str(aggregate_id)), limit=100_000)
    if not events:
        return None
    latest = events[-1]["version"]
    at = latest if version is None else version
    if at > latest:
        raise VersionNotRecorded(f"version {at} of record {aggregate_id} (it has {latest})")
    return RecordHistory(
        aggregate_id=str(aggregate_id),
        aggregate_type=events[0]["aggregate_type"],
        version=at,
        latest=latest,
        state=state_at(app, aggregate_id, at),
        events=events,
    )


def is_money(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"amount", "currency"}


def flatten(value: Any, path: Path = ()) -> dict[Path, Any]:
    """Nested JSON-ready data as leaves by path: ``{"lines": [{"amount": m}]}`` is
    ``{("lines", "1", "amount"): m}``; money (amount and currency) is one leaf; an empty list
    or mapping is a leaf too, so that it shows."""
    if is_money(value) or not isinstance(value, dict | list) or not value:
        return {path: value}
    items = value.items() if isinstance(value, dict) else ((str(n), v) for n, v in enumerate(value, start=1))
    found: dict[Path, Any] = {}
    for key, item in items:
        found |= flatten(item, (*path, str(key)))
    return found


@dataclass(frozen=True)
class Field:
    path: Path
    value: Any
    before: Any
    #: "" (unchanged), "changed", "new" (not in the earlier state) or "removed" (only there).
    change: str


def compare(state: dict[str, Any], before: dict[str, Any] | None) -> list[Field]:
    """Every field of ``state`` beside its value in ``before`` (None: there is no earlier
    version), with what changed; fields only in ``before`` come last, as removed."""
    now, then = flatten(state), flatten(before) if before is not None else None
    fields = []
    for path, value in now.items():
        if then is None:
            fields.append(Field(path, value, None, ""))
        elif path not in then:
            fields.append(Field(path, value, None, "new"))
        else:
            fields.append(Field(path, value, then[path], "changed" if then[path] != value else ""))
    if then is not None:
        fields += [Field(path, None, value, "removed") for path, value in then.items() if path not in now]
    return fields


#: The event classes eventsourcing gives every aggregate: bases, never recorded themselves.
_BASES = frozenset({"Event", "Created"})


def _aggregates(base: type = LedgerAggregate) -> list[type]:
    found: list[type] = []
    subclasses: list[type] = base.__subclasses__()
    for cls in subclasses:
        found += [cls, *_aggregates(cls)]
    return found


def record_types() -> dict[str, tuple[str, ...]]:
    """Each kind of record the ledger keeps, with the kinds of event it has (as the audit
    trail names them: ``Claim``, ``Approved``)."""
    types: dict[str, tuple[str, ...]] = {}
    for cls in _aggregates():
        events = [
            name
            for name, member in vars(cls).items()
            if isinstance(member, type) and issubclass(member, LedgerAggregate.Event) and name not in _BASES
        ]
        types[cls.__name__] = tuple(sorted(events))
    return dict(sorted(types.items()))
