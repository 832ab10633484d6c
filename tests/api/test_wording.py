"""The words of a 422 a person meets by mistake: what was wrong and what to write instead,
never a type name, a 64-bit bound or a claim that a read recorded nothing."""

from __future__ import annotations

from tests.api.conftest import Alliance, Api


def detail_of(response: object) -> str:
    body = response.json()  # type: ignore[attr-defined]
    assert response.status_code == 422, body  # type: ignore[attr-defined]
    return str(body)


class TestWording:
    def test_a_read_is_not_answered_and_a_write_not_recorded(self, api: Api, alliance: Alliance) -> None:
        """A refused read says it was not answered (a read records nothing anyway)."""
        read = detail_of(api.get("/claims", api.tokens.auditor, offset="-1"))
        assert "the request was not answered" in read
        write = detail_of(api.post("/exchange-rates", {"currency": "JPY"}, api.tokens.pointex))
        assert "the request was not recorded" in write

    def test_a_huge_offset_asks_for_a_smaller_number(self, api: Api, alliance: Alliance) -> None:
        detail = detail_of(api.get("/claims", api.tokens.auditor, offset="99999999999999999999"))
        assert "9223372036854775807" not in detail
        assert "is far out of range; write a smaller whole number" in detail

    def test_an_amount_that_is_null_or_an_object_says_to_write_a_decimal_string(
        self, api: Api, alliance: Alliance
    ) -> None:
        amounts: tuple[object, ...] = (None, {}, ["5"])
        for amount in amounts:
            body = {"currency": "JPY", "month": "2023-05", "rate": amount}
            detail = detail_of(api.post("/exchange-rates", body, api.tokens.pointex))
            assert "never JSON numbers" not in detail, amount
            assert "write the amount or rate as a decimal string in double quotes" in detail, detail

    def test_a_form_body_is_told_to_send_json(self, api: Api, alliance: Alliance) -> None:
        response = api.client.post(
            "/api/v1/exchange-rates",
            content=b"currency=JPY&month=2023-05&rate=150",
            headers={
                "Authorization": f"Bearer {api.tokens.pointex}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        detail = detail_of(response)
        assert "is bytes" not in detail
        assert "application/json" in detail
