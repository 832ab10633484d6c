"""Verification of the supporting documents: every document the events ever attached (superseded
ones too: their bytes are kept for five years) still has its bytes in the document store, and
they still hash to the digest its event recorded (and the hash chain seals).

It reads the attachments from the stored events themselves, never from the read models (which
anyone with the read database could change), and asks the store (``app.blobs.check``) about
each digest once, however many lines or costs hold it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from eventsourcing.utils import get_topic

from ledger.application import GrantLedger
from ledger.claim import Claim
from ledger.cost import Cost

ATTACHED = (Claim.DocumentAttached, Cost.DocumentAttached)
SUPERSEDED = (Claim.DocumentSuperseded, Cost.DocumentSuperseded)
#: What the document store answers for a digest whose bytes are not whole.
WHAT_IS_WRONG = {
    "missing": "is missing from the document store (restore its bytes from a backup of the ledger)",
    "altered": "does not match its digest (altered: its bytes in the document store were changed)",
}


@dataclass
class _Attachment:
    kind: str
    holder_id: str
    line: int | None
    sha256: str
    filename: str
    live: bool = True

    def describe(self, answer: str) -> str:
        where = f"{self.kind} {self.holder_id}" + ("" if self.line is None else f" line {self.line}")
        name = self.filename if self.filename.isprintable() else repr(self.filename)
        which = "document" if self.live else "superseded document"
        return f"{where}: {which} {name} (sha256 {self.sha256}) {WHAT_IS_WRONG.get(answer, answer)}"


def _events(app: GrantLedger, batch: int) -> Iterator[Any]:
    topics = [get_topic(cls) for cls in (*ATTACHED, *SUPERSEDED)]
    position = 0
    while found := app.recorder.select_notifications(position, batch, topics=topics, inclusive_of_start=False):
        for notification in found:
            yield app.mapper.to_domain_event(notification)
        position = found[-1].id


def attachments(app: GrantLedger, *, batch: int = 2000) -> list[_Attachment]:
    """Every document attached by the stored events, in order, superseded ones marked so."""
    attached: list[_Attachment] = []
    live: dict[tuple[str, int | None, str], _Attachment] = {}
    for event in _events(app, batch):
        line = getattr(event, "line", None)
        key = (str(event.originator_id), line, event.sha256)
        if isinstance(event, ATTACHED):
            kind = "claim" if isinstance(event, Claim.DocumentAttached) else "cost"
            live[key] = _Attachment(kind, key[0], line, event.sha256, event.filename)
            attached.append(live[key])
        elif key in live:
            live.pop(key).live = False
    return attached


def document_problems(app: GrantLedger) -> tuple[int, list[str]]:
    """How many attached documents were checked, and each one missing from the document store or
    altered there, naming its claim and line, or its cost."""
    answers: dict[str, str] = {}
    problems = []
    found = attachments(app)
    for attachment in found:
        answer = answers.get(attachment.sha256)
        if answer is None:
            answer = answers[attachment.sha256] = app.blobs.check(attachment.sha256)
        if answer != "ok":
            problems.append(attachment.describe(answer))
    return len(found), problems
