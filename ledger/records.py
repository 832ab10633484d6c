"""Stored records bound to their place: ciphertexts that cannot move, snapshots that cannot lie.

With a cipher key, every event and snapshot is encrypted with AES-GCM whose associated data
is the record's place (originator id, version, topic): a ciphertext copied to another row,
version or aggregate fails to decrypt there, and that is an error, never silently accepted.
Such records start with ``BOUND``; records written before (the library's AES-GCM without
associated data) have no marker and still load.

Every snapshot also carries a seal: HMAC-SHA256 over its place and its stored bytes, under
a key the database does not hold (derived from the cipher key, else GRANTLEDGER_SNAPSHOT_KEY,
else a random key of this process), with a short id of that key. A snapshot is used only
when its seal checks under our key: one sealed under another key is left aside quietly,
one without a seal (written before this change) too, and one sealed under our key that
does not match is tampering (changed, rolled back, moved or forged): the ledger logs it,
counts it, and loads the aggregate from its events instead.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
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
    StoredEvent,
    Transcoder,
)

from ledger.errors import InvalidInput

log = logging.getLogger(__name__)

ENV_SNAPSHOT_KEY = "GRANTLEDGER_SNAPSHOT_KEY"
#: Marks a ciphertext bound to its record (then nonce, tag, encrypted bytes, as the library lays them out).
BOUND = b"\x00GLaead1"
#: Marks a sealed snapshot (then the key id, the seal, the stored bytes).
SEALED = b"\x00GLseal1"
KEY_ID_SIZE, SEAL_SIZE, NONCE_SIZE, TAG_SIZE = 8, 32, 12, 16
#: This process's seal key when no key is configured: its snapshots serve only itself.
_PROCESS_SECRET = os.urandom(32)


def _place(domain: bytes, originator_id: UUID | str, version: int, topic: str) -> bytes:
    """The record's place as unambiguous bytes (each part length-prefixed)."""
    identity = originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))
    out = bytearray()
    for part in (domain, str(identity).encode(), str(version).encode(), topic.encode()):
        out += len(part).to_bytes(4, "big") + part
    return bytes(out)


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
    UNSEALED = "without a seal"
    BROKEN = "sealed with this key but does not match"


class SnapshotRejected(Exception):
    """A stored snapshot that must not be used: load the aggregate from its events."""

    def __init__(self, seal: Seal, stored: StoredEvent) -> None:
        super().__init__(f"snapshot of {stored.originator_id} at version {stored.originator_version}: {seal}")
        self.seal = seal
        self.stored = stored


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

    def _seal(self, stored: StoredEvent, state: bytes) -> bytes:
        place = _place(b"snapshot", stored.originator_id, stored.originator_version, stored.topic)
        return hmac.new(self._secret, place + state, hashlib.sha256).digest()

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        stored = super().to_stored_event(domain_event)
        return replace(stored, state=SEALED + self.key_id + self._seal(stored, stored.state) + stored.state)

    def inspect(self, stored: StoredEvent) -> tuple[Seal, StoredEvent]:
        """What the seal says, and the record as it would be without its seal."""
        state = stored.state
        if not state.startswith(SEALED):
            return Seal.UNSEALED, stored
        head = len(SEALED)
        key_id, seal = state[head : head + KEY_ID_SIZE], state[head + KEY_ID_SIZE : head + KEY_ID_SIZE + SEAL_SIZE]
        inner = replace(stored, state=state[head + KEY_ID_SIZE + SEAL_SIZE :])
        if not hmac.compare_digest(key_id, self.key_id):
            return Seal.FOREIGN, inner
        if len(seal) != SEAL_SIZE or not hmac.compare_digest(seal, self._seal(inner, inner.state)):
            return Seal.BROKEN, inner
        return Seal.OURS, inner

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        seal, inner = self.inspect(stored_event)
        if seal is not Seal.OURS:
            raise SnapshotRejected(seal, stored_event)
        return super().to_domain_event(inner)

    def to_domain_event_unchecked(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        """The snapshot whatever its seal says (for verification, never to decide)."""
        return super().to_domain_event(self.inspect(stored_event)[1])


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
    """The snapshot store the repository loads from: it yields only snapshots whose seal
    checks under our key; any other is left aside (and tampering logged and counted), so
    the repository loads that aggregate from its events."""

    mapper: SnapshotMapper

    def __init__(self, mapper: SnapshotMapper, recorder: AggregateRecorder, tally: SnapshotTally) -> None:
        super().__init__(mapper=mapper, recorder=recorder)
        self.tally = tally

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
                yield self.mapper.to_domain_event(stored)
            except SnapshotRejected as rejected:
                self._report(rejected)

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
