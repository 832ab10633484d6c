"""The approval's figures (ledger.approval) and the estimate of a claim being typed
(ledger.assessment.estimate): pure functions, the rule written once for the approval, its
preview and the live EUR estimate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledger.approval import Binding, Caps, approval_of
from ledger.assessment import ConvertedLine, ExpenseLine, LineDecision, MissingRate, assess, estimate
from ledger.errors import InvalidInput, Refused
from ledger.money import Money
from ledger.rates import Quote, RateMissing
from ledger.sme import SmeCapReached

JPY_MARCH = Quote("JPY", "2023-03", Decimal("144.83"), "InforEuro")
RATE = Decimal("0.70")


def quote_for(currency: str, month: str) -> Quote:
    if (currency, month) == ("JPY", "2023-03"):
        return JPY_MARCH
    raise RateMissing(f"no {currency} exchange rate is recorded for {month}")


def line(amount: str, currency: str, day: date = date(2023, 3, 14), receipt: str = "R-1") -> ExpenseLine:
    return ExpenseLine("TRAVEL", day, Money.of(amount, currency), receipt, "")


#: JPY 144,830 at 144.83 is EUR 1,000.00; with EUR 1,250.50: EUR 2,250.50, 70% is EUR 1,575.35.
LINES = (line("144830", "JPY"), line("1250.50", "EUR", receipt="R-2"))


def caps(on_mission: str = "0.00", overall: str = "0.00", mission_cap: str = "2000.00") -> Caps:
    return Caps("JPN-2023", Money.eur(mission_cap), Money.eur(on_mission), Money.eur("60000.00"), Money.eur(overall))


class TestApprovalOf:
    def test_no_cap_binds_the_reimbursement_is_approved(self) -> None:
        """Below both caps: approved is the mission rate times the EUR costs, no cap binds."""
        figures = approval_of(LINES, (), quote_for, RATE, caps(), "Tessuti")
        assert figures.approved == Money.eur("1575.35")
        assert (figures.binding, figures.capped_by) == (Binding.NONE, "")
        assert [c.eur for c in figures.assessment.lines] == [Money.eur("1000.00"), Money.eur("1250.50")]

    def test_a_partial_decision_lowers_that_line_only(self) -> None:
        """Half the JPY line accepted (with a reason): EUR 500.00 + 1,250.50, 70% = 1,225.35."""
        decisions = [LineDecision(1, Money.of("72415", "JPY"), "recoverable VAT")]
        figures = approval_of(LINES, decisions, quote_for, RATE, caps(), "Tessuti")
        assert figures.assessment.lines[0].eur == Money.eur("500.00")
        assert figures.assessment.lines[0].reason == "recoverable VAT"
        assert figures.approved == Money.eur("1225.35")

    def test_the_mission_cap_binds(self) -> None:
        """EUR 1,000.00 already approved on the mission: only EUR 1,000.00 of 1,575.35 remains."""
        figures = approval_of(LINES, (), quote_for, RATE, caps(on_mission="1000.00"), "Tessuti")
        assert figures.approved == Money.eur("1000.00")
        assert figures.binding == Binding.MISSION
        assert figures.capped_by == "cap per SME of mission JPN-2023 (EUR 2,000.00)"
        assert figures.assessment.reimbursement == Money.eur("1575.35")

    def test_the_overall_cap_binds_below_the_mission_cap(self) -> None:
        """EUR 59,500.00 already approved over the grant: the overall cap binds at EUR 500.00."""
        figures = approval_of(LINES, (), quote_for, RATE, caps(overall="59500.00"), "Tessuti")
        assert (figures.approved, figures.binding) == (Money.eur("500.00"), Binding.OVERALL)
        assert figures.capped_by == "cap per SME over the grant (EUR 60,000.00)"

    def test_a_cap_reached_is_refused(self) -> None:
        """Nothing left of the mission cap: refused, naming the SME and the cap."""
        with pytest.raises(SmeCapReached, match="Tessuti has already reached the cap per SME of mission JPN-2023"):
            approval_of(LINES, (), quote_for, RATE, caps(on_mission="2000.00"), "Tessuti")

    def test_nothing_accepted_is_refused(self) -> None:
        decisions = [LineDecision(1, Money.of("0", "JPY"), "no receipt"), LineDecision(2, Money.eur("0"), "no")]
        with pytest.raises(Refused, match="nothing is accepted on any line"):
            approval_of(LINES, decisions, quote_for, RATE, caps(), "Tessuti")

    def test_invalid_decisions_are_refused_naming_the_line(self) -> None:
        with pytest.raises(InvalidInput, match=r"line 2: accepting EUR 1\.00 of the claimed EUR 1,250\.50 needs"):
            approval_of(LINES, [LineDecision(2, Money.eur("1.00"), "")], quote_for, RATE, caps(), "Tessuti")


class TestEstimate:
    def test_each_line_and_the_total_as_the_assessment_gives_them(self) -> None:
        """Per line the rate used and its EUR value; the total is exactly assess()'s."""
        found = estimate(dict(enumerate(LINES, start=1)), lambda c, m: JPY_MARCH if c == "JPY" else None, RATE)
        first = found.lines[0]
        assert isinstance(first, ConvertedLine)
        assert (first.rate, first.rate_month, first.rate_source, first.eur) == (
            Decimal("144.83"),
            "2023-03",
            "InforEuro",
            Money.eur("1000.00"),
        )
        assert found.total == assess(LINES, {}, quote_for, RATE)
        assert found.missing == ()

    def test_rounding_is_per_line_half_up(self) -> None:
        """JPY 1 at 144.83 is EUR 0.0069..., 0.01 each; two lines give 0.02, not 0.01."""
        lines = {1: line("1", "JPY"), 2: line("1", "JPY", receipt="R-2")}
        found = estimate(lines, lambda c, m: JPY_MARCH, RATE)
        assert found.total is not None
        assert found.total.eligible_eur == Money.eur("0.02")

    def test_a_missing_rate_names_its_currency_and_month_and_there_is_no_total(self) -> None:
        """A JPY line of April 2023 with no April rate: that line says so; no total is guessed."""
        lines = {1: LINES[0], 3: line("20000", "JPY", date(2023, 4, 2), "R-3"), 4: line("1", "JPY", date(2023, 4, 3))}
        found = estimate(lines, lambda c, m: JPY_MARCH if m == "2023-03" else None, RATE)
        assert isinstance(found.lines[0], ConvertedLine)
        assert found.lines[1] == MissingRate(3, "JPY", "2023-04")
        assert found.missing == (MissingRate(3, "JPY", "2023-04"),), "one per currency and month"
        assert found.total is None

    def test_no_line_no_total(self) -> None:
        assert estimate({}, lambda c, m: None, RATE).total is None
