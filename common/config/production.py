"""Production hardening and the checks that refuse an insecure start.

A service's ``settings/production.py`` ends with::

    globals().update(production_settings(globals()))
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_int
from .services import DEV_PASSWORDS
from .settings import DEV_SECRET_KEY

_MIN_SECRET_KEY_LENGTH = 50


def insecure_settings(settings: dict[str, Any]) -> list[str]:
    """What would make this configuration unsafe to run in production, in plain words."""
    problems = []
    secret_key = settings.get("SECRET_KEY") or ""
    if secret_key == DEV_SECRET_KEY or secret_key.startswith("django-insecure"):
        problems.append("DJANGO_SECRET_KEY is the development default")
    elif len(secret_key) < _MIN_SECRET_KEY_LENGTH or len(set(secret_key)) < 5:
        problems.append(f"DJANGO_SECRET_KEY must be at least {_MIN_SECRET_KEY_LENGTH} random characters")
    if settings.get("DEBUG"):
        problems.append("DJANGO_DEBUG is on")
    for alias, database in settings.get("DATABASES", {}).items():
        if database.get("PASSWORD") in DEV_PASSWORDS:
            problems.append(f"database {alias!r} uses a design-document development password")
    broker_password = urlsplit(settings.get("CELERY_BROKER_URL") or "").password
    if broker_password is not None and unquote(broker_password) in DEV_PASSWORDS | {"guest"}:
        problems.append("CELERY_BROKER_URL uses a development password")
    return problems


def production_settings(settings: dict[str, Any]) -> dict[str, Any]:
    problems = insecure_settings(settings)
    if problems:
        raise ImproperlyConfigured("refusing to start with production settings: " + "; ".join(problems))
    return {
        # TLS ends at the gateway or ingress, which sets X-Forwarded-Proto.
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
        "SECURE_SSL_REDIRECT": env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True),
        # Probes and Prometheus scrape over plain HTTP inside the cluster.
        "SECURE_REDIRECT_EXEMPT": [r"^health/", r"^metrics$"],
        "SECURE_HSTS_SECONDS": env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000),
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "X_FRAME_OPTIONS": "DENY",
        "STORAGES": {
            **settings["STORAGES"],
            "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
        },
        "WHITENOISE_USE_FINDERS": False,
    }
