"""Fixtures shared by the movie service's test packages (imported by their conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def catalogue_cache(settings):
    """The response cache on, in a fresh namespace for each test (never FLUSHDB a shared Redis)."""
    from movie_service.caching import bump_version

    settings.CATALOGUE_CACHE = {"ENABLED": True, "TIMEOUT": 300}
    bump_version()
