from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "common.events"
    label = "events"
    verbose_name = "Events (outbox and inbox)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from .metrics import register_collector

        # Each app's events.py registers its handlers.
        autodiscover_modules("events")
        register_collector()
