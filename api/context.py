"""The composition root: one place that wires the ledger, the read models and the projector."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ledger.application import GrantLedger
from ledger.storage import database_url, open_ledger
from projections.db import ENV_READ_URL, ReadDatabase, read_url_for
from projections.projector import Projector


@dataclass
class LedgerContext:
    """The application (writes), its read models (reads) and the projector between them."""

    app: GrantLedger
    read_db: ReadDatabase
    projector: Projector

    def close(self) -> None:
        self.read_db.close()
        self.app.close()

    def __enter__(self) -> LedgerContext:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open_context(
    url: str | None = None,
    read_url: str | None = None,
    *,
    must_exist: bool = False,
    read_models_must_exist: bool = False,
) -> LedgerContext:
    """Open the event store (``url`` or GRANTLEDGER_DATABASE_URL) and its read models
    (``read_url`` or GRANTLEDGER_READ_DATABASE_URL, else derived from the store's URL).

    The event store is created if need be, unless ``must_exist``: then a URL holding no ledger
    is refused (ledger.storage.NoLedger) before anything is created, read models included.
    The read models of an existing ledger are (re)created when missing: they derive from it;
    unless ``read_models_must_exist`` (read-only commands): then missing read models are refused
    (projections.db.NoReadModels) and nothing is created, since read models made afresh would
    hold a chain sealed from scratch over whatever the store holds now."""
    event_url = url or database_url()
    app = open_ledger(event_url, create=not must_exist)
    try:
        named = read_url or os.environ.get(ENV_READ_URL)
        hint = (
            f"check --read-database-url or {ENV_READ_URL}"
            if named
            else "run `grantledger project` first to build them from the events"
        )
        read_db = ReadDatabase(read_url or read_url_for(event_url), create=not read_models_must_exist, hint=hint)
    except BaseException:
        app.close()
        raise
    return LedgerContext(app, read_db, Projector(app, read_db))
