"""Settings of the booking service; shared defaults come from ``common.config``."""

from common.config.env import env_int
from common.config.settings import build_settings

globals().update(build_settings("booking", apps=["booking_service.bookings"]))

# How long a pending booking holds its seats (contract: BOOKING_HOLD_SECONDS, default 600).
BOOKING_HOLD_SECONDS = env_int("BOOKING_HOLD_SECONDS", 600)
# A pending booking this long past its hold counts as overdue (metric, manage_all.py verify).
BOOKING_PENDING_GRACE_SECONDS = env_int("BOOKING_PENDING_GRACE_SECONDS", 60)
BOOKING_EXPIRY_SWEEP_SECONDS = env_int("BOOKING_EXPIRY_SWEEP_SECONDS", 5)

CELERY_BEAT_SCHEDULE = {
    **CELERY_BEAT_SCHEDULE,  # noqa: F821 - from build_settings above
    "booking.expire_holds": {
        "task": "booking.bookings.expire_holds",
        "schedule": float(BOOKING_EXPIRY_SWEEP_SECONDS),
        # A sweep still queued when the next is due is useless: drop it.
        "options": {"expires": float(BOOKING_EXPIRY_SWEEP_SECONDS)},
    },
}

SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,  # noqa: F821 - from build_settings above
    "ENUM_NAME_OVERRIDES": {
        "BookingStatusEnum": "booking_service.bookings.models.Booking.Status",
        "SeatStatusEnum": ["available", "held", "sold"],
    },
}
