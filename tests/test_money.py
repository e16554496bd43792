"""`cinema.money`: exact amounts, half-up rounding, minor units, JSON form."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import BaseModel

from cinema.money import (
    Money,
    format_amount,
    format_money,
    from_minor_units,
    money,
    to_minor_units,
    total,
)


def test_money_rounds_half_up_to_cents() -> None:
    assert money("1.005") == Decimal("1.01")
    assert money("1.004") == Decimal("1.00")
    assert money("-1.005") == Decimal("-1.01")
    assert money(3) == Decimal("3.00")
    assert str(money("26.050")) == "26.05"


def test_money_from_float_uses_shortest_repr() -> None:
    # SQLite hands NUMERIC back through a float: 7.77 must stay 7.77, not 7.769999...
    assert money(7.77) == Decimal("7.77")
    assert money(0.1 + 0.2) == Decimal("0.30")
    assert money(26.05) == Decimal("26.05")


@pytest.mark.parametrize("bad", ["abc", "", "NaN", "Infinity"])
def test_money_refuses_non_numbers(bad: str) -> None:
    with pytest.raises(ValueError, match="not an amount"):
        money(bad)


def test_total_is_exact() -> None:
    assert total([Decimal("7.77"), Decimal("17.99"), Decimal("0.29")]) == Decimal("26.05")
    assert sum([7.77, 17.99, 0.29]) != 26.05  # what floats would have done
    assert total([]) == Decimal("0.00")
    assert total([Decimal("0.10")] * 3) == Decimal("0.30")


def test_minor_units() -> None:
    assert to_minor_units(Decimal("26.05"), "usd") == 2605
    assert to_minor_units(Decimal("26.05"), "USD") == 2605
    assert to_minor_units(Decimal("0.29"), "eur") == 29
    assert to_minor_units(Decimal("1.005"), "usd") == 101
    assert to_minor_units(Decimal("500"), "jpy") == 500
    assert to_minor_units(Decimal("500.50"), "jpy") == 501
    assert to_minor_units(Decimal("1.25"), "kwd") == 1250
    assert from_minor_units(2605, "usd") == Decimal("26.05")
    assert from_minor_units(500, "jpy") == Decimal("500.00")
    for cents in (0, 1, 99, 2605, 123456789):
        assert to_minor_units(from_minor_units(cents, "usd"), "usd") == cents


def test_formatting_and_json() -> None:
    assert format_amount(Decimal("19.9")) == "19.90"
    assert format_money(Decimal("26.05"), "usd") == "26.05 USD"

    class Priced(BaseModel):
        price: Money

    assert Priced(price=Decimal("26.050")).model_dump_json() == '{"price":"26.05"}'
    assert Priced(price=Decimal("0")).model_dump(mode="json") == {"price": "0.00"}
    assert Priced(price=Decimal("1.005")).price == Decimal("1.01")
    assert Priced.model_validate_json('{"price": "7.77"}').price == Decimal("7.77")
