import pytest


@pytest.fixture(autouse=True)
def _hold_seconds(settings):
    settings.BOOKING_HOLD_SECONDS = 600
    settings.BOOKING_PENDING_GRACE_SECONDS = 60
