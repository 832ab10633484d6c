"""Invalid requests in the user's words: every field error of a 422 says what was wrong and
what to write instead, never pydantic's or the JSON decoder's jargon (patterns, parser
positions, "UUID parsing")."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from api.schemas import PATTERN_HINTS

Error = Mapping[str, Any]
EXAMPLE_ID = "0b7e7e0e-3c1a-4a52-9d7e-1f2b3c4d5e6f"


def _shown(value: Any) -> str:
    """A value as the user sent it, cut short when long."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: Any) -> str:
    """The JSON kind of a value, in words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, bytes):
        return "not JSON (a form or raw bytes; send Content-Type: application/json)"
    return type(value).__name__


def _ctx(error: Error, key: str) -> Any:
    return (error.get("ctx") or {}).get(key)


def _json_invalid(error: Error) -> str:
    reason = str(_ctx(error, "error") or "not JSON").rstrip(".")
    where = error["loc"][1] if len(error["loc"]) > 1 else None
    at = f" at character {where + 1}" if isinstance(where, int) else ""
    return (
        f"the body is not valid JSON ({reason[:1].lower() + reason[1:]}{at}); send one JSON object with "
        'double-quoted names and strings, no trailing commas, e.g. {"on": "2023-03-15"}'
    )


def _pattern(error: Error) -> str:
    hint = PATTERN_HINTS.get(str(_ctx(error, "pattern")), "in the form shown in the API documentation (/docs)")
    return f"{_shown(error.get('input'))} is not {hint}"


def _too_short(error: Error) -> str:
    least = _ctx(error, "min_length")
    if error["type"] == "string_too_short":
        return "is empty; write some text" if least == 1 else f"is too short; write at least {least} characters"
    return f"needs at least {least} item{'s' if least != 1 else ''}; add {'it' if least == 1 else 'them'}"


def _too_long(error: Error) -> str:
    most = _ctx(error, "max_length")
    if error["type"] == "string_too_long":
        return f"is {len(error.get('input') or '')} characters long; shorten it to at most {most}"
    return f"has more than {most} items; send at most {most} (split it over several requests)"


def _bound(error: Error) -> str:
    shown = _shown(error.get("input"))
    words = {
        "greater_than_equal": ("ge", "at least"),
        "greater_than": ("gt", "more than"),
        "less_than_equal": ("le", "at most"),
        "less_than": ("lt", "less than"),
    }
    key, said = words[error["type"]]
    limit = _ctx(error, key)
    if isinstance(limit, int) and abs(limit) > 10**12:  # a technical bound (a 64-bit position), not a figure
        return f"{shown} is far out of range; write a smaller whole number, e.g. 0"
    return f"{shown} is out of range; write a whole number {said} {limit}"


def _wrong_type(expected: str, example: str) -> Callable[[Error], str]:
    def say(error: Error) -> str:
        return f"is {_kind(error.get('input'))}, not {expected}; write {example}"

    return say


_WORDS: dict[str, Callable[[Error], str]] = {
    "json_invalid": _json_invalid,
    "missing": lambda e: (
        'the request has no body; send a JSON object, e.g. {"on": "2023-03-15", ...} as shown in /docs'
        if tuple(e.get("loc") or ()) == ("body",)
        else "is required but missing; add it (the example in /docs shows every field)"
    ),
    "extra_forbidden": lambda e: "is not a field of this request; remove it, or check its spelling against /docs",
    "uuid_parsing": lambda e: (
        f"{_shown(e.get('input'))} is not an id; ids are UUIDs as the ledger returns them, e.g. {EXAMPLE_ID}"
    ),
    "uuid_type": _wrong_type("an id", f'the id as a string, e.g. "{EXAMPLE_ID}"'),
    "uuid_version": lambda e: f"{_shown(e.get('input'))} is not an id the ledger gives; use one it returned",
    "string_pattern_mismatch": _pattern,
    "string_too_short": _too_short,
    "too_short": _too_short,
    "string_too_long": _too_long,
    "too_long": _too_long,
    "string_type": _wrong_type("text", 'it as a string in double quotes, e.g. "TRAVEL"'),
    "string_unicode": lambda e: "is not valid text; send UTF-8 text",
    "int_parsing": lambda e: f"{_shown(e.get('input'))} is not a whole number; write digits only, e.g. 1",
    "int_type": _wrong_type("a whole number", "digits only, e.g. 1"),
    "int_from_float": lambda e: f"{_shown(e.get('input'))} has a fraction; write a whole number, e.g. 1",
    "int_parsing_size": lambda e: "is far too large a number; write a whole number within range",
    "greater_than_equal": _bound,
    "greater_than": _bound,
    "less_than_equal": _bound,
    "less_than": _bound,
    "enum": lambda e: f"{_shown(e.get('input'))} is not allowed here; write one of {_ctx(e, 'expected')}",
    "literal_error": lambda e: f"{_shown(e.get('input'))} is not allowed here; write one of {_ctx(e, 'expected')}",
    "model_attributes_type": _wrong_type("an object", "a JSON object with the fields shown in /docs"),
    "model_type": _wrong_type("an object", "a JSON object with the fields shown in /docs"),
    "dict_type": _wrong_type("an object", 'a JSON object, e.g. {"FSTP": {"amount": "1000.00", "currency": "EUR"}}'),
    "list_type": _wrong_type("a list", 'a JSON list in square brackets, e.g. ["TRAVEL"]'),
    "bool_parsing": lambda e: f"{_shown(e.get('input'))} is not true or false; write true or false",
    "bool_type": _wrong_type("true or false", "true or false"),
    "value_error": lambda e: str(_ctx(e, "error") or e.get("msg", "")),
    "duplicate_key": lambda e: str(e.get("msg", "")),
}


def field_error(error: Error) -> dict[str, str]:
    """One field error of a 422: the field (``body.lines.0.amount``), what is wrong with it and
    what to write instead, and pydantic's error type (stable, for programs)."""
    location = error.get("loc") or ()
    if error.get("type") == "json_invalid":
        location = location[:1]
    say = _WORDS.get(str(error.get("type")))
    message = say(error) if say is not None else f"{error.get('msg', 'is invalid')}; see /docs for what to write"
    return {"field": ".".join(str(part) for part in location), "message": message, "type": str(error.get("type"))}


def field_errors(errors: Sequence[Error]) -> list[dict[str, str]]:
    return [field_error(error) for error in errors]
