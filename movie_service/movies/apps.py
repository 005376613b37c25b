from django.apps import AppConfig


class MoviesConfig(AppConfig):
    name = "movie_service.movies"
    label = "movies"
    default_auto_field = "django.db.models.BigAutoField"
