"""A small Django project for testing ``common`` on its own (it may import no service)."""

from common.auth.testing import test_jwks
from common.config.services import Service
from common.config.settings import build_settings

TEST_SERVICE = Service("common", 8000, "common", "common_db", "postgres")

globals().update(build_settings(TEST_SERVICE, apps=["common.tests.app"]))

ROOT_URLCONF = "common.tests.urls"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
COMMON = {**COMMON, "AUTH": {"JWKS": test_jwks()}}  # noqa: F821
# After-commit sends happen in the test's own thread, so a test sees them when commit returns.
COMMON = {**COMMON, "EVENTS": {**COMMON.get("EVENTS", {}), "RELAY_IN_BACKGROUND": False}}
