"""The EU grant budget and reimbursement ledger: domain and use cases (no HTTP, no SQL)."""
