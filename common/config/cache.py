"""``CACHES`` from ``REDIS_URL`` (django-redis), or process-local memory."""

from __future__ import annotations

from typing import Any

from .env import env_float, service_env


def cache_config(service_name: str, url: str | None = None) -> dict[str, Any]:
    if url is None:
        url = service_env(service_name.upper(), "REDIS_URL")
    if not url:
        return {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": f"{service_name}-cache",
                "KEY_PREFIX": service_name,
            }
        }
    timeout = env_float("REDIS_SOCKET_TIMEOUT", 0.5)
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            # Services share one Redis: the prefix keeps their keys apart.
            "KEY_PREFIX": service_name,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": timeout,
                "SOCKET_TIMEOUT": timeout,
                # The cache is an optimisation: with Redis down, reads fall through to the
                # database. Code that must not degrade (login counters, readiness) talks to
                # Redis through django_redis.get_redis_connection and sees the error.
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
