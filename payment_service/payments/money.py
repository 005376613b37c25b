"""Amounts as integer minor units with an ISO 4217 currency, and their decimal strings.

The database and the provider see minor units (cents, yen); the API shows a decimal string with
the currency's own number of decimals (``"12.50"`` EUR, ``"1500"`` JPY). The event catalogue's
``MONEY`` has exactly two decimals whatever the currency, so events use ``to_event_amount``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from common.money import currency_exponent


class InvalidAmountError(ValueError):
    pass


def to_minor(amount: str | Decimal, currency: str) -> int:
    """``"12.50"`` EUR → 1250; refuses what the currency cannot hold (``"1500.50"`` JPY) and negatives."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise InvalidAmountError(f"{amount!r} is not a decimal amount") from None
    if not value.is_finite() or value < 0:
        raise InvalidAmountError(f"{amount!r} is not a non-negative amount")
    minor = value.scaleb(currency_exponent(currency))
    if minor != minor.to_integral_value():
        raise InvalidAmountError(f"{amount} has more decimals than {currency} allows")
    return int(minor)


def to_decimal_string(amount_minor: int, currency: str) -> str:
    """1250 EUR → ``"12.50"``; 1500 JPY → ``"1500"``; 12345 KWD → ``"12.345"``."""
    exponent = currency_exponent(currency)
    return f"{Decimal(amount_minor).scaleb(-exponent):.{exponent}f}"


def to_event_amount(amount_minor: int, currency: str) -> str:
    """The catalogue's two-decimal ``MONEY``: 1250 EUR → ``"12.50"``, 1500 JPY → ``"1500.00"``."""
    return f"{Decimal(amount_minor).scaleb(-currency_exponent(currency)):.2f}"
