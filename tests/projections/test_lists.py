"""Lists of exchange rates, own costs, payments, budget transfers and SMEs: each filter, paging
and the order (newest first), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Connection

from ledger.errors import InvalidInput
from projections import lists
from tests.projections.findable import Findable, projected


@pytest.fixture
def books(store_url: str) -> Iterator[tuple[Connection, Findable]]:
    with projected(store_url) as (_app, db, found), db.reading() as conn:
        yield conn, found


def ids(rows: list[object]) -> list[str]:
    return [row.id for row in rows]  # type: ignore[attr-defined]


class TestRates:
    def test_latest_month_first_then_currency(self, books: tuple[Connection, Findable]) -> None:
        """Every rate, the latest month first; within a month by currency."""
        conn, _ = books
        rows, count = lists.list_rates(conn)
        assert count == 4
        assert [(r.currency, r.month) for r in rows] == [
            ("JPY", "2023-03"),
            ("USD", "2023-03"),
            ("JPY", "2023-02"),
            ("JPY", "2023-01"),
        ]

    def test_currency_and_months_filter(self, books: tuple[Connection, Findable]) -> None:
        """A currency and an inclusive range of months."""
        conn, _ = books
        rows, count = lists.list_rates(conn, lists.RateFilter(currency="JPY", month_from="2023-02", month_to="2023-03"))
        assert (count, [r.month for r in rows]) == (2, ["2023-03", "2023-02"])
        rows, count = lists.list_rates(conn, lists.RateFilter(month_to="2023-01"))
        assert (count, [r.month for r in rows]) == (1, ["2023-01"])

    def test_paging_counts_every_match(self, books: tuple[Connection, Findable]) -> None:
        """A page of two after the first one; the count is of every match, pages never overlap."""
        conn, _ = books
        first, count = lists.list_rates(conn, limit=2)
        second, again = lists.list_rates(conn, offset=2, limit=2)
        assert count == again == 4
        assert [r.month for r in second] == ["2023-02", "2023-01"]
        assert not {r.id for r in first} & {r.id for r in second}

    def test_a_quote_is_the_recorded_rate_of_the_month_or_none(self, books: tuple[Connection, Findable]) -> None:
        """The quote a conversion would use (rate, month, source); a month without one is None."""
        conn, _ = books
        quote = lists.rate_quote(conn, "JPY", "2023-03")
        assert quote is not None
        expected = ("JPY", "2023-03", Decimal("144.83"), "InforEuro")
        assert (quote.currency, quote.month, quote.rate, quote.source) == expected
        assert lists.rate_quote(conn, "JPY", "2023-04") is None
        assert lists.rate_quote(conn, "CAD", "2023-03") is None

    def test_months_out_of_order_are_refused(self) -> None:
        """From a month after the last one asked for: say so (a 422), not an empty page."""
        with pytest.raises(InvalidInput, match="the first is after the last"):
            lists.RateFilter(month_from="2023-04", month_to="2023-01")


class TestCosts:
    def test_latest_cost_date_first(self, books: tuple[Connection, Findable]) -> None:
        conn, found = books
        rows, count = lists.list_costs(conn)
        assert count == 3
        assert ids(rows) == [str(found.costs[k]) for k in ("ntt-equipment", "ntt-travel", "pointex-travel")]

    def test_partner_category_and_dates(self, books: tuple[Connection, Findable]) -> None:
        """Each filter alone and together; dates are inclusive."""
        conn, found = books
        by_partner, count = lists.list_costs(conn, lists.CostFilter(partner="NTT"))
        assert count == 2
        assert {r.partner for r in by_partner} == {"NTT"}
        travel, count = lists.list_costs(conn, lists.CostFilter(category="TRAVEL"))
        assert ids(travel) == [str(found.costs["ntt-travel"]), str(found.costs["pointex-travel"])]
        ntt_travel, _ = lists.list_costs(conn, lists.CostFilter(partner="NTT", category="TRAVEL"))
        assert ids(ntt_travel) == [str(found.costs["ntt-travel"])]
        dated, count = lists.list_costs(conn, lists.CostFilter(start=date(2023, 2, 3), end=date(2023, 3, 8)))
        assert ids(dated) == [str(found.costs["ntt-travel"])]
        assert count == 1

    def test_paging(self, books: tuple[Connection, Findable]) -> None:
        conn, found = books
        rows, count = lists.list_costs(conn, offset=1, limit=1)
        assert (count, ids(rows)) == (3, [str(found.costs["ntt-travel"])])


class TestPayments:
    def test_latest_value_date_first_with_the_sme(self, books: tuple[Connection, Findable]) -> None:
        """Both payments, the later value date first, each with the SME its claim names."""
        conn, found = books
        rows, count = lists.list_payments(conn)
        assert count == 2
        assert ids(rows) == [str(found.payments["reversed"]), str(found.payments["paid"])]
        assert rows[0].sme_id == str(found.smes["ferro"])

    def test_each_filter(self, books: tuple[Connection, Findable]) -> None:
        """By partner, claim, SME, reversal and value dates."""
        conn, found = books
        paid, reversed_ = str(found.payments["paid"]), str(found.payments["reversed"])
        cases = [
            (lists.PaymentFilter(partner="POINTEX"), [reversed_, paid]),
            (lists.PaymentFilter(partner="NTT"), []),
            (lists.PaymentFilter(claim_id=str(found.claims["paid"])), [paid]),
            (lists.PaymentFilter(sme_id=str(found.smes["ferro"])), [reversed_]),
            (lists.PaymentFilter(reversed=True), [reversed_]),
            (lists.PaymentFilter(reversed=False), [paid]),
            (lists.PaymentFilter(start=date(2023, 4, 21)), [reversed_]),
            (lists.PaymentFilter(end=date(2023, 4, 20)), [paid]),
        ]
        for where, expected in cases:
            rows, count = lists.list_payments(conn, where)
            assert (ids(rows), count) == (expected, len(expected)), where

    def test_paging(self, books: tuple[Connection, Findable]) -> None:
        conn, found = books
        rows, count = lists.list_payments(conn, offset=1, limit=5)
        assert (count, ids(rows)) == (2, [str(found.payments["paid"])])


class TestTransfers:
    def test_latest_first_with_the_decision(self, books: tuple[Connection, Findable]) -> None:
        """Each transfer with the consortium decision that made it, the latest first."""
        conn, found = books
        rows, count = lists.list_transfers(conn)
        assert count == 2
        assert ids(rows) == [str(found.transfers["late"]), str(found.transfers["early"])]
        assert (rows[0].decision_ref, rows[0].reason) == ("SC-2023-01", "steering committee SC-2023-01")
        assert (rows[0].from_partner, rows[0].to_partner, str(rows[0].amount)) == ("SIIT", "POINTEX", "1200.00")

    def test_partner_or_category_on_either_side(self, books: tuple[Connection, Findable]) -> None:
        conn, found = books
        early, late = str(found.transfers["early"]), str(found.transfers["late"])
        cases = [
            (lists.TransferFilter(partner="SIIT"), [late]),  # the source
            (lists.TransferFilter(partner="POINTEX"), [late]),  # the target
            (lists.TransferFilter(category="FSTP"), [late, early]),
            (lists.TransferFilter(category="PERSONNEL"), [early]),
            (lists.TransferFilter(partner="NIDV", category="TRAVEL"), []),
            (lists.TransferFilter(start=date(2023, 1, 1)), [late]),
            (lists.TransferFilter(end=date(2022, 11, 15)), [early]),
        ]
        for where, expected in cases:
            rows, count = lists.list_transfers(conn, where)
            assert (ids(rows), count) == (expected, len(expected)), where

    def test_paging(self, books: tuple[Connection, Findable]) -> None:
        conn, found = books
        rows, count = lists.list_transfers(conn, limit=1)
        assert (count, ids(rows)) == (2, [str(found.transfers["late"])])


class TestSmes:
    def test_by_legal_name_in_order(self, books: tuple[Connection, Findable]) -> None:
        conn, _ = books
        found, count = lists.list_smes(conn)
        assert count == 3
        assert [s.legal_name for s in found] == [
            "Crème Légère Textiles SAS",
            "Ferrari Tessuti S.p.A.",
            "Ferrovia Compositi S.r.l.",
        ]

    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("ferr", ["ferrari", "ferro"]),
            ("FERRARI", ["ferrari"]),
            ("rari tess", ["ferrari"]),  # a substring across words
            ("creme legere", ["creme"]),  # without accents
            ("CRÈME", ["creme"]),  # with them, in capitals
            ("s.p.a.", ["ferrari"]),
            ("zzz", []),
        ],
    )
    def test_name_in_any_case_and_accents(
        self, books: tuple[Connection, Findable], name: str, expected: list[str]
    ) -> None:
        conn, found = books
        rows, count = lists.list_smes(conn, lists.SmeFilter(name=name))
        assert ([s.id for s in rows], count) == ([str(found.smes[k]) for k in expected], len(expected))

    def test_country_mission_and_paging(self, books: tuple[Connection, Findable]) -> None:
        conn, found = books
        french, count = lists.list_smes(conn, lists.SmeFilter(country="FR"))
        assert ([s.id for s in french], count) == ([str(found.smes["creme"])], 1)
        selected, count = lists.list_smes(conn, lists.SmeFilter(mission_id=str(found.mission)))
        assert ({s.id for s in selected}, count) == ({str(i) for i in found.smes.values()}, 3)
        assert lists.list_smes(conn, lists.SmeFilter(mission_id="no-such-mission")) == ([], 0)
        second, count = lists.list_smes(conn, offset=1, limit=1)
        assert ([s.id for s in second], count) == ([str(found.smes["ferrari"])], 3)

    def test_a_name_without_letters_is_refused(self, books: tuple[Connection, Findable]) -> None:
        """A name of punctuation would match every SME: it is refused instead."""
        conn, _ = books
        with pytest.raises(InvalidInput, match="no letter or digit"):
            lists.list_smes(conn, lists.SmeFilter(name="%_%"))
