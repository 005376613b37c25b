from django.contrib.auth.hashers import check_password, make_password
from django.test import override_settings

from auth_service.settings import base


def test_argon2_hashes_passwords_outside_tests():
    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    with override_settings(PASSWORD_HASHERS=base.PASSWORD_HASHERS):
        hashed = make_password("Correct-Horse-42")

        assert hashed.startswith("argon2$argon2id$")
        assert check_password("Correct-Horse-42", hashed)


def test_token_settings():
    assert base.SIMPLE_JWT["ALGORITHM"] == "RS256"
    assert base.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() == 300
    assert base.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"].total_seconds() == 86400
    assert base.SIMPLE_JWT["ROTATE_REFRESH_TOKENS"] is True
    assert base.SIMPLE_JWT["BLACKLIST_AFTER_ROTATION"] is True
    assert (base.SIMPLE_JWT["ISSUER"], base.SIMPLE_JWT["AUDIENCE"]) == ("movie-booking-auth", "movie-booking")
    assert "rest_framework_simplejwt.token_blacklist" in base.INSTALLED_APPS
    assert base.AUTH_USER_MODEL == "accounts.User"
    assert base.AUTHENTICATION_BACKENDS == ["django.contrib.auth.backends.ModelBackend"]
    assert base.AUTH_PASSWORD_VALIDATORS  # Django's four, from build_settings


def test_login_limit_defaults():
    assert {key: base.AUTH_LOGIN_LIMITS[key] for key in ("ACCOUNT_FAILURES", "ADDRESS_FAILURES", "WINDOW_SECONDS")} == {
        "ACCOUNT_FAILURES": 5,
        "ADDRESS_FAILURES": 20,
        "WINDOW_SECONDS": 900,
    }
