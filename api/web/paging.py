"""Paging of the web app's lists: the page ``?page=`` asks for, read as a person means it.

A page is a whole number from 1. Anything else (``abc``, ``-1``, ``0``) shows page 1, and a page
past the last shows the last; either way a notice above the list says what was asked and what
is shown ("page 'abc' is not a page number; showing page 1"), never silently. The answer is
still 200: the list is there, as the notice says. The notice is drawn by the ``page_notice``
macro (templates/_macros.html), inside the results, so an htmx swap of them shows it too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from ledger.text import is_whole_number

T = TypeVar("T")
#: Past this, a page is surely past the last: its offset is not asked of the database.
FAR = 10**9


@dataclass(frozen=True)
class Paged(Generic[T]):
    """One page of a list: its rows, how many match in all, the page shown, how many pages
    there are, and the notice to show when the page asked for was not that one."""

    rows: list[T]
    count: int
    number: int
    pages: int
    notice: str | None = None


def asked_page(text: str | None) -> tuple[int, str | None]:
    """The page ``text`` asks for (1 when none), and a notice when it names no page."""
    if text is None or text == "":
        return 1, None
    shown = text if len(text) <= 20 else text[:17] + "..."
    if not is_whole_number(text):
        return 1, f"page {shown!r} is not a page number (pages are numbered 1, 2, 3...); showing page 1"
    if int(text) < 1:
        return 1, f"there is no page {int(text)}: pages are numbered from 1; showing page 1"
    return int(text), None


def pages_of(count: int, size: int) -> int:
    return max(1, -(-count // size))


def paged(fetch: Callable[[int, int], tuple[Sequence[T], int]], text: str | None, size: int) -> Paged[T]:
    """The page ``text`` asks for of what ``fetch(offset, limit)`` lists (rows, count); past
    the last page, the last, with a notice saying so."""
    number, notice = asked_page(text)
    rows, count = fetch((min(number, FAR) - 1) * size, size)
    pages = pages_of(count, size)
    if number > pages:
        if count == 0:
            notice = f"there is no page {number:,}: nothing is listed; showing page 1"
        else:
            notice = f"there is no page {number:,}: the last is page {pages:,}, shown here"
        number = pages
        rows, count = fetch((number - 1) * size, size)
        pages = pages_of(count, size)
    return Paged(list(rows), count, number, pages, notice)
