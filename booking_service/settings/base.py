"""Settings of the booking service; shared defaults come from ``common.config``."""

from common.config.settings import build_settings

globals().update(build_settings("booking", apps=["booking_service.bookings"]))
