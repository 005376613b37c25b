"""Fixtures every test run shares (see common/testing/pytest_plugin.py).

They live in a conftest, not a ``-p`` plugin, because a conftest's fixtures override
pytest-django's same-named ones (``django_db_keepdb``, ``django_db_modify_db_settings``).
"""

from common.testing.pytest_plugin import (  # noqa: F401
    django_db_keepdb,
    django_db_modify_db_settings,
    own_database_accepting,
    postgres_admin,
    rabbitmq_url,
    redis_url,
)
