import os
import stat
import subprocess
import sys
from io import StringIO
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from auth_service.accounts import signing
from common.auth.keys import jwk_thumbprint, reset_key_cache
from common.auth.testing import make_access_token, private_key_pem, public_key_pem

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def old_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def use_keys(settings, current, previous=()):
    settings.AUTH_JWT = {
        "PRIVATE_KEY": private_key_pem(current),
        "KEY_ID": None,
        "PREVIOUS_PUBLIC_KEYS": [public_key_pem(key) for key in previous],
    }
    reset_key_cache()


def sign_in(user):
    return APIClient().post("/api/auth/token/", {"email": user.email, "password": PASSWORD}, format="json").json()


def me_status(access):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get("/api/auth/me/").status_code


def refresh_status(refresh):
    return APIClient().post("/api/auth/token/refresh/", {"refresh": refresh}, format="json").status_code


# --- rotation ----------------------------------------------------------------------------------


def test_tokens_of_the_previous_key_verify_while_it_is_listed_and_fail_after(settings, old_key, new_key):
    user = UserFactory()
    use_keys(settings, old_key)
    before = sign_in(user)
    spare_refresh = sign_in(user)["refresh"]

    # Rotation, step 1: the new key signs, the old one is still listed.
    use_keys(settings, new_key, previous=[old_key])
    jwks = APIClient().get("/api/auth/jwks/").json()
    after = sign_in(user)

    assert [key["kid"] for key in jwks["keys"]] == [
        jwk_thumbprint(new_key.public_key()),
        jwk_thumbprint(old_key.public_key()),
    ]
    assert jwt.get_unverified_header(after["access"])["kid"] == jwk_thumbprint(new_key.public_key())
    assert me_status(before["access"]) == 200
    assert refresh_status(before["refresh"]) == 200  # nobody is logged out by the rotation
    assert me_status(after["access"]) == 200

    # Step 2: the old key is withdrawn.
    use_keys(settings, new_key)

    assert [key["kid"] for key in APIClient().get("/api/auth/jwks/").json()["keys"]] == [
        jwk_thumbprint(new_key.public_key())
    ]
    assert me_status(before["access"]) == 401
    assert refresh_status(spare_refresh) == 401
    assert me_status(after["access"]) == 200
    assert refresh_status(after["refresh"]) == 200


@pytest.mark.parametrize("kid", ["current", "unknown"])
def test_a_token_signed_by_another_key_is_refused(settings, old_key, new_key, kid):
    user = UserFactory()
    use_keys(settings, new_key)
    kid = jwk_thumbprint(new_key.public_key()) if kid == "current" else "someone-elses-key"
    forged = make_access_token(user_id=user.id, private_key=old_key, kid=kid)

    assert me_status(forged) == 401


def test_jwks_never_contains_private_material(settings, new_key, old_key):
    use_keys(settings, new_key, previous=[old_key])

    keys = APIClient().get("/.well-known/jwks.json").json()["keys"]

    assert all(set(key) == {"kty", "use", "alg", "kid", "n", "e"} for key in keys)


# --- where keys come from ------------------------------------------------------------------------


def test_private_key_from_the_environment_inline_with_escaped_newlines(new_key):
    pem = private_key_pem(new_key)

    loaded = signing.load_private_key_pem(environ={"AUTH_JWT_PRIVATE_KEY": pem.replace("\n", "\\n")})

    assert loaded == pem


def test_private_key_from_a_file(tmp_path, new_key):
    path = tmp_path / "key.pem"
    path.write_text(private_key_pem(new_key))

    assert signing.load_private_key_pem(environ={"AUTH_JWT_PRIVATE_KEY_FILE": str(path)}) == private_key_pem(new_key)


