"""Fixtures of the whole movie service's test run (the database fixtures come from the root conftest)."""

import pytest
from django.contrib.auth import get_user_model

from movie_service.testing import catalogue_cache

__all__ = ["admin_client", "catalogue_cache"]

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def admin_client(client, settings):
    """A signed-in superuser of this service's admin (without the auth service's sign-on)."""
    settings.AUTHENTICATION_BACKENDS = [MODEL_BACKEND]
    user = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(user, backend=MODEL_BACKEND)
    return client
