"""Settings of the auth service; shared defaults come from ``common.config``."""

import os
from datetime import timedelta

from auth_service.accounts.signing import load_previous_public_keys, load_private_key_pem
from common.auth.keys import DEFAULTS as TOKEN_DEFAULTS
from common.config.env import env_int, env_str
from common.config.paths import var_dir
from common.config.settings import build_settings

globals().update(
    build_settings(
        "auth",
        apps=["rest_framework_simplejwt.token_blacklist", "auth_service.accounts"],
    )
)

AUTH_USER_MODEL = "accounts.User"
# The auth service is where passwords live: its own admin signs in against its own users.
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
# Django's similarity check looks at username, first_name, last_name and email; this user model
# has a full_name instead, so a password equal to the user's name passed.
AUTH_PASSWORD_VALIDATORS = [
    {**validator, "OPTIONS": {"user_attributes": ("email", "full_name")}}
    if validator["NAME"].endswith(".UserAttributeSimilarityValidator")
    else validator
    for validator in AUTH_PASSWORD_VALIDATORS  # noqa: F821 - from build_settings above
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

# Signing keys (auth_service/accounts/signing.py). Development generates one under var/auth/jwt/;
# production.py refuses to start without AUTH_JWT_PRIVATE_KEY(_FILE).
AUTH_JWT = {
    "PRIVATE_KEY": load_private_key_pem(
        development_dir=None
        if os.environ.get("DJANGO_SETTINGS_MODULE", "").endswith(".production")
        else var_dir() / "auth" / "jwt"
    ),
    "KEY_ID": env_str("AUTH_JWT_KEY_ID") or None,
    "PREVIOUS_PUBLIC_KEYS": load_previous_public_keys(),
}

SIMPLE_JWT = {
    "ALGORITHM": "RS256",
    # The signing itself goes through accounts.tokens.KeyedTokenBackend, which adds the `kid`
    # header and reads AUTH_JWT at call time; these keep simplejwt's own backend consistent.
    "SIGNING_KEY": AUTH_JWT["PRIVATE_KEY"],
    "ISSUER": TOKEN_DEFAULTS["ISSUER"],
    "AUDIENCE": TOKEN_DEFAULTS["AUDIENCE"],
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env_int("AUTH_ACCESS_TOKEN_LIFETIME_SECONDS", 5 * 60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env_int("AUTH_REFRESH_TOKEN_LIFETIME_SECONDS", 24 * 60 * 60)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "TOKEN_TYPE_CLAIM": "token_type",
    "AUTH_HEADER_TYPES": ("Bearer",),
}

# Failed sign-ins (accounts/login_limits.py): counted per account and per client address in a
# window; one over the limit answers 429 with Retry-After until the window ends.
AUTH_LOGIN_LIMITS = {
    "ACCOUNT_FAILURES": env_int("AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT", 5),
    "ADDRESS_FAILURES": env_int("AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS", 20),
    "WINDOW_SECONDS": env_int("AUTH_LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60),
}

# The client address of a request behind the gateway: DRF reads X-Forwarded-For when
# NUM_PROXIES is 1 or more (1 behind the NGINX gateway); 0 uses REMOTE_ADDR. Never None: DRF then
# takes the whole X-Forwarded-For a client sends, a new address for every guess.
REST_FRAMEWORK = {**REST_FRAMEWORK, "NUM_PROXIES": env_int("AUTH_NUM_PROXIES", 0)}  # noqa: F821

CELERY_BEAT_SCHEDULE = {
    **CELERY_BEAT_SCHEDULE,  # noqa: F821 - from build_settings above
    "auth.flush_expired_tokens": {
        "task": "auth.accounts.flush_expired_tokens",
        "schedule": float(env_int("AUTH_FLUSH_EXPIRED_TOKENS_SECONDS", 24 * 60 * 60)),
        "options": {"expires": 60 * 60},
    },
}

# The auth service verifies access tokens (GET/PATCH me/) with its own key set, no HTTP.
COMMON = {
    **COMMON,  # noqa: F821
    "AUTH": {**COMMON.get("AUTH", {}), "JWKS_PROVIDER": "auth_service.accounts.signing.jwks"},  # noqa: F821
}
