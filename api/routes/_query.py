"""Codes named in a query string: resolved by projections.codes, an unknown one a 422 on its
parameter (the same field error as any other invalid query value), never an empty page."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi.exceptions import RequestValidationError

from ledger.errors import InvalidInput
from projections.codes import UnknownCode

T = TypeVar("T")


def in_query(name: str, given: str | None, resolve: Callable[[str], T]) -> T | None:
    """``resolve(given)`` for the query parameter ``name`` (None when it is not given); an
    unknown or malformed code is a 422 naming the parameter and what it may be."""
    if given is None:
        return None
    try:
        return resolve(given)
    except (UnknownCode, InvalidInput) as error:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", name),
                    "msg": error.detail,
                    "input": given,
                    "ctx": {"error": error.detail},
                }
            ]
        ) from None
