"""A command whose own numbers cannot be computed is refused as invalid input, never a crash."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation, localcontext

import pytest

from ledger.application import GrantLedger
from ledger.errors import InvalidInput


class TestArithmeticOnInputs:
    def test_a_decimal_result_past_any_precision_refuses_the_command(self, memory_app: GrantLedger) -> None:
        """decimal.InvalidOperation while deciding (a quotient too long to quantize to the cent,
        as a rate of 1e-61 gave) is InvalidInput saying what to check; nothing is saved."""
        before = memory_app.recorder.max_notification_id()

        def decide() -> tuple[None, list[object]]:
            with localcontext() as ctx:
                ctx.prec = 40
                (Decimal("1000000000") / Decimal("1e-61")).quantize(Decimal("0.01"))
            return None, []

        with pytest.raises(InvalidInput, match="too far out of range") as refused:
            memory_app._write(decide)  # type: ignore[arg-type]
        assert isinstance(refused.value.__context__, InvalidOperation)
        assert memory_app.recorder.max_notification_id() == before
