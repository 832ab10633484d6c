"""Entrypoints: the command line (and, later, the HTTP service) over the ledger."""
