"""The bytes of supporting documents: one table of blobs in the event store itself.

A document's event records its SHA-256, size, media type and name (ledger/documents.py), so the
hash chain seals the digest; the bytes live here, keyed by that digest (content-addressed: the
same document is stored once, however often it is uploaded). The table is in the event store's
own database (SQLite file or PostgreSQL schema; a dict for an in-memory store), so a backup of
the ledger holds its documents. With a cipher key the bytes are encrypted at rest with the same
AES-GCM cipher as the events; the digest is of the plain bytes, so a swapped or altered
ciphertext fails ``check``.

Bytes are stored before the event that references them is saved. A crash between the two leaves
an orphan: bytes that no document index names. Orphans are never counted as attached (what is
attached is what the events say) and ``prune`` removes them once they are older than a grace
period longer than any command takes. Storing bytes that are already there renews their time,
and a deletion only takes bytes still older than the grace period, so a command attaching the
same file as an old orphan keeps its bytes.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from eventsourcing.persistence import Cipher, Recorder

#: The table of blobs, beside the library's event tables.
TABLE = "grantledger_documents"

OK, MISSING, ALTERED = "ok", "missing", "altered"


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore(Protocol):
    def put(self, sha256: str, data: bytes) -> None:
        """Store the bytes under their digest (nothing happens if they are already there)."""

    def get(self, sha256: str) -> bytes | None:
        """The plain bytes stored under the digest, unchecked; None if there are none."""

    def digests(self, *, stored_before: datetime | None = None) -> Iterator[str]:
        """Every digest stored (only those stored before the time, if given)."""

    def delete(self, sha256: str, *, stored_before: datetime) -> None:
        """Remove an orphan stored before the time (used only by pruning: a referenced document
        is never deleted, and bytes stored again since, for a command under way, are kept)."""

    def check(self, sha256: str) -> str:
        """ "ok", "missing" or "altered" (the bytes do not hash to their digest)."""


class _Blobs:
    """What every store shares: encryption at rest and the digest check."""

    def __init__(self, cipher: Cipher | None) -> None:
        self.cipher = cipher

    def _seal(self, data: bytes) -> bytes:
        return self.cipher.encrypt(data) if self.cipher is not None else data

    def _open(self, stored: bytes) -> bytes | None:
        if self.cipher is None:
            return stored
        try:
            return self.cipher.decrypt(stored)
        except ValueError:  # the library's AESCipher: "Cipher text is damaged ..." or a bad tag
            return None

    def _raw(self, sha256: str) -> bytes | None:
        raise NotImplementedError

    def get(self, sha256: str) -> bytes | None:
        stored = self._raw(sha256)
        return None if stored is None else self._open(stored)

    def check(self, sha256: str) -> str:
        stored = self._raw(sha256)
        if stored is None:
            return MISSING
        data = self._open(stored)
        return OK if data is not None and digest_of(data) == sha256 else ALTERED


class MemoryBlobs(_Blobs):
    """Blobs of an in-memory store (tests, demos)."""

    def __init__(self, cipher: Cipher | None) -> None:
        super().__init__(cipher)
        self.rows: dict[str, tuple[bytes, datetime]] = {}
        self._lock = threading.Lock()

    def put(self, sha256: str, data: bytes) -> None:
        with self._lock:
            stored = self.rows.get(sha256)
            self.rows[sha256] = (stored[0] if stored else self._seal(data), datetime.now(UTC))

    def _raw(self, sha256: str) -> bytes | None:
        row = self.rows.get(sha256)
        return None if row is None else row[0]

    def digests(self, *, stored_before: datetime | None = None) -> Iterator[str]:
        with self._lock:
            rows = list(self.rows.items())
        return iter([d for d, (_, at) in rows if stored_before is None or at < stored_before])

    def delete(self, sha256: str, *, stored_before: datetime) -> None:
        with self._lock:
            stored = self.rows.get(sha256)
            if stored is not None and stored[1] < stored_before:
                del self.rows[sha256]


class SqlBlobs(_Blobs):
    """Blobs in a table of the event store's database, through the library's own connections
    (SQLite or PostgreSQL: only the parameter style and the column types differ)."""

    def __init__(self, datastore: Any, cipher: Cipher | None, *, postgres: bool, create: bool) -> None:
        super().__init__(cipher)
        self.datastore = datastore
        self.postgres = postgres
        mark = "%s" if postgres else "?"
        table = f"{datastore.schema}.{TABLE}" if postgres else TABLE
        self._insert = (
            f"INSERT INTO {table} (sha256, data, stored_at) VALUES ({mark}, {mark}, {mark}) "  # noqa: S608 - constant names
            "ON CONFLICT (sha256) DO UPDATE SET stored_at = excluded.stored_at"
        )
        self._select = f"SELECT data FROM {table} WHERE sha256 = {mark}"  # noqa: S608
        self._list = f"SELECT sha256, stored_at FROM {table} ORDER BY sha256"  # noqa: S608
        self._delete = f"DELETE FROM {table} WHERE sha256 = {mark} AND stored_at < {mark}"  # noqa: S608
        if create:
            blob, stamp = ("bytea", "timestamptz") if postgres else ("BLOB", "TEXT")
            with datastore.transaction(commit=True) as cursor:
                cursor.execute(
                    f"CREATE TABLE IF NOT EXISTS {table} "
                    f"(sha256 TEXT PRIMARY KEY, data {blob} NOT NULL, stored_at {stamp} NOT NULL)"
                )

    def _when(self, moment: datetime) -> Any:
        return moment if self.postgres else moment.isoformat()

    def put(self, sha256: str, data: bytes) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(self._insert, (sha256, self._seal(data), self._when(datetime.now(UTC))))

    def _raw(self, sha256: str) -> bytes | None:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._select, (sha256,))
            row = cursor.fetchone()
        if row is None:
            return None
        return bytes(row["data"] if self.postgres else row[0])

    def digests(self, *, stored_before: datetime | None = None) -> Iterator[str]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._list)
            rows = cursor.fetchall()
        for row in rows:
            sha256, at = (row["sha256"], row["stored_at"]) if self.postgres else (row[0], row[1])
            moment = at if isinstance(at, datetime) else datetime.fromisoformat(at)
            if stored_before is None or moment < stored_before:
                yield sha256

    def delete(self, sha256: str, *, stored_before: datetime) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(self._delete, (sha256, self._when(stored_before)))


def blob_store(recorder: Recorder, cipher: Cipher | None, *, create: bool) -> BlobStore:
    """The blob store beside the events of this recorder."""
    from eventsourcing.sqlite import SQLiteDatastore

    datastore = getattr(recorder, "datastore", None)
    postgres = sys.modules.get("eventsourcing.postgres")  # loaded by a PostgreSQL store: not imported for others
    if postgres is not None and isinstance(datastore, postgres.PostgresDatastore):
        return SqlBlobs(datastore, cipher, postgres=True, create=create)
    if isinstance(datastore, SQLiteDatastore):
        return SqlBlobs(datastore, cipher, postgres=False, create=create)
    return MemoryBlobs(cipher)


def prune(blobs: BlobStore, referenced: Callable[[str], bool], *, older_than: timedelta) -> int:
    """Delete the orphans stored more than ``older_than`` ago (bytes no document index names);
    the number deleted."""
    cutoff = datetime.now(UTC) - older_than
    orphans = [d for d in blobs.digests(stored_before=cutoff) if not referenced(d)]
    for sha256 in orphans:
        # Stored again since the listing (a command attaching the same file now), it stays.
        blobs.delete(sha256, stored_before=cutoff)
    left = set(blobs.digests())
    return sum(1 for sha256 in orphans if sha256 not in left)
