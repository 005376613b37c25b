"""How many decimals an ISO 4217 currency has: the one fact about money every service must agree on.

The movie service may only accept prices the payment service can charge (no ``"1500.50"`` JPY),
and the payment service keeps amounts in the currency's minor units. Amounts themselves stay the
services' own business (decimal strings in the API, two decimals in events).
"""

from __future__ import annotations

# ISO 4217 minor-unit exponents that are not 2.
_ZERO_DECIMAL = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF"
_THREE_DECIMAL = "BHD IQD JOD KWD LYD OMR TND"
_EXPONENTS = {**dict.fromkeys(_ZERO_DECIMAL.split(), 0), **dict.fromkeys(_THREE_DECIMAL.split(), 3)}


def currency_exponent(currency: str) -> int:
    """2 for EUR (cents), 0 for JPY, 3 for KWD."""
    return _EXPONENTS.get(currency.upper(), 2)
