"""Every event type of the system: version, producer, consumers and the schema of ``data``.

This is the contract's event table as code. ``publish`` refuses data that does not match, and
the consumer checks again on arrival, so a producer/consumer mismatch fails a test rather than
production. Consumers' queue bindings are derived from here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

UUID = {"type": "string", "format": "uuid"}
DATETIME = {"type": "string", "format": "date-time"}
MONEY = {"type": "string", "pattern": r"^-?\d+\.\d{2}$"}
CURRENCY = {"type": "string", "pattern": "^[A-Z]{3}$"}
SEAT_LABELS = {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 8}, "minItems": 1}
TEXT = {"type": "string", "maxLength": 500}

# Measured as sent (JSON with \u escapes: a character outside ASCII is 6 or 12 bytes). The largest
# showtime snapshot (150 seats, every name at its longest, in emoji) is ~14.3 KB; at 8 KiB a
# screen of 150 seats in a cinema with a Cyrillic name was a 500 to create, and refused renames.
MAX_DATA_BYTES = 16 * 1024


def _object(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    # Extra fields are allowed: a producer may add one before its consumers know it (v1 stays v1).
    return {
        "type": "object",
        "required": sorted(required),
        "properties": {**required, **(optional or {})},
        "additionalProperties": True,
    }


@dataclass(frozen=True)
class EventType:
    name: str
    version: int
    producer: str
    consumers: tuple[str, ...]
    schema: dict[str, Any]


# idn-email: a domain may be in another script (bob@müller.de), which "email" refused while
# Django's check accepted it. The auth service refuses with a 400 what this still refuses.
USER = {"user_id": UUID, "email": {"type": "string", "format": "idn-email", "maxLength": 254}, "full_name": TEXT}

SHOWTIME_SNAPSHOT = _object(
    {
        "id": UUID,
        "movie_id": UUID,
        "movie_title": TEXT,
        "cinema_id": UUID,
        "cinema_name": TEXT,
        "screen_name": TEXT,
        "starts_at": DATETIME,
        "ends_at": DATETIME,
        "status": {"enum": ["scheduled", "cancelled"]},
        "currency": CURRENCY,
        "prices": {"type": "object", "additionalProperties": MONEY, "minProperties": 1},
        "seats": {
            "type": "array",
            "items": _object({"label": {"type": "string", "minLength": 1}, "category": {"type": "string"}}),
        },
    },
    {
        # Consumers keep the newest snapshot: a lower version never overwrites a higher one. Our
        # movie service always sends it; the contract's data ("the showtime detail") has none, so
        # a snapshot without it is the newest by arrival.
        "version": {"type": "integer", "minimum": 1},
        "updated_at": DATETIME,
        "cinema_timezone": {"type": "string"},
        "cinema_city": TEXT,
    },
)

CANCEL_REASONS = ["user_cancelled", "payment_failed", "expired", "showtime_cancelled"]

EVENT_TYPES: dict[str, EventType] = {
    event.name: event
    for event in (
        EventType("auth.user.registered", 1, "auth", ("notification",), _object(USER)),
        EventType("auth.user.updated", 1, "auth", ("notification",), _object(USER, {"is_active": {"type": "boolean"}})),
        EventType("movies.showtime.published", 1, "movie", ("booking",), SHOWTIME_SNAPSHOT),
        EventType(
            "movies.showtime.cancelled",
            1,
            "movie",
            ("booking",),
            _object({"showtime_id": UUID, "reason": TEXT}, {"version": {"type": "integer"}}),
        ),
        EventType(
            "bookings.booking.created",
            1,
            "booking",
            ("payment",),
            _object(
                {
                    "booking_id": UUID,
                    "user_id": UUID,
                    "showtime_id": UUID,
                    "seats": SEAT_LABELS,
                    "amount": MONEY,
                    "currency": CURRENCY,
                    "payment_method": {"type": "string", "minLength": 1, "maxLength": 100},
                    "expires_at": DATETIME,
                }
            ),
        ),
        EventType(
            "bookings.booking.confirmed",
            1,
            "booking",
            ("notification",),
            _object(
                {
                    "booking_id": UUID,
                    "user_id": UUID,
                    "movie_title": TEXT,
                    "cinema_name": TEXT,
                    "starts_at": DATETIME,
                    "seats": SEAT_LABELS,
                    "amount": MONEY,
                    "currency": CURRENCY,
                },
                {"screen_name": TEXT, "cinema_timezone": {"type": "string"}, "reference": TEXT},
            ),
        ),
        EventType(
            "bookings.booking.cancelled",
            1,
            "booking",
            ("payment", "notification"),
            _object(
                {"booking_id": UUID, "user_id": UUID, "reason": {"enum": CANCEL_REASONS}},
                {
                    "movie_title": TEXT,
                    "starts_at": DATETIME,
                    "seats": {"type": "array"},
                    "was_confirmed": {"type": "boolean"},
                },
            ),
        ),
        EventType(
            "payments.payment.succeeded",
            1,
            "payment",
            ("booking",),
            _object({"payment_id": UUID, "booking_id": UUID, "user_id": UUID, "amount": MONEY, "currency": CURRENCY}),
        ),
        EventType(
            "payments.payment.failed",
            1,
            "payment",
            ("booking", "notification"),
            _object({"payment_id": UUID, "booking_id": UUID, "user_id": UUID, "reason": TEXT}),
        ),
        EventType(
            "payments.payment.refunded",
            1,
            "payment",
            ("notification",),
            _object({"payment_id": UUID, "booking_id": UUID, "user_id": UUID, "amount": MONEY, "currency": CURRENCY}),
        ),
    )
}


def types_consumed_by(service: str) -> list[str]:
    return sorted(name for name, event in EVENT_TYPES.items() if service in event.consumers)


def types_produced_by(service: str) -> list[str]:
    return sorted(name for name, event in EVENT_TYPES.items() if event.producer == service)
