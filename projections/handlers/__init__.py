"""How each event changes the read models: one small function per event type, grouped by area.

Handlers read and change rows through the ``Batch`` (projections/batch.py), which holds them
in memory and writes them when the projector's transaction ends. Importing this package
registers every handler in ``HANDLERS``; several modules may handle one event type (the
books and the search index), in the order imported here.
"""

from projections.handlers import books, budget, claims, close, documents, registry, search
from projections.handlers.common import HANDLERS

__all__ = ["HANDLERS", "books", "budget", "claims", "close", "documents", "registry", "search"]
