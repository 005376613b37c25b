"""Provider webhooks: Stripe-style signatures, and what each callback means here.

Header ``Provider-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`` where each ``v1`` is
HMAC-SHA256(secret, f"{t}.{raw body}"). A request is accepted when any ``v1`` matches any secret
of ``PAYMENT_WEBHOOK_SECRETS`` (compared in constant time) and ``t`` is within
``PAYMENT_WEBHOOK_TOLERANCE_SECONDS`` of now.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable

SIGNATURE_HEADER = "Provider-Signature"


class InvalidSignatureError(Exception):
    pass


def compute_signature(secret: str, timestamp: int, raw_body: bytes) -> str:
    message = f"{timestamp}.".encode() + raw_body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, raw_body: bytes, timestamp: int | None = None) -> str:
    """The header a provider sends (for tests and local tooling)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={compute_signature(secret, timestamp, raw_body)}"


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp = None
    signatures = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise InvalidSignatureError("The signature timestamp is not an integer.") from None
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise InvalidSignatureError(f"The {SIGNATURE_HEADER} header needs t= and v1=.")
    return timestamp, signatures


def verify_signature(
    header: str | None, raw_body: bytes, *, secrets: Iterable[str], tolerance_seconds: int, now: float | None = None
) -> int:
    """Return the signed timestamp, or raise ``InvalidSignatureError`` saying why."""
    if not header:
        raise InvalidSignatureError(f"Missing {SIGNATURE_HEADER} header.")
    timestamp, signatures = _parse(header)
    now = time.time() if now is None else now
    # In integers: a float against a timestamp of hundreds of digits overflows.
    if abs(int(now) - timestamp) > tolerance_seconds:
        raise InvalidSignatureError("The signature timestamp is outside the tolerance window.")
    matched = False
    for secret in secrets:
        expected = compute_signature(secret, timestamp, raw_body)
        for signature in signatures:
            # No early exit: every comparison is made, each in constant time. As bytes, since
            # compare_digest refuses a str that is not ASCII.
            matched |= hmac.compare_digest(expected.encode(), signature.encode())
    if not matched:
        raise InvalidSignatureError("No signature matches.")
    return timestamp
