import pytest

from common.auth.keys import reset_key_cache


@pytest.fixture(autouse=True)
def _fresh_state(settings):
    """Login counters and cached keys never leak from one test into the next."""
    from django.core.cache import cache

    from auth_service.accounts import login_limits

    reset_key_cache()
    if login_limits._uses_redis():
        # Only this run's keys (a unique prefix): never FLUSHDB a Redis others share.
        connection = login_limits._redis()
        keys = list(connection.scan_iter(f"{settings.AUTH_LOGIN_LIMITS['KEY_PREFIX']}:*"))
        if keys:
            connection.delete(*keys)
    else:
        cache.clear()
    yield
    reset_key_cache()
