"""Supporting documents driven at random beside a plain model: a document (by its digest) is
live on at most one claim line or cost at a time, whatever order officers attach, supersede,
decide and resubmit in; every refusal the model predicts is raised and records nothing; every
document ever attached keeps its bytes, intact."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

import pytest
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from ledger.application import GrantLedger
from ledger.blobs import OK, digest_of
from ledger.claim import Claim, ClaimNotInState
from ledger.cost import Cost
from ledger.documents import DocumentAlreadyUsed, DocumentIndex, Upload, document_id
from ledger.errors import InvalidInput, LedgerError
from ledger.money import Money
from ledger.storage import open_ledger
from tests.builders import eur_line, officer, open_mission, selected_sme, sign_alliance
from tests.samples import jpeg, pdf, png

POINTEX = officer("POINTEX")
#: A small pool, so the same document is often tried on several lines.
POOL = [
    *(Upload(f"doc-{n}.pdf", pdf(f"doc {n}")) for n in range(4)),
    Upload("photo.png", png("photo")),
    Upload("scan.jpg", jpeg("scan")),
]


@dataclass
class Holder:
    """A claim (lines 1..lines) or a cost (one place, line None) as the model sees it."""

    kind: str
    lines: int
    #: Decided claims take no document; rejected ones no longer hold theirs (they may be declared again).
    decided: bool = False
    holds: bool = True
    #: Its documents not superseded: digest -> line.
    docs: dict[str, int | None] = field(default_factory=dict)


class DocumentsMachine(RuleBasedStateMachine):
    claims = Bundle("claims")
    costs = Bundle("costs")

    def __init__(self) -> None:
        super().__init__()
        self.app: GrantLedger = open_ledger("memory://")
        sign_alliance(self.app, fstp="50000.00")
        self.mission = open_mission(self.app)
        self.sme = selected_sme(self.app, self.mission)
        #: Only holders the ledger recorded (a refused submission leaves none).
        self.model: dict[UUID, Holder] = {}
        self.attached: set[str] = set()

    def teardown(self) -> None:
        self.app.close()

    # --- the model ------------------------------------------------------------------------
    def holder_of(self, digest: str) -> UUID | None:
        return next((h for h, m in self.model.items() if m.holds and digest in m.docs), None)

    def free_for(self, digest: str, holder_id: UUID, line: int | None) -> bool:
        """Whether the document may go there: held by nobody, or already there (a repeat)."""
        held = self.holder_of(digest)
        return held is None or (held == holder_id and self.model[holder_id].docs[digest] == line)

    def attempt(self, what: str, expected: type[LedgerError] | None, command: Callable[[], object]) -> bool:
        """Run a command; a predicted refusal must be raised exactly and record nothing."""
        before = self.app.recorder.max_notification_id()
        if expected is not None:
            with pytest.raises(expected) as refusal:
                command()
            assert isinstance(refusal.value, expected)
            assert self.app.recorder.max_notification_id() == before, f"{what}: refused but recorded events"
            event(f"{what}: refused {type(refusal.value).__name__}")
            return False
        command()
        event(f"{what}: done")
        return True

    # --- rules ----------------------------------------------------------------------------
    @rule(
        target=claims,
        lines=st.integers(1, 3),
        docs=st.lists(st.tuples(st.integers(1, 3), st.sampled_from(POOL)), max_size=2),
    )
    def submit_claim(self, lines: int, docs: list[tuple[int, Upload]]) -> UUID:
        claim_id = uuid.uuid4()
        placed = [(min(line, lines), upload) for line, upload in docs]
        digests = [digest_of(u.data) for _, u in placed]
        expected: type[LedgerError] | None = None
        if len(set(digests)) < len(digests):
            expected = InvalidInput  # the same file twice in one command
        elif any(self.holder_of(d) is not None for d in digests):
            expected = DocumentAlreadyUsed
        by_line: dict[int, list[Upload]] = {}
        for line, upload in placed:
            by_line.setdefault(line, []).append(upload)

        def submit() -> UUID:
            return self.app.submit_claim(
                actor=POINTEX,
                claim_id=claim_id,
                sme_id=self.sme,
                mission_id=self.mission,
                lines=[eur_line("10.00") for _ in range(lines)],
                on=date(2023, 4, 1),
                documents=by_line,
            )

        if self.attempt("submit with documents", expected, submit):
            self.model[claim_id] = Holder(
                "claim", lines, docs=dict(zip(digests, (line for line, _ in placed), strict=True))
            )
            self.attached.update(digests)
        return claim_id

    @rule(target=costs)
    def record_cost(self) -> UUID:
        cost_id = self.app.record_cost(
            actor=POINTEX,
            cost_id=uuid.uuid4(),
            partner="POINTEX",
            category="TRAVEL",
            amount=Money.eur("20.00"),
            document_ref=f"INV-{uuid.uuid4().hex[:8]}",
            description="",
            on=date(2023, 3, 1),
        )
        self.model[cost_id] = Holder("cost", 1)
        return cost_id

    @rule(holder=st.one_of(claims, costs), line=st.integers(1, 3), upload=st.sampled_from(POOL))
    def attach(self, holder: UUID, line: int, upload: Upload) -> None:
        model, digest = self.model.get(holder), digest_of(upload.data)
        if model is None:
            return  # a claim the ledger refused
        place = min(line, model.lines) if model.kind == "claim" else None
        expected: type[LedgerError] | None = None
        if model.decided:
            expected = ClaimNotInState
        elif not self.free_for(digest, holder, place):
            expected = DocumentAlreadyUsed

        def command() -> tuple[str, ...]:
            if place is None:
                return self.app.attach_to_cost(actor=POINTEX, cost_id=holder, uploads=[upload])
            return self.app.attach_to_claim(actor=POINTEX, claim_id=holder, line=place, uploads=[upload])

        if self.attempt(f"attach to a {model.kind}", expected, command):
            model.docs[digest] = place
            self.attached.add(digest)

    @rule(holder=st.one_of(claims, costs), pick=st.integers(0, 10), replacement=st.sampled_from([None, *POOL]))
    def supersede(self, holder: UUID, pick: int, replacement: Upload | None) -> None:
        model = self.model.get(holder)
        if model is None or not model.docs:
            return
        digest = sorted(model.docs)[pick % len(model.docs)]
        line = model.docs[digest]
        new = None if replacement is None else digest_of(replacement.data)
        expected: type[LedgerError] | None = None
        if new == digest:
            expected = InvalidInput  # checked before the claim is loaded
        elif model.decided:
            expected = ClaimNotInState
        elif new is not None and not self.free_for(new, holder, line):
            expected = DocumentAlreadyUsed

        def command() -> str | None:
            return self.app.supersede_document(
                actor=POINTEX, holder_id=holder, sha256=digest, reason="wrong file", replacement=replacement
            )

        if self.attempt("supersede", expected, command):
            del model.docs[digest]
            if new is not None:
                model.docs[new] = line
                self.attached.add(new)

    @rule(claim=claims, reject=st.booleans())
    def decide(self, claim: UUID, reject: bool) -> None:
        model = self.model.get(claim)
        if model is None or model.decided:
            return
        if reject:
            self.app.reject_claim(actor=POINTEX, claim_id=claim, reason="not eligible", on=date(2023, 4, 2))
            model.holds = False
        else:
            self.app.approve_claim(actor=POINTEX, claim_id=claim, on=date(2023, 4, 2))
        model.decided = True

    # --- invariants -----------------------------------------------------------------------
    @invariant()
    def the_ledger_shows_what_the_model_says(self) -> None:
        for holder_id, model in self.model.items():
            held: Claim | Cost = self.app.repository.get(holder_id)
            assert {d["sha256"]: d["line"] for d in held.live_documents()} == model.docs, holder_id

    @invariant()
    def one_live_holder_per_document(self) -> None:
        """Invariant 5 by document: the index names the one holder the model has, or none."""
        for digest in self.attached:
            index: DocumentIndex = self.app.repository.get(document_id(digest))
            assert index.holder_id == self.holder_of(digest), digest[:12]

    @invariant()
    def every_attached_document_keeps_its_bytes(self) -> None:
        for digest in self.attached:
            assert self.app.blobs.check(digest) == OK


TestDocumentsMachine = DocumentsMachine.TestCase
