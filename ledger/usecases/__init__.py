"""The ledger's use cases by area; ``ledger.application.GrantLedger`` assembles them."""
