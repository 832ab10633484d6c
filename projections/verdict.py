"""What verification found, and the head an auditor wrote down to check it against.

``projections.chain.verify`` builds the ``Verdict`` from the hash chain; ``projections.close.
verify_history`` adds every signed or submitted statement recomputed and every supporting
document's bytes checked against its digest. ``grantledger verify``, ``GET /api/v1/audit/verify``
and the web app's verify page show it (``str(verdict)`` is the plain-words summary).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ledger.errors import InvalidInput

_HEX64 = re.compile(r"[0-9a-f]{64}")
_DIGITS = re.compile(r"[0-9]{1,19}")


@dataclass(frozen=True)
class Anchor:
    """A head written down elsewhere: ``POSITION:SEAL`` as verify prints it, or the seal alone."""

    seal: str
    position: int | None = None

    @classmethod
    def parse(cls, text: str) -> Anchor:
        position, colon, value = text.strip().rpartition(":")
        value = value.lower()
        if not _HEX64.fullmatch(value) or (colon and not _DIGITS.fullmatch(position)):
            raise InvalidInput(
                f"the expected head {text!r} is not a head: write it as verify prints it, POSITION:SEAL "
                "(e.g. 512:3f9a...), or the 64-hex-digit seal alone"
            )
        return cls(value, int(position) if position else None)

    def __str__(self) -> str:
        return self.seal if self.position is None else f"{self.position}:{self.seal}"


@dataclass(frozen=True)
class Verdict:
    """What verification found."""

    intact: bool
    checked: int
    head_position: int
    head_seal: str
    first_bad_position: int | None = None
    problem: str = ""
    unsealed: int = 0
    #: The head written down elsewhere that was checked, if any, and whether the recomputed chain has it.
    anchor: Anchor | None = None
    anchored: bool | None = None
    anchor_problem: str = ""
    #: Why the projector cannot seal the newer events ("" if it can): they can never be checked.
    stuck: str = ""
    #: Signed or submitted statements recomputed (projections.close), and how each that differs does.
    statements: int = 0
    statement_problems: tuple[str, ...] = ()
    #: Supporting documents whose bytes were checked against their digest (superseded ones
    #: too: their bytes are kept), and each one missing or altered, naming its claim and line or cost.
    documents: int = 0
    document_problems: tuple[str, ...] = ()

    @property
    def head(self) -> str:
        """The head as ``--expect-head`` takes it: POSITION:SEAL."""
        return f"{self.head_position}:{self.head_seal}"

    @property
    def ok(self) -> bool:
        """Intact, the anchor (if one was given) is in the history, nothing waits for a projector
        that cannot seal it, every statement recomputes the same and every document is whole."""
        return (
            self.intact
            and self.anchored is not False
            and not self.stuck
            and not self.statement_problems
            and not self.document_problems
        )

    def __str__(self) -> str:
        if not self.intact:
            lines = [f"TAMPERED at position {self.first_bad_position}: {self.problem}"]
        else:
            tail = f"; {self.unsealed} newer events not sealed yet (the projector seals them)" if self.unsealed else ""
            if self.stuck:
                tail = (
                    f"; the events after position {self.head_position} are NOT SEALED and cannot be checked: "
                    f"the projector cannot seal them: {self.stuck}"
                )
            lines = [
                f"intact: {self.checked} events match their seals{tail}",
                f"head {self.head} (write it down; check later with --expect-head {self.head})",
            ]
        if self.anchored is True:
            lines.append(f"the anchor {self.anchor} is in the history recomputed from the stored events")
        elif self.anchored is False:
            lines.append(f"DIFFERS FROM THE ANCHOR {self.anchor}: {self.anchor_problem}")
        lines.extend(f"STATEMENT DIFFERS: {problem}" for problem in self.statement_problems)
        if self.statements and not self.statement_problems:
            lines.append(f"{self.statements} signed or submitted statements recomputed: the same figures")
        lines.extend(f"DOCUMENT PROBLEM: {problem}" for problem in self.document_problems)
        if self.documents and not self.document_problems:
            lines.append(f"{self.documents} supporting documents checked: every one matches its digest")
        return "\n".join(lines)
