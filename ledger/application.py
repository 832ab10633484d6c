"""The ledger's use cases: one method per command, each taking the acting user.

``GrantLedger`` assembles them by area (ledger/usecases/): the grant and its budget, missions
and SMEs, claims and payments, exchange rates and own costs, corrections of records, reporting,
on the shared plumbing of ``ledger.usecases.core`` (atomic saves with optimistic concurrency and bounded retries).
A refused command raises a LedgerError and records nothing.

Commands that create something accept a client-chosen id: the same id with the same
content records nothing and returns the same id; with different content it is refused.
"""

from __future__ import annotations

from ledger.usecases.budget import BudgetCases
from ledger.usecases.claims import ClaimCases
from ledger.usecases.core import INDIRECT_RATE, MAX_ATTEMPTS, SME_SUPPORT_CAP
from ledger.usecases.corrections import CorrectionCases
from ledger.usecases.costs import CostCases
from ledger.usecases.missions import MissionCases
from ledger.usecases.payments import PaymentCases
from ledger.usecases.reporting import ReportingCases

__all__ = ["INDIRECT_RATE", "MAX_ATTEMPTS", "SME_SUPPORT_CAP", "GrantLedger"]


class GrantLedger(BudgetCases, MissionCases, ClaimCases, PaymentCases, CostCases, CorrectionCases, ReportingCases):
    """The EU grant budget and reimbursement ledger."""
