"""Payment providers: the interface (``base``) and the bundled simulated provider."""

from .base import ChargeResult, PaymentProvider, RefundResult, TransientProviderError, get_provider

__all__ = ["ChargeResult", "PaymentProvider", "RefundResult", "TransientProviderError", "get_provider"]
