"""Stored records bound to their place: ciphertexts that cannot move, snapshots that cannot lie.

With a cipher key, every event and snapshot is encrypted with AES-GCM whose associated data
is the record's place (originator id, version, topic): a ciphertext copied to another row,
version or aggregate fails to decrypt there, and that is an error, never silently accepted.
Such records start with ``BOUND``; records written before (the library's AES-GCM without
associated data) have no marker and still load.

Every snapshot also carries a seal: HMAC-SHA256 over its place, the digest of the stored
event it summarises and its stored bytes, under a key the database does not hold (derived
from the cipher key, else GRANTLEDGER_SNAPSHOT_KEY, else a random key of this process), with
a short id of that key. The event's digest (SHA-256 of that event's record in THIS store:
originator id, version, topic and state bytes as the store holds them) binds the snapshot to
its store: budget-line ids derive from names and are equal in every ledger, so a snapshot
sealed in another store that shares the key (a staging copy) would otherwise pass. A
snapshot is used only when its seal checks under our key AND the event store's record at its
version has that digest: one sealed under another key is left aside quietly, one without a
seal or sealed before seals named their event (``\\x00GLseal1``) too, and one sealed under our
key that does not match, or whose event is not that one, is tampering (changed, rolled back,
moved, forged or copied from another store): the ledger logs it, counts it, and loads the
aggregate from its events instead (ledger.loading).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, NamedTuple
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.cryptography import AESCipher
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    AggregateRecorder,
    Cipher,
    Compressor,
    EventStore,
    Mapper,
    MapperDeserialisationError,
    Recording,
    StoredEvent,
    Transcoder,
)

from ledger.errors import InvalidInput

log = logging.getLogger(__name__)

ENV_SNAPSHOT_KEY = "GRANTLEDGER_SNAPSHOT_KEY"
#: Marks a ciphertext bound to its record (then nonce, tag, encrypted bytes, as the library lays them out).
BOUND = b"\x00GLaead1"
#: Marks a sealed snapshot (then the key id, the seal, the digest of its event, the stored bytes).
SEALED = b"\x00GLseal2"
#: Marked snapshots sealed before seals named their event: never used (as if unsealed).
SEALED_WITHOUT_EVENT = b"\x00GLseal1"
KEY_ID_SIZE, SEAL_SIZE, DIGEST_SIZE, NONCE_SIZE, TAG_SIZE = 8, 32, 32, 12, 16
#: This process's seal key when no key is configured: its snapshots serve only itself.
_PROCESS_SECRET = os.urandom(32)


def _place(domain: bytes, originator_id: UUID | str, version: int, topic: str) -> bytes:
    """The record's place as unambiguous bytes (each part length-prefixed)."""
    identity = originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))
    out = bytearray()
    for part in (domain, str(identity).encode(), str(version).encode(), topic.encode()):
        out += len(part).to_bytes(4, "big") + part
    return bytes(out)


def event_digest(stored: StoredEvent) -> bytes:
    """SHA-256 of an event's record as the store holds it: place and stored (encrypted) bytes."""
    where = _place(b"event", stored.originator_id, stored.originator_version, stored.topic)
    return hashlib.sha256(where + stored.state).digest()


