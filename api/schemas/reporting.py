"""Bodies of reporting to the EU: the periods with each partner's state, a partner's financial
statement, and the workflow steps (lock, sign, send back, submit)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import IsoDate, MoneyOut, Strict, Text
from ledger.money import Money, money_sum
from ledger.reporting import TITLES, Column

if TYPE_CHECKING:
    from api.reporting import FstpView, PeriodView, StatementRecord, StatementView, SummaryView

Reason = Annotated[str, Field(max_length=500, description="Why (recorded with the step)")]


class PeriodIn(Strict):
    start: IsoDate = Field(description="First day of the period")
    end: IsoDate = Field(description="Last day of the period")


class PeriodsSet(Strict):
    """The reporting periods, in order: consecutive, tiling the action period (numbered from 1)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "periods": [
                        {"start": "2021-09-01", "end": "2022-08-31"},
                        {"start": "2022-09-01", "end": "2023-08-31"},
                    ],
                    "reason": "months 1-12 and 13-24, as the grant agreement sets them",
                    "on": "2021-09-01",
                }
            ]
        },
    )
    periods: Annotated[list[PeriodIn], Field(min_length=1, max_length=100)]
    reason: Text
    on: IsoDate


class StatementStep(Strict):
    """Lock or sign a statement, or submit a period: its business date and, if wished, why."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"on": "2022-10-03", "reason": ""}]})
    on: IsoDate = Field(description="Business date of the step (after the period's end)")
    reason: Reason = ""


class SendBack(Strict):
    """Send a statement back to its partner: the reason is required."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"on": "2022-10-05", "reason": "travel costs of June are missing"}]},
    )
    on: IsoDate
    reason: Text


class StatementStatePublic(BaseModel):
    """Where one partner's statement for a period stands."""

    partner: str
    state: str = Field(description="draft, locked, signed or submitted")
    signer: str | None = None
    locked_by: str | None = None
    submitted_by: str | None = None
    reason: str = Field(description="The reason given at the last step ('' if none)")
    position: int | None = Field(None, description="Event position the statement was signed at")
    digest: str | None = Field(None, description="SHA-256 of the signed content")

    @classmethod
    def of(cls, record: StatementRecord) -> StatementStatePublic:
        return cls(
            partner=record.partner,
            state=record.state.value,
            signer=record.signer,
            locked_by=record.locked_by,
            submitted_by=record.submitted_by,
            reason=record.reason,
            position=record.position if record.signed else None,
            digest=record.digest if record.signed else None,
        )


class PeriodPublic(BaseModel):
    number: int
    start: date
    end: date
    submitted: bool = Field(description="Whether the coordinator submitted the period (it is closed)")
    statements: list[StatementStatePublic]

    @classmethod
    def of(cls, view: PeriodView) -> PeriodPublic:
        period = view.period
        return cls(
            number=period.number,
            start=period.start,
            end=period.end,
            submitted=view.submitted,
            statements=[StatementStatePublic.of(r) for r in view.records],
        )


class ColumnPublic(BaseModel):
    """One column of the EU form: its costs, funding rate and EU contribution."""

    column: str = Field(examples=["C.1"])
    title: str = Field(examples=["Travel and subsistence"])
    costs: MoneyOut
    funding_rate: str = Field(examples=["0.9"])
    contribution: MoneyOut


class AdjustmentPublic(BaseModel):
    """Costs of an earlier period recorded after it was submitted, declared in this statement."""

    period: int = Field(description="The earlier period the costs belong to")
    column: str
    amount: MoneyOut


class StatementPublic(BaseModel):
    """A partner's financial statement for a period: as signed once signed, else as recorded
    up to ``position``; ``seal`` is the chain's seal at that position."""

    partner: str
    period: int
    start: date
    end: date
    state: str
    signer: str | None
    reason: str
    position: int
    seal: str
    digest: str | None = Field(description="SHA-256 of the signed content; null until signed")
    columns: list[ColumnPublic]
    total: MoneyOut = Field(description="Total eligible costs")
    contribution: MoneyOut = Field(description="EU contribution at the funding rates, before the cap")
    requested: MoneyOut = Field(description="EU contribution requested")
    cumulative_requested: MoneyOut = Field(description="Requested in this and every earlier period")
    certificate_due: bool = Field(description="Whether a certificate on the financial statements is due")
    adjustments: list[AdjustmentPublic] = []

    @classmethod
    def of(cls, view: StatementView) -> StatementPublic:
        """The statement JSON: api.reporting's view, its figures as decimal strings."""
        statement, record, figures = view.statement, view.record, view.statement.figures
        return cls(
            partner=record.partner,
            period=statement.period.number,
            start=statement.period.start,
            end=statement.period.end,
            state=record.state.value,
            signer=record.signer,
            reason=record.reason,
            position=view.position,
            seal=view.seal,
            digest=record.digest if record.signed else None,
            columns=[
                ColumnPublic(
                    column=column.value,
                    title=TITLES[column],
                    costs=_eur(figures.costs[column]),
                    funding_rate=str(view.rates[column]),
                    contribution=_eur(figures.contribution_by_column[column]),
                )
                for column in Column
            ],
            total=_eur(figures.total),
            contribution=_eur(figures.contribution),
            requested=_eur(figures.requested),
            cumulative_requested=_eur(statement.cumulative_requested),
            certificate_due=statement.certificate_due,
            adjustments=[
                AdjustmentPublic(period=a.period, column=a.column.value, amount=_eur(a.amount))
                for a in view.adjustments
            ],
        )


