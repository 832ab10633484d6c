"""Events as the audit trail stores them: plain JSON-ready data, money as decimal strings."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger.money import Money
from projections.columns import storable

#: Fields every ledger event has; the audit trail keeps them in columns, the rest is payload.
_ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "actor", "effective_date"})


def plain(value: Any) -> Any:
    """An event field as JSON-ready data: money as decimal strings with currency, never a float."""
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


_JSON_FORMS: dict[type, Callable[[Any], Any]] = {
    Money: lambda m: {"amount": str(m.amount), "currency": m.currency},
    Decimal: str,
    UUID: str,
    date: date.isoformat,
    datetime: datetime.isoformat,
}


def _json_default(value: Any) -> Any:
    """``plain`` for the values JSON does not know, so the C encoder does the rest."""
    form = _JSON_FORMS.get(type(value))
    if form is not None:
        return form(value)
    converted = plain(value)
    if converted is value:
        raise TypeError(f"cannot put {type(value).__name__} into an audit payload")
    return converted


def _storable(value: Any) -> Any:
    """JSON-ready data with every string as the read models hold text (``storable``)."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def payload_of(event: Any) -> str:
    """The event's own fields (not its envelope) as canonical JSON; a NUL in a text stands as
    in every other read-model column, so that no reader of the payload meets one."""
    fields = {k: v for k, v in vars(event).items() if k not in _ENVELOPE}
    payload = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=_json_default)
    if "\\u0000" in payload:  # rare: an event recorded before the ledger refused NUL
        payload = json.dumps(_storable(plain(fields)), sort_keys=True, separators=(",", ":"))
    return payload
