from django.apps import AppConfig


class CinemasConfig(AppConfig):
    name = "movie_service.cinemas"
    label = "cinemas"
    default_auto_field = "django.db.models.BigAutoField"
