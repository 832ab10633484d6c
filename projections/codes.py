"""Codes as people type them: partner and mission codes, claim states, currencies, cost
categories and SME identifiers, matched in any case (``pointex``, ``jpn-2023``, ``APPROVED``,
``jpy``) and given back in their canonical form, or refused naming the ones that exist.

One resolver per kind, and every reader calls it: the JSON API (a code in the path, a filter
in the query string), the command line and the web app. An unknown code is never an empty
answer that looks like "nothing there": it raises ``UnknownCode`` (a ``NotFound``), which the
API answers with 404 for a record named in the path and with 422 for a query filter.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import Connection, select

from ledger.claim import ClaimState
from ledger.errors import InvalidInput, NotFound
from ledger.grant import Category
from ledger.ids import canonical_key
from ledger.money import MINOR_UNITS
from projections import tables as t


class UnknownCode(NotFound):
    """A code, state or identifier that names nothing the ledger knows."""

    title = "Unknown code"


def _shown(text: str) -> str:
    """The text as the user gave it, quoted, cut short when long."""
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _listed(codes: Iterable[str]) -> str:
    return ", ".join(sorted(codes))


def _match(text: str, codes: Iterable[str]) -> str | None:
    """The code among ``codes`` that ``text`` names, in any case and with spaces around."""
    key = text.strip().casefold()
    return next((code for code in codes if code.casefold() == key), None)


def _as_uuid(text: str) -> UUID | None:
    try:
        return UUID(text.strip())
    except ValueError:
        return None


def partner_code(conn: Connection, text: str) -> str:
    """The partner's code as the grant writes it (``pointex`` is POINTEX)."""
    codes = list(conn.execute(select(t.partners.c.code)).scalars())
    found = _match(text, codes)
    if found is not None:
        return found
    if not codes:
        raise UnknownCode(
            f"partner {_shown(text)} is not in the grant: no grant is signed yet, so there are no partners"
        )
    raise UnknownCode(f"partner {_shown(text)} is not in the grant; the partners are {_listed(codes)}")


def mission_id_of(conn: Connection, text: str) -> str:
    """The id of the mission named by its id or its code (``jpn-2023`` is JPN-2023)."""
    rows = conn.execute(select(t.missions.c.id, t.missions.c.code)).all()
    given = _as_uuid(text)
    if given is not None:
        found = next((row.id for row in rows if row.id == str(given)), None)
    else:
        code = _match(text, (row.code for row in rows))
        found = next((row.id for row in rows if row.code == code), None)
    if found is not None:
        return str(found)
    if not rows:
        raise UnknownCode(f"mission {_shown(text)} is not in the ledger: no mission has been opened yet")
    raise UnknownCode(
        f"mission {_shown(text)} is not in the ledger; name a mission by its id or its code: "
        f"the missions are {_listed(row.code for row in rows)}"
    )


def sme_id_of(conn: Connection, text: str) -> str:
    """The id of the SME named by its id or by its identifier, compared in canonical form
    (``it 0123-4567 890`` is IT01234567890: ``ledger.ids.canonical_key``)."""
    given = _as_uuid(text)
    if given is not None:
        found = conn.execute(select(t.smes.c.id).where(t.smes.c.id == str(given))).scalar()
        if found is not None:
            return str(found)
    key = canonical_key(text, "SME identifier")  # refused (422) with no letter or digit in it
    for sme_id, identifier in conn.execute(select(t.smes.c.id, t.smes.c.identifier)):
        try:
            if canonical_key(identifier, "SME identifier") == key:
                return str(sme_id)
        except InvalidInput:  # recorded before identifiers were checked: it matches no key
            continue
    raise UnknownCode(
        f"no SME is registered under {_shown(text)}; name an SME by its id or its identifier "
        "(VAT or national number) as registered: the list of SMEs shows both"
    )


#: The shortest start of a claim's id that names it (the claims list shows 8 characters).
SHORT_ID = 8


def claim_id_of(conn: Connection, text: str) -> str:
    """The id of a claim the ledger holds, given whole or by its first characters (at least
    eight, as the list of claims shows them) when they name one claim only."""
    given = _as_uuid(text)
    if given is not None and conn.execute(select(t.claims.c.id).where(t.claims.c.id == str(given))).scalar():
        return str(given)
    if given is not None:
        raise UnknownCode(f"no claim {given} is in the ledger; the list of claims shows their ids")
    start = text.strip().lower()
    if len(start) < SHORT_ID or any(ch not in "0123456789abcdef-" for ch in start):
        raise UnknownCode(
            f"claim {_shown(text)} is not a claim id; give the id the list of claims shows "
            f"(its first {SHORT_ID} characters are enough, e.g. 83ff35e7)"
        )
    found = conn.execute(select(t.claims.c.id).where(t.claims.c.id.startswith(start)).limit(3)).scalars().all()
    if len(found) == 1:
        return str(found[0])
    if found:
        raise UnknownCode(f"more than one claim starts with {start}: {', '.join(found)}; give more of the id")
    raise UnknownCode(f"no claim starting with {start} is in the ledger; the list of claims shows their ids")


def claim_state(text: str) -> str:
    """A claim state as the ledger writes it (``APPROVED`` is approved)."""
    states = [state.value for state in ClaimState]
    found = _match(text, states)
    if found is None:
        raise UnknownCode(f"claim state {_shown(text)} does not exist; the states are {', '.join(states)}")
    return found


def currency_code(text: str) -> str:
    """A currency the ledger accepts, as ISO 4217 writes it (``jpy`` is JPY)."""
    found = _match(text, MINOR_UNITS)
    if found is None:
        raise UnknownCode(f"currency {_shown(text)} is not one the ledger accepts; use one of {_listed(MINOR_UNITS)}")
    return found


def category_code(text: str) -> str:
    """A cost category of the budget, as the grant forms write it (``fstp`` is FSTP)."""
    categories = [category.value for category in Category]
    found = _match(text, categories)
    if found is None:
        raise UnknownCode(f"cost category {_shown(text)} does not exist; the categories are {', '.join(categories)}")
    return found
