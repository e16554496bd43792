"""Money helpers: exact `Decimal` amounts, gateway minor units, and display.

Rules (API.md, "Conventions"): money is computed with `Decimal`, never float;
amounts have two decimal places, rounded half-up; JSON carries them as strings
with exactly two decimals (`"19.99"`); gateways (Stripe) take integer minor
units of the currency (cents for `usd`).

SQLite stores NUMERIC with float affinity (Piccolo writes a float and reads the
text back into a `Decimal`), so every amount read from the database goes
through `money()` before it is used or summed.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, PlainSerializer

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

#: Currencies Stripe treats as having no minor unit (amount 500 = 500 yen).
#: Source: https://docs.stripe.com/currencies#zero-decimal
ZERO_DECIMAL_CURRENCIES = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)
#: Currencies with three decimal places (Stripe: the last digit must be 0).
#: Source: https://docs.stripe.com/currencies#three-decimal
THREE_DECIMAL_CURRENCIES = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})


def money(value: Decimal | str | int | float) -> Decimal:
    """`value` as a Decimal with exactly two places, rounded half-up.

    Floats (SQLite's NUMERIC) are converted through their shortest repr, so
    `7.77` stays `Decimal("7.77")`. Raises ValueError for text that is not a number
    or for NaN/infinity.
    """
    try:
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not an amount of money: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount of money: {value!r}")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def total(amounts: list[Decimal] | tuple[Decimal, ...]) -> Decimal:
    """Exact sum of amounts, each normalised with `money()` first; `0.00` when empty."""
    return money(sum((money(a) for a in amounts), ZERO))


def minor_unit_exponent(currency: str) -> int:
    """Decimal places of the currency's minor unit for the gateway: 0, 2 or 3."""
    code = currency.lower()
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Integer minor units for a gateway: `Decimal("26.05"), "usd"` -> `2605`.

    The amount is first normalised to two places (`money()`); zero-decimal
    currencies round half-up to whole units. Raises ValueError for a
    non-finite amount.
    """
    exponent = minor_unit_exponent(currency)
    value = money(amount)
    if exponent == 0:
        return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return int((value * (Decimal(10) ** exponent)).to_integral_value(rounding=ROUND_HALF_UP))


def from_minor_units(units: int, currency: str) -> Decimal:
    """The inverse of `to_minor_units`: `2605, "usd"` -> `Decimal("26.05")`."""
    exponent = minor_unit_exponent(currency)
    return money(Decimal(units).scaleb(-exponent))


def format_amount(amount: Decimal) -> str:
    """The JSON form: exactly two decimals, no currency (`"19.99"`)."""
    return f"{money(amount):.2f}"


def format_money(amount: Decimal, currency: str) -> str:
    """A display form for people and the CLI: `"19.99 USD"`."""
    return f"{format_amount(amount)} {currency.upper()}"


#: A pydantic field type for money: validated to two places, serialised to
#: JSON as a string with exactly two decimals (`"19.99"`).
Money = Annotated[
    Decimal,
    AfterValidator(money),
    PlainSerializer(format_amount, return_type=str, when_used="json"),
]