def _eur(amount: Money) -> MoneyOut:
    return MoneyOut.of(amount.amount, "EUR")


class PartnerSummaryPublic(BaseModel):
    """One partner's line in the consortium summary."""

    partner: str
    state: str
    costs: dict[str, MoneyOut] = Field(description="Costs per column (A to E)")
    total: MoneyOut
    contribution: MoneyOut
    requested: MoneyOut
    digest: str | None = Field(description="The signed statement's digest; null until signed")


class SummaryPublic(BaseModel):
    """Every partner's statement of a period side by side, the totals and the EU cap, as recorded
    up to ``position`` (``seal``: the chain's seal there)."""

    period: int
    start: date
    end: date
    position: int
    seal: str
    partners: list[PartnerSummaryPublic]
    totals: dict[str, MoneyOut] = Field(description="Per column, the sum of every partner's costs")
    total_eligible: MoneyOut
    contribution: MoneyOut = Field(description="The partners' contributions, before the EU cap")
    eu_cap: MoneyOut
    requested_before: MoneyOut = Field(description="Requested in the periods before this one")
    requested: MoneyOut = Field(description="This period's request: at most what the EU cap leaves")
    cap_remaining: MoneyOut = Field(description="What remains of the EU cap after this period's request")

    @classmethod
    def of(cls, view: SummaryView) -> SummaryPublic:
        summary = view.summary
        states = {r.partner: r for r in view.records}
        return cls(
            period=summary.period.number,
            start=summary.period.start,
            end=summary.period.end,
            position=view.position,
            seal=view.seal,
            partners=[
                PartnerSummaryPublic(
                    partner=s.partner,
                    state=states[s.partner].state.value,
                    costs={column.value: _eur(s.figures.costs[column]) for column in Column},
                    total=_eur(s.figures.total),
                    contribution=_eur(s.figures.contribution),
                    requested=_eur(s.figures.requested),
                    digest=states[s.partner].digest if states[s.partner].signed else None,
                )
                for s in summary.statements
            ],
            totals={column.value: _eur(summary.totals[column]) for column in Column},
            total_eligible=_eur(summary.total_eligible),
            contribution=_eur(summary.contribution),
            eu_cap=_eur(summary.eu_cap),
            requested_before=_eur(summary.requested_before),
            requested=_eur(summary.requested),
            cap_remaining=_eur(summary.cap_remaining),
        )


class FstpRowPublic(BaseModel):
    """A third party (SME) supported in the period under one mission (the call)."""

    partner: str
    sme_id: str
    legal_name: str
    identifier: str
    country: str
    mission_code: str
    paid: MoneyOut = Field(description="Paid in the period, less reversals, by value date")
    cumulative: MoneyOut = Field(description="The SME's support up to the period's end, every mission")
    cap: MoneyOut
    cap_reached: bool


class FstpPublic(BaseModel):
    period: int
    start: date
    end: date
    position: int
    seal: str
    data: list[FstpRowPublic]
    count: int
    total: MoneyOut = Field(description="Paid in the period in all: column D.1 of the statements")

    @classmethod
    def of(cls, view: FstpView) -> FstpPublic:
        rows = [
            FstpRowPublic(
                partner=r.partner,
                sme_id=r.sme_id,
                legal_name=r.legal_name,
                identifier=r.identifier,
                country=r.country,
                mission_code=r.mission_code,
                paid=_eur(r.paid),
                cumulative=_eur(r.cumulative),
                cap=_eur(r.cap),
                cap_reached=r.cap_reached,
            )
            for r in view.rows
        ]
        return cls(
            period=view.period.number,
            start=view.period.start,
            end=view.period.end,
            position=view.position,
            seal=view.seal,
            data=rows,
            count=len(rows),
            total=_eur(money_sum([r.paid for r in view.rows])),
        )
