"""Importing monthly rates from a file: every row read with the ledger's own parsing, each bad
row with its problems, and the rates recorded all at once or not at all (record_rates)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.application import GrantLedger
from ledger.errors import InvalidInput, NotAllowed
from ledger.rate_file import NewRate, RateCheck, RateFileError, decoded, read_rate_file
from tests.builders import AUDITOR, COORDINATOR

USD = NewRate("USD", "2023-07", Decimal("1.0913"), "InforEuro")
JPY = NewRate("JPY", "2023-07", Decimal("155.12"), "InforEuro")


class TestReadingAFile:
    def test_good_rows_give_their_rates(self) -> None:
        """Any case of currency and header, a source or InforEuro, blank lines skipped."""
        read = read_rate_file("Currency,Month,Rate,Source\nusd,2023-07,1.0913,\n\nJPY, 2023-07 ,155.12,ECB\n")
        assert read.ok
        assert read.rates == (USD, NewRate("JPY", "2023-07", Decimal("155.12"), "ECB"))
        assert [row.line for row in read.rows] == [2, 4]

    def test_every_bad_row_is_named_with_all_its_problems(self) -> None:
        """Each row says each of its problems in the ledger's words; the good rows still read."""
        read = read_rate_file(
            "currency,month,rate\n"
            "USD,2023-07,1.0913\n"
            "XYZ,2023-13,1.5\n"
            "CAD,2023-07,0.00001\n"
            "EUR,2023-07,1\n"
            "JPY,2023-07,1.2.3,extra\n"
        )
        assert not read.ok
        assert [row.line for row in read.bad] == [3, 4, 5, 6]
        problems = {row.line: row.problem for row in read.bad}
        assert "currency 'XYZ' is not supported" in (problems[3] or "")
        assert "month '2023-13' must be written YYYY-MM" in (problems[3] or "")
        assert "the rate 0.00001 is implausible" in (problems[4] or "")
        assert problems[5] == "EUR needs no exchange rate: it converts to itself at 1"
        assert "4 cells under a header of 3 columns" in (problems[6] or "")
        assert "the rate: '1.2.3'" in (problems[6] or "")
        padded = read_rate_file("currency,month,rate\nUSD,2023-07, 1.1\n").bad
        assert "has spaces around it" in (padded[0].problem or ""), "a rate is read as the API reads one"
        assert read.rates == (USD,)

    @pytest.mark.parametrize(
        ("text", "says"),
        [
            ("", "the file is empty"),
            ("currency,rate\nUSD,1.1\n", "line 1: the header has no month column"),
            ("currency,month,rate,note\n", "line 1: the header has the unknown column 'note'"),
            ("currency,month,rate\n", "the file has a header but no rates"),
        ],
    )
    def test_a_file_that_is_not_a_rates_file_is_one_problem(self, text: str, says: str) -> None:
        read = read_rate_file(text)
        assert read.problem is not None
        assert says in read.problem
        assert not read.ok

    def test_too_many_rows_is_refused(self) -> None:
        text = "currency,month,rate\n" + "USD,2023-07,1.1\n" * 4
        assert read_rate_file(text, max_rows=4).problem is None
        assert read_rate_file(text + "USD,2023-08,1.1\n", max_rows=4).problem == (
            "the file has more than 4 rates; import at most 4 at once"
        )

    def test_bytes_that_are_not_utf8_name_their_line(self) -> None:
        assert decoded("\ufeffcurrency,month,rate\n".encode()) == "currency,month,rate\n"
        with pytest.raises(RateFileError, match="line 2: byte 0xff is not UTF-8"):
            decoded(b"currency,month,rate\nUSD,2023-07,\xff\n")

    def test_the_ledgers_checks_are_added_by_line(self) -> None:
        read = read_rate_file("currency,month,rate\nUSD,2023-07,1.0913\nJPY,2023-07,155.12\n")
        checked = read.checked({2: RateCheck("recorded already"), 3: RateCheck(already=True)})
        assert [(row.problem, row.already) for row in checked.rows] == [("recorded already", False), (None, True)]


class TestRecordingRates:
    def test_all_rates_are_recorded_in_one_save(self, app: GrantLedger) -> None:
        """Two rates, one save: both events at once; repeated, nothing new is recorded."""
        before = app.recorder.max_notification_id() or 0
        ids = app.record_rates(actor=COORDINATOR, rates=[USD, JPY])
        assert len(ids) == 2
        assert app.recorder.max_notification_id() == before + 2
        assert app.quote("JPY", "2023-07").rate == Decimal("155.12")
        assert app.record_rates(actor=COORDINATOR, rates=[USD, JPY]) == ()
        assert app.recorder.max_notification_id() == before + 2

    def test_one_refused_rate_records_none(self, app: GrantLedger) -> None:
        """A rate recorded already with another value, a currency and month twice, a month too
        far ahead: each named, and not even the good rates are recorded."""
        app.record_rate(actor=COORDINATOR, currency="USD", month="2023-07", rate=Decimal("1.09"))
        before = app.recorder.max_notification_id()
        rates = [JPY, USD, JPY, NewRate("CAD", "9999-01", Decimal("1.4"), "InforEuro")]
        checks = app.check_rates(actor=COORDINATOR, rates=rates)
        assert checks[0] == RateCheck()
        assert "already recorded as 1.09 (InforEuro), the import says 1.0913" in (checks[1].problem or "")
        assert "given twice (also as rate 1 of this import)" in (checks[2].problem or "")
        assert "the rate month 9999-01 is in the future" in (checks[3].problem or "")
        with pytest.raises(InvalidInput, match=r"rate 2 \(USD 2023-07\): .*; nothing was recorded"):
            app.record_rates(actor=COORDINATOR, rates=rates)
        assert app.recorder.max_notification_id() == before

    def test_an_auditor_neither_checks_nor_records_rates(self, app: GrantLedger) -> None:
        with pytest.raises(NotAllowed):
            app.check_rates(actor=AUDITOR, rates=[USD])
        with pytest.raises(NotAllowed):
            app.record_rates(actor=AUDITOR, rates=[USD])

    def test_an_empty_import_is_refused(self, app: GrantLedger) -> None:
        with pytest.raises(InvalidInput, match="at least one rate"):
            app.record_rates(actor=COORDINATOR, rates=[])
