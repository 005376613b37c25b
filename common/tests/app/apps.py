from django.apps import AppConfig


class TestAppConfig(AppConfig):
    """Models and event handlers that exist only to test ``common``."""

    name = "common.tests.app"
    label = "common_test_app"
    default_auto_field = "django.db.models.BigAutoField"
