"""Small helpers for messages a person reads: the right article before a word, lists in prose."""

from __future__ import annotations

from collections.abc import Iterable


def article(word: str) -> str:
    """``word`` with "a" or "an" before it, as it is said: an officer, an approved claim, a
    coordinator (by its first letter: the words the ledger names begin with their sound)."""
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def any_of(words: Iterable[str]) -> str:
    """Each word with its article, joined by "or": "an officer or a coordinator"."""
    return " or ".join(article(word) for word in words)
