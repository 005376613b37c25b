"""Each service starts under each of its settings modules; production refuses insecure values."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from common.config.services import SERVICES

REPO = Path(__file__).resolve().parents[2]
STRONG_KEY = "k3Y-7f9Qz2Lm8Rt5Wv1Xn4Bc6Hd0Js-Pa_Ue*Io&Gy!Tr#Eq$Mw%Zk^Vb"
PROD_DB = "postgresql://app:vault-password-xyz@db.internal:5432/{database}"


def run_check(service, settings: str, **env) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith("DATABASE_URL") and key not in {"CELERY_BROKER_URL", "DJANGO_SECRET_KEY", "DJANGO_DEBUG"}
    }
    environment.update(DJANGO_SETTINGS_MODULE=f"{service.package}.settings.{settings}", **env)
    return subprocess.run(
        [sys.executable, str(REPO / service.package / "manage.py"), "check"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("settings", ["local", "test"])
@pytest.mark.parametrize("name", list(SERVICES))
def test_service_starts_under_development_settings(name, settings):
    result = run_check(SERVICES[name], settings)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def signing_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.mark.parametrize("name", list(SERVICES))
def test_service_starts_under_production_settings_when_configured_securely(name):
    service = SERVICES[name]
    # The auth service signs tokens: in production its key must come from the environment.
    extra = {"AUTH_JWT_PRIVATE_KEY": signing_key_pem()} if name == "auth" else {}

    result = run_check(
        service,
        "production",
        DJANGO_SECRET_KEY=STRONG_KEY,
        DATABASE_URL=PROD_DB.format(database=service.database),
        CELERY_BROKER_URL="amqp://app:vault-broker-pw@rabbitmq:5672//",
        **extra,
    )

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "DJANGO_SECRET_KEY is the development default"),
        ({"DJANGO_SECRET_KEY": STRONG_KEY, "DJANGO_DEBUG": "1"}, "DJANGO_DEBUG is on"),
        (
            {
                "DJANGO_SECRET_KEY": STRONG_KEY,
                "DATABASE_URL": "postgresql+asyncpg://booking_user:booking_password123@postgres-booking:5432/bookings_db",
            },
            "design-document development password",
        ),
    ],
)
def test_production_settings_refuse_to_start(env, message):
    result = run_check(SERVICES["booking"], "production", **env)

    assert result.returncode != 0
    assert "refusing to start with production settings" in result.stderr
    assert message in result.stderr


UNROUTED_API_PATH = """
import json
import django
django.setup()
from django.test import Client
response = Client(HTTP_HOST="localhost").get("/api/{prefix}/no/such/thing/")
print(json.dumps([response.status_code, response["Content-Type"], response.content.decode()]))
"""


@pytest.mark.parametrize("name", list(SERVICES))
def test_an_unrouted_api_path_is_a_json_404(name):
    # given a service with DEBUG off (its test settings), as in production
    service = SERVICES[name]
    environment = {key: value for key, value in os.environ.items() if key not in {"DJANGO_DEBUG"}}
    environment["DJANGO_SETTINGS_MODULE"] = f"{service.package}.settings.test"

    # when a client asks for a path no route matches
    result = subprocess.run(
        [sys.executable, "-c", UNROUTED_API_PATH.format(prefix=service.prefix)],
        env=environment, cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    # then the answer is DRF's 404 shape, not Django's HTML page
    assert result.returncode == 0, result.stderr[-3000:]
    status, content_type, body = json.loads(result.stdout.strip().splitlines()[-1])
    assert (status, content_type, json.loads(body)) == (404, "application/json", {"detail": "Not found."})
