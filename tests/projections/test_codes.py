"""The resolvers that need no records: claim states, currencies and cost categories in any
case, refused naming the valid ones (the record resolvers: tests/api/test_codes.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from projections.codes import UnknownCode, category_code, claim_state, currency_code


class TestCodesWithoutRecords:
    @pytest.mark.parametrize(
        ("resolve", "typed", "canonical"),
        [
            (claim_state, "APPROVED", "approved"),
            (claim_state, " Withdrawn ", "withdrawn"),
            (currency_code, "jpy", "JPY"),
            (currency_code, "Eur", "EUR"),
            (category_code, "fstp", "FSTP"),
            (category_code, "other_goods_services", "OTHER_GOODS_SERVICES"),
        ],
    )
    def test_any_case_gives_the_canonical_form(self, resolve: Callable[[str], str], typed: str, canonical: str) -> None:
        """Spaces around and the case of what is typed do not matter."""
        assert resolve(typed) == canonical

    @pytest.mark.parametrize(
        ("resolve", "typed", "says"),
        [
            (claim_state, "aproved", "the states are submitted, approved, partly_paid, paid, rejected, withdrawn"),
            (
                currency_code,
                "XYZ",
                "use one of CAD, CHF, CZK, DKK, EUR, GBP, HUF, IDR, JPY, KRW, NOK, PLN, RON, SEK, USD",
            ),
            (category_code, "SNACKS", "the categories are PERSONNEL, SUBCONTRACTING, TRAVEL, EQUIPMENT"),
            (currency_code, "ＪＰＹ", "'ＪＰＹ' is not one the ledger accepts"),
        ],
    )
    def test_an_unknown_code_names_the_valid_ones(self, resolve: Callable[[str], str], typed: str, says: str) -> None:
        """An unknown code (full-width letters are not the code either) is refused with the list."""
        with pytest.raises(UnknownCode) as refused:
            resolve(typed)
        assert says in refused.value.detail
