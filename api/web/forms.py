"""What the forms for missions, SMEs and budget transfers share: reading a typed field as the
JSON API reads it, telling which field a refusal of the ledger concerns, and recording.

``record`` runs one Application method: a field the route could not read, or a refusal of the
ledger, re-renders the form's page with the refusal beside its field (or above the form when
it concerns none), in the ledger's words, with what was typed kept, and nothing recorded; a
refusal of who may act (NotAllowed) is the refusal page; once recorded, the read models are
brought up to the write (read-your-writes) and the browser is sent on (POST-redirect-GET).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from uuid import UUID, uuid4

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from api.context import LedgerContext
from api.schemas import parse_iso_date
from api.web.errors import ledger_refused, status_of
from api.web.writes import FieldRefusal, write
from ledger.errors import LedgerError, NotAllowed
from ledger.money import Money, parse_decimal_text

#: The key of a refusal that concerns no one field: it is shown above the form.
FORM = ""
#: Which field a refusal concerns when the ledger's message does not start with its name:
#: (field, an error class or words of the ledger's message), the first that matches wins.
Hints = Sequence[tuple[str, type[LedgerError] | str]]
#: The form's page again, with its status and the refusals by field.
Page = Callable[[int, dict[str, str]], Response]


def form_id(text: str) -> UUID:
    """The form's random id of what it records (put in the form when the page was drawn, so
    the same form sent twice records once); a fresh one if missing or not a random id."""
    try:
        given = UUID(text)
    except ValueError:
        return uuid4()
    return given if given.version == 4 else uuid4()


def typed_date(text: str, field: str, what: str) -> date:
    try:
        return parse_iso_date(text)
    except ValueError as error:
        raise FieldRefusal(field, f"{what}: {error}") from None


def typed_eur(text: str, field: str, what: str) -> Money:
    """An amount in EUR read exactly as the JSON API reads one: a plain decimal, in cents."""
    try:
        return Money(parse_decimal_text(text, what), "EUR")
    except LedgerError as error:
        raise FieldRefusal(field, error.detail) from None


def refusal_field(error: LedgerError, fields: Sequence[str], hints: Hints) -> str:
    """The field a refusal concerns: the one the ledger's message names first ("country: ..."),
    else the first hint that matches; FORM for none."""
    detail = error.detail
    for name in fields:
        if detail.startswith(f"{name}:"):
            return name
    for name, hint in hints:
        if (isinstance(hint, str) and hint in detail) or (isinstance(hint, type) and isinstance(error, hint)):
            return name
    return FORM


def record(
    request: Request,
    page: Page,
    command: Callable[[LedgerContext], object],
    then: Callable[[object], str],
    fields: Sequence[str],
    hints: Hints = (),
) -> Response:
    """Run ``command`` (one Application method); on success redirect to ``then(its result)``."""
    try:
        result = write(request, command)
    except FieldRefusal as error:
        return page(422, {error.field: error.detail})
    except NotAllowed as error:
        return ledger_refused(request, error)
    except LedgerError as error:
        return page(status_of(error), {refusal_field(error, fields, hints): error.detail})
    return RedirectResponse(then(result), status_code=303)
