"""Tests: fast hashing, e-mail kept in memory, everything else as configured."""

from common.auth.testing import test_jwks

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Tokens in tests are signed with a key made for the test run (common.auth.testing).
COMMON = {**COMMON, "AUTH": {"JWKS": test_jwks()}}
# After-commit sends happen in the test's own thread, so a test sees them when commit returns.
COMMON = {**COMMON, "EVENTS": {**COMMON.get("EVENTS", {}), "RELAY_IN_BACKGROUND": False}}
