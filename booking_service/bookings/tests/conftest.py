import pytest

# The project's plugin makes the PostgreSQL test database through the admin role; re-exported here
# so it wins over pytest-django's own fixtures whatever order the plugins were registered in.
from common.testing.pytest_plugin import django_db_keepdb, django_db_modify_db_settings  # noqa: F401


@pytest.fixture(autouse=True)
def _hold_seconds(settings):
    settings.BOOKING_HOLD_SECONDS = 600
    settings.BOOKING_PENDING_GRACE_SECONDS = 60
