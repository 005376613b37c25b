"""``manage_all.py check --deploy`` under production settings, for every service.

With a secure environment (random secret key, no development passwords, a signing key for auth)
Django's deployment checks pass at ``--fail-level WARNING``; with the development defaults the
production settings refuse to load at all. No server is needed: ``check`` does not connect.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from e2e.support import REPO

SERVICES = ("auth", "movie", "booking", "payment", "notification")
DATABASES = {
    "auth": "auth_db",
    "movie": "movies_db",
    "booking": "bookings_db",
    "payment": "payments_db",
    "notification": "notifications_db",
}


@pytest.fixture(scope="module")
def private_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def secure_env(private_key: str) -> dict[str, str]:
    password = secrets.token_urlsafe(24)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith(("DATABASE_URL", "BROKER_URL", "REDIS_URL")) and not key.startswith("DJANGO_")
    }
    env.update(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="tickets.example.com",
        AUTH_JWT_PRIVATE_KEY=private_key,
        AUTH_JWKS_URL="http://auth:8001/api/auth/jwks/",
        CELERY_BROKER_URL=f"amqp://booking:{password}@rabbitmq:5672//",
        REDIS_URL="redis://redis:6379/0",
    )
    for service, database in DATABASES.items():
        env[f"{service.upper()}_DATABASE_URL"] = f"postgresql://{service}_user:{password}@db:5432/{database}"
    return env


def manage_all(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage_all.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


def test_deploy_checks_pass_under_production_settings(private_key):
    # given a production-like environment with real secrets
    env = secure_env(private_key)

    # when every service runs Django's deployment checks, failing on warnings
    result = manage_all("check", "--deploy", "--settings", "production", env=env)

    # then all five report no issues
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert output.count("System check identified no issues") == len(SERVICES), output[-6000:]


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("DJANGO_SECRET_KEY", "", "DJANGO_SECRET_KEY is the development default"),
        ("DJANGO_DEBUG", "1", "DJANGO_DEBUG is on"),
        (
            "BOOKING_DATABASE_URL",
            "postgresql://booking_user:booking_password123@db:5432/bookings_db",
            "uses a design-document development password",
        ),
    ],
)
def test_production_settings_refuse_development_secrets(private_key, variable, value, problem):
    # given a production environment with one development default left in
    env = secure_env(private_key)
    if value:
        env[variable] = value
    else:
        env.pop(variable)

    # when the booking service checks its deployment
    result = manage_all("check", "--deploy", "--settings", "production", "--only", "booking", env=env)

    # then it refuses to load, naming the problem
    assert result.returncode != 0
    assert problem in result.stdout + result.stderr


SERVICE_TO_SERVICE_PROBE = """
import django
django.setup()
from django.http import HttpResponse
from django.middleware.security import SecurityMiddleware
from django.test import RequestFactory

middleware = SecurityMiddleware(lambda request: HttpResponse())
factory = RequestFactory(HTTP_HOST="auth")
for method, path in [
    ("get", "/api/auth/jwks/"),
    ("get", "/.well-known/jwks.json"),
    ("post", "/api/auth/token/"),
    ("get", "/api/auth/me/"),
    ("post", "/api/auth/register/"),
]:
    response = middleware.process_request(getattr(factory, method)(path))
    print(method.upper(), path, response.status_code if response else "through")
"""


def test_the_other_services_reach_auths_keys_and_sign_in_over_the_clusters_plain_http(private_key):
    # given the auth service's production settings, which redirect plain HTTP to HTTPS
    env = {**secure_env(private_key), "DJANGO_SETTINGS_MODULE": "auth_service.settings.production"}
    env["DJANGO_ALLOWED_HOSTS"] = "auth"

    # when the other services call it as AUTH_JWKS_URL and AUTH_TOKEN_URL say (http://auth:8001/…)
    result = subprocess.run(
        [sys.executable, "-c", SERVICE_TO_SERVICE_PROBE], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )

    # then the keys and the token endpoint answer over HTTP; the rest of the API is still redirected
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines() == [
        "GET /api/auth/jwks/ through",
        "GET /.well-known/jwks.json through",
        "POST /api/auth/token/ through",
        "GET /api/auth/me/ 301",
        "POST /api/auth/register/ 301",
    ]
