"""Fixtures of the whole movie service's test run.

The shared plugin's database fixtures are re-exported here: a conftest's fixtures take
precedence over every plugin's, so these win over pytest-django's defaults of the same name
whatever order the plugins were loaded in.
"""

from common.testing.pytest_plugin import django_db_keepdb, django_db_modify_db_settings
from movie_service.testing import catalogue_cache

__all__ = ["catalogue_cache", "django_db_keepdb", "django_db_modify_db_settings"]
