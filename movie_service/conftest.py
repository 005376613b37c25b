"""Fixtures of the whole movie service's test run (the database fixtures come from the root conftest)."""

from movie_service.testing import catalogue_cache

__all__ = ["catalogue_cache"]