def derive(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose from a secret (HMAC-SHA256 as the key-derivation function)."""
    return hmac.new(secret, f"grantledger/{purpose}".encode(), hashlib.sha256).digest()


class BoundMapper(Mapper[UUID]):
    """The library's mapper, its AES-GCM ciphertexts bound to the record they belong to."""

    def __init__(self, transcoder: Transcoder, compressor: Compressor | None = None, cipher: Cipher | None = None):
        self._aead = AESGCM(cipher.key) if isinstance(cipher, AESCipher) else None
        # The library's own steps without its cipher when we bind; any other cipher as the library uses it.
        super().__init__(transcoder, compressor=compressor, cipher=None if self._aead else cipher)
        self.cipher_key: bytes | None = cipher.key if isinstance(cipher, AESCipher) else None

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        stored = super().to_stored_event(domain_event)
        if self._aead is None:
            return stored
        nonce = os.urandom(NONCE_SIZE)
        aad = _place(b"record", stored.originator_id, stored.originator_version, stored.topic)
        sealed = self._aead.encrypt(nonce, stored.state, aad)
        return replace(stored, state=BOUND + nonce + sealed[-TAG_SIZE:] + sealed[:-TAG_SIZE])

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        return super().to_domain_event(self.decrypted(stored_event))

    def decrypted(self, stored: StoredEvent) -> StoredEvent:
        """The record with its plaintext (compressed, if so configured) state. A bound record
        decrypts only in its own place; one without the marker was written before records
        were bound and decrypts as the library wrote it (no associated data)."""
        if self._aead is None:
            return stored
        bound = stored.state.startswith(BOUND)
        body = stored.state[len(BOUND) :] if bound else stored.state
        nonce, tag, encrypted = (
            body[:NONCE_SIZE],
            body[NONCE_SIZE : NONCE_SIZE + TAG_SIZE],
            body[NONCE_SIZE + TAG_SIZE :],
        )
        aad = _place(b"record", stored.originator_id, stored.originator_version, stored.topic) if bound else None
        try:
            plain = self._aead.decrypt(nonce, encrypted + tag, aad)
        except (InvalidTag, ValueError) as error:  # ValueError: too short to hold a nonce
            why = (
                "in its place: it was moved here from another record, or altered"
                if bound
                else ": wrong key, or altered"
            )
            raise MapperDeserialisationError(
                f"Failed to deserialise state of stored event with topic '{stored.topic}', "
                f"originator_id '{stored.originator_id}' and originator_version {stored.originator_version}: "
                f"the ciphertext does not decrypt {why}".replace(" :", ":")
            ) from error
        return replace(stored, state=plain)


class Seal(StrEnum):
    """What a snapshot's seal says."""

    OURS = "sealed with this key"
    FOREIGN = "sealed with another key"
    UNSEALED = "without a seal"  # or sealed before seals named their event
    BROKEN = "sealed with this key but does not match"


class SnapshotRejected(Exception):
    """A stored snapshot that must not be used: load the aggregate from its events."""

    def __init__(self, seal: Seal, stored: StoredEvent) -> None:
        super().__init__(f"snapshot of {stored.originator_id} at version {stored.originator_version}: {seal}")
        self.seal = seal
        self.stored = stored


class Inspection(NamedTuple):
    """What a stored snapshot's seal says, the record without its seal, and the digest of the
    event it claims to summarise (None when it names none)."""

    seal: Seal
    record: StoredEvent
    event_digest: bytes | None


@dataclass(frozen=True)
class SealedSnapshot:
    """A snapshot whose seal checks, and the digest of the event it must summarise."""

    snapshot: DomainEventProtocol[UUID]
    version: int
    event_digest: bytes

    def summarises(self, event: StoredEvent | None) -> bool:
        """Whether ``event`` (this store's record at the snapshot's version) is the one sealed in."""
        return is_sealed_event(event, self.version, self.event_digest)


def is_sealed_event(event: StoredEvent | None, version: int, digest: bytes) -> bool:
    """Whether ``event`` is the record at ``version`` whose digest a snapshot was sealed with."""
    if event is None or event.originator_version != version:
        return False
    return hmac.compare_digest(event_digest(event), digest)


def seal_secret(cipher_key: bytes | None, snapshot_key: str | None) -> bytes:
    """The secret snapshots are sealed under: from the cipher key, else the snapshot key,
    else this process's random secret."""
    if cipher_key:
        return derive(cipher_key, "snapshot-seal/v1")
    if snapshot_key:
        try:
            raw = base64.b64decode(snapshot_key, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) < 16:
            raise InvalidInput(
                f"{ENV_SNAPSHOT_KEY} must be base64 of at least 16 random bytes; `grantledger key create` makes one"
            )
        return derive(raw, "snapshot-seal/v1")
    return derive(_PROCESS_SECRET, "snapshot-seal/v1")


class SnapshotMapper(BoundMapper):
    """Snapshots: bound like every record, and sealed under a key the database does not hold."""

    def __init__(
        self,
        transcoder: Transcoder,
        compressor: Compressor | None = None,
        cipher: Cipher | None = None,
        *,
        secret: bytes,
    ) -> None:
        super().__init__(transcoder, compressor=compressor, cipher=cipher)
        self._secret = secret
        self.key_id = derive(secret, "key-id")[:KEY_ID_SIZE]

    def _seal(self, stored: StoredEvent, digest: bytes, state: bytes) -> bytes:
        place = _place(b"snapshot", stored.originator_id, stored.originator_version, stored.topic)
        return hmac.new(self._secret, place + digest + state, hashlib.sha256).digest()

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        raise TypeError("a snapshot is sealed with the event it summarises: use SnapshotMapper.sealed(snapshot, event)")

    def sealed(self, snapshot: DomainEventProtocol[UUID], event: StoredEvent) -> StoredEvent:
        """The stored snapshot, sealed with the digest of ``event``: this store's record of the
        event at the snapshot's version."""
        stored = super().to_stored_event(snapshot)
        if (UUID(str(event.originator_id)), event.originator_version) != (
            UUID(str(stored.originator_id)),
            stored.originator_version,
        ):
            raise ValueError(
                f"the snapshot of {stored.originator_id} at version {stored.originator_version} cannot be sealed "
                f"with the event of {event.originator_id} at version {event.originator_version}"
            )
        digest = event_digest(event)
        seal = self._seal(stored, digest, stored.state)
        return replace(stored, state=SEALED + self.key_id + seal + digest + stored.state)

    def inspect(self, stored: StoredEvent) -> Inspection:
        """What the seal says, the record as it would be without its seal, and its event's digest."""
        state = stored.state
        if state.startswith(SEALED_WITHOUT_EVENT):  # readable for verification, never trusted
            body = state[len(SEALED_WITHOUT_EVENT) + KEY_ID_SIZE + SEAL_SIZE :]
            return Inspection(Seal.UNSEALED, replace(stored, state=body), None)
        if not state.startswith(SEALED):
            return Inspection(Seal.UNSEALED, stored, None)
        head = len(SEALED)
        key_id = state[head : head + KEY_ID_SIZE]
        seal = state[head + KEY_ID_SIZE : head + KEY_ID_SIZE + SEAL_SIZE]
        digest = state[head + KEY_ID_SIZE + SEAL_SIZE : head + KEY_ID_SIZE + SEAL_SIZE + DIGEST_SIZE]
        inner = replace(stored, state=state[head + KEY_ID_SIZE + SEAL_SIZE + DIGEST_SIZE :])
        if not hmac.compare_digest(key_id, self.key_id):
            return Inspection(Seal.FOREIGN, inner, digest)
        if len(digest) != DIGEST_SIZE or not hmac.compare_digest(seal, self._seal(inner, digest, inner.state)):
            return Inspection(Seal.BROKEN, inner, digest)
        return Inspection(Seal.OURS, inner, digest)

    def trusted(self, stored_event: StoredEvent) -> SealedSnapshot:
        """The snapshot and the digest of its event, if its seal checks under our key (else
        SnapshotRejected). It may be used only if the event store's record at its version has
        that digest (SealedSnapshot.summarises)."""
        seal, inner, digest = self.inspect(stored_event)
        if seal is not Seal.OURS or digest is None:
            raise SnapshotRejected(seal, stored_event)
        return SealedSnapshot(super().to_domain_event(inner), stored_event.originator_version, digest)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        return self.trusted(stored_event).snapshot

    def to_domain_event_unchecked(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        """The snapshot whatever its seal says (for verification, never to decide)."""
        return super().to_domain_event(self.inspect(stored_event).record)


@dataclass
class SnapshotTally:
    """Snapshots this process left aside when loading, by reason."""

    tampered: int = 0
    foreign: int = 0
    unsealed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, seal: Seal) -> None:
        with self._lock:
            if seal is Seal.BROKEN:
                self.tampered += 1
            elif seal is Seal.FOREIGN:
                self.foreign += 1
            else:
                self.unsealed += 1


class TrustedSnapshots(EventStore[UUID]):
    """The snapshot store the repository loads from: it seals each snapshot with the digest of
    this store's record of the event it summarises, and yields only snapshots whose seal checks
    under our key and whose event is that record; any other is left aside (and tampering logged
    and counted), so the repository loads that aggregate from its events. The repository
    (ledger.loading) reads that event with the ones after it and checks it itself (``latest``)."""

    mapper: SnapshotMapper

    def __init__(
        self, mapper: SnapshotMapper, recorder: AggregateRecorder, tally: SnapshotTally, events: AggregateRecorder
    ) -> None:
        super().__init__(mapper=mapper, recorder=recorder)
        self.tally = tally
        self.events = events

    def _event(self, originator_id: UUID, version: int) -> StoredEvent | None:
        """This store's record of the aggregate's event at ``version``, if there is one."""
        records = self.events.select_events(originator_id, gt=version - 1, lte=version)
        return records[0] if records and records[0].originator_version == version else None

    def put(self, domain_events: Sequence[DomainEventProtocol[UUID]], **kwargs: Any) -> list[Recording[UUID]]:
        stored = []
        for snapshot in domain_events:
            event = self._event(snapshot.originator_id, snapshot.originator_version)
            if event is None:  # the library snapshots recorded versions only: never expected
                log.warning(
                    "no event of %s at version %s: its snapshot is not stored",
                    snapshot.originator_id,
                    snapshot.originator_version,
                )
                continue
            stored.append(self.mapper.sealed(snapshot, event))
        if stored:
            self.recorder.insert_events(stored, **kwargs)
        return []

    def latest(self, originator_id: UUID, lte: int | None = None) -> SealedSnapshot | None:
        """The latest snapshot (at or below ``lte``) if its seal checks; its event is for the
        caller to check (``SealedSnapshot.summarises``, else ``mismatch``)."""
        for stored in self.recorder.select_events(originator_id=originator_id, lte=lte, desc=True, limit=1):
            try:
                return self.mapper.trusted(stored)
            except SnapshotRejected as rejected:
                self._report(rejected)
        return None

    def get(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Iterator[DomainEventProtocol[UUID]]:
        records = self.recorder.select_events(originator_id=originator_id, gt=gt, lte=lte, desc=desc, limit=limit)
        return self._trusted(records)

    def _trusted(self, records: Iterable[StoredEvent]) -> Iterator[DomainEventProtocol[UUID]]:
        for stored in records:
            try:
                sealed = self.mapper.trusted(stored)
            except SnapshotRejected as rejected:
                self._report(rejected)
                continue
            aggregate_id = sealed.snapshot.originator_id
            if sealed.summarises(self._event(aggregate_id, sealed.version)):
                yield sealed.snapshot
            else:
                self.mismatch(aggregate_id, sealed.version)

    def mismatch(self, originator_id: UUID, version: int) -> None:
        """A snapshot whose seal checks but whose event is not this store's event at its version."""
        self.tally.count(Seal.BROKEN)
        log.warning(
            "snapshot of aggregate %s at version %s does not summarise this store's event at that version "
            "(copied from another store sharing the key, or the event changed): not used, the aggregate is "
            "loaded from its events; run `grantledger verify`",
            originator_id,
            version,
        )

    def _report(self, rejected: SnapshotRejected) -> None:
        self.tally.count(rejected.seal)
        stored = rejected.stored
        if rejected.seal is Seal.BROKEN:
            log.warning(
                "snapshot of aggregate %s at version %s fails its seal (changed, rolled back, moved or forged): "
                "not used, the aggregate is loaded from its events; run `grantledger verify`",
                stored.originator_id,
                stored.originator_version,
            )
        else:
            log.debug(
                "snapshot of %s at version %s is %s: loading from events",
                stored.originator_id,
                stored.originator_version,
                rejected.seal,
            )
