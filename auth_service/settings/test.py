"""Tests: fast hashing, e-mail kept in memory, everything else as configured."""

import uuid

from common.auth.testing import TEST_KID, private_key_pem

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# The auth service signs with the key made for the test run (common.auth.testing), so its tokens
# and those of `authenticated_client` verify alike; its JWKS lists that key as "test-key".
AUTH_JWT = {"PRIVATE_KEY": private_key_pem(), "KEY_ID": TEST_KID, "PREVIOUS_PUBLIC_KEYS": []}
SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": AUTH_JWT["PRIVATE_KEY"]}
# Login counters of one test run stay apart from any other run sharing the Redis server.
AUTH_LOGIN_LIMITS = {**AUTH_LOGIN_LIMITS, "KEY_PREFIX": f"test-{uuid.uuid4().hex[:12]}:auth:login-failures"}
# After-commit sends happen in the test's own thread, so a test sees them when commit returns.
COMMON = {**COMMON, "EVENTS": {**COMMON.get("EVENTS", {}), "RELAY_IN_BACKGROUND": False}}
