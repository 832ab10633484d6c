"""Deterministic identifiers for natural keys (uuid5 in the ledger's own namespace)."""

from __future__ import annotations

from uuid import UUID, uuid5

NAMESPACE = UUID("6f1c2b8e-53a4-4d7e-9a51-2f0e8c6b7d10")


def natural_id(kind: str, *parts: str) -> UUID:
    """The id of the aggregate of this kind with this natural key."""
    return uuid5(NAMESPACE, "/".join((kind, *parts)))


def normalise_key(value: str) -> str:
    """A reference as the ledger compares it: trimmed, inner whitespace collapsed, upper case."""
    return " ".join(value.split()).upper()