def test_development_key_is_generated_once_private_to_the_owner(tmp_path):
    first = signing.load_private_key_pem(environ={}, development_dir=tmp_path / "jwt")
    second = signing.load_private_key_pem(environ={}, development_dir=tmp_path / "jwt")

    assert first == second
    assert first.startswith("-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(os.stat(tmp_path / "jwt" / "private.pem").st_mode) == 0o600


def test_without_a_development_directory_no_key_is_made():
    assert signing.load_private_key_pem(environ={}, development_dir=None) is None


def test_previous_public_keys_from_the_environment_and_files(tmp_path, old_key, new_key):
    path = tmp_path / "previous.pem"
    path.write_text(public_key_pem(new_key))

    pems = signing.load_previous_public_keys(
        environ={
            "AUTH_JWT_PREVIOUS_PUBLIC_KEYS": public_key_pem(old_key),
            "AUTH_JWT_PREVIOUS_PUBLIC_KEY_FILES": f" {path} ,",
        }
    )

    assert [serialization.load_pem_public_key(pem.encode()).public_numbers() for pem in pems] == [
        old_key.public_key().public_numbers(),
        new_key.public_key().public_numbers(),
    ]


def test_the_git_ignore_keeps_generated_keys_out_of_the_repository():
    ignored = subprocess.run(["git", "check-ignore", "-q", "var/auth/jwt/private.pem"], cwd=REPO_ROOT, check=False)

    assert ignored.returncode == 0


# --- production --------------------------------------------------------------------------------


def _import_production_settings(tmp_path, **extra_env):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AUTH_", "DJANGO_", "DATABASE_URL", "CELERY_BROKER_URL"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="auth_service.settings.production",
        DJANGO_SECRET_KEY="x" * 20 + "abcdefghijklmnopqrstuvwxyz0123456789",
        DJANGO_DEBUG="0",
        VAR_DIR=str(tmp_path),
        **extra_env,
    )
    return subprocess.run(
        [sys.executable, "-c", "import django.conf as c; print(bool(c.settings.AUTH_JWT['PRIVATE_KEY']))"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_a_configured_key(tmp_path):
    result = _import_production_settings(tmp_path)

    assert result.returncode != 0
    assert "set AUTH_JWT_PRIVATE_KEY or AUTH_JWT_PRIVATE_KEY_FILE" in result.stderr
    assert not (tmp_path / "auth" / "jwt").exists()


def test_production_starts_with_a_configured_key(tmp_path, new_key):
    result = _import_production_settings(tmp_path, AUTH_JWT_PRIVATE_KEY=private_key_pem(new_key))

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


# --- the rotation procedure, with the management command ----------------------------------------


def test_the_documented_rotation_procedure(settings, tmp_path):
    # 1. Generate the new key; export the public half of the old one.
    old_file, new_file = tmp_path / "old.pem", tmp_path / "new.pem"
    call_command("auth_keys", "generate", "--out", str(old_file), stdout=StringIO())
    settings.AUTH_JWT = {"PRIVATE_KEY": old_file.read_text(), "KEY_ID": None, "PREVIOUS_PUBLIC_KEYS": []}
    user = UserFactory()
    before = sign_in(user)
    call_command("auth_keys", "generate", "--out", str(new_file), stdout=StringIO())
    old_public = StringIO()
    call_command("auth_keys", "public", str(old_file), stdout=old_public)

    # 2. Deploy: the new key signs, the old public key is listed (AUTH_JWT_PREVIOUS_PUBLIC_KEYS).
    environ = {"AUTH_JWT_PRIVATE_KEY_FILE": str(new_file), "AUTH_JWT_PREVIOUS_PUBLIC_KEYS": old_public.getvalue()}
    settings.AUTH_JWT = {
        "PRIVATE_KEY": signing.load_private_key_pem(environ=environ),
        "KEY_ID": None,
        "PREVIOUS_PUBLIC_KEYS": signing.load_previous_public_keys(environ=environ),
    }
    shown = StringIO()
    call_command("auth_keys", "show", stdout=shown)

    assert [line.split("\t")[1] for line in shown.getvalue().splitlines()] == [
        "current (signs)",
        "previous (verifies only)",
    ]
    assert me_status(before["access"]) == 200
    assert refresh_status(before["refresh"]) == 200

    # 3. After the refresh lifetime: drop the old public key.
    settings.AUTH_JWT = {**settings.AUTH_JWT, "PREVIOUS_PUBLIC_KEYS": []}

    assert me_status(before["access"]) == 401
    assert me_status(sign_in(user)["access"]) == 200


def test_generate_refuses_to_overwrite_a_key(tmp_path):
    path = tmp_path / "key.pem"
    path.write_text("precious")

    with pytest.raises(CommandError, match="refusing to overwrite"):
        call_command("auth_keys", "generate", "--out", str(path), stdout=StringIO())

    assert path.read_text() == "precious"
