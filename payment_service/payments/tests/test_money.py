from decimal import Decimal

import pytest

from payment_service.payments.money import InvalidAmountError, to_decimal_string, to_event_amount, to_minor


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("12.50", "EUR", 1250),
        ("0.00", "USD", 0),
        ("1500", "JPY", 1500),
        ("1500.00", "JPY", 1500),
        ("1.234", "KWD", 1234),
    ],
)
def test_to_minor(amount, currency, minor):
    assert to_minor(amount, currency) == minor


@pytest.mark.parametrize(
    ("amount", "currency"), [("12.505", "EUR"), ("1500.50", "JPY"), ("-1.00", "EUR"), ("abc", "EUR"), ("NaN", "EUR")]
)
def test_to_minor_refuses_what_the_currency_cannot_hold(amount, currency):
    with pytest.raises(InvalidAmountError):
        to_minor(amount, currency)


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [(1250, "EUR", "12.50"), (5, "USD", "0.05"), (0, "GBP", "0.00"), (1500, "JPY", "1500"), (12345, "KWD", "12.345")],
)
def test_to_decimal_string_uses_the_currency_exponent(minor, currency, text):
    assert to_decimal_string(minor, currency) == text
    assert to_minor(Decimal(text), currency) == minor


@pytest.mark.parametrize(("minor", "currency", "text"), [(1250, "EUR", "12.50"), (1500, "JPY", "1500.00")])
def test_event_amounts_always_have_two_decimals(minor, currency, text):
    assert to_event_amount(minor, currency) == text
