"""Read side: SQL read models fed by the ledger's events (built in the read-side issue)."""
