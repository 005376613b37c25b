from django.apps import AppConfig


class ShowtimesConfig(AppConfig):
    name = "movie_service.showtimes"
    label = "showtimes"
    default_auto_field = "django.db.models.BigAutoField"
