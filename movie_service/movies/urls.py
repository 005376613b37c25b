"""``/api/movies/…``: movies at the root, then cinemas, screens and showtimes.

Ids are matched with the ``uuid`` converter, so ``/api/movies/cinemas/`` is never taken for a
movie id.
"""

from django.urls import path

from movie_service.cinemas.views import CinemaViewSet, ScreenViewSet
from movie_service.showtimes.views import ShowtimeViewSet

from .views import MovieViewSet

app_name = "movies"

COLLECTION = {"get": "list", "post": "create"}
ITEM = {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}

urlpatterns = [
    path("", MovieViewSet.as_view(COLLECTION), name="movie-list"),
    path("<uuid:pk>/", MovieViewSet.as_view(ITEM), name="movie-detail"),
    path("cinemas/", CinemaViewSet.as_view(COLLECTION), name="cinema-list"),
    path("cinemas/<uuid:pk>/", CinemaViewSet.as_view(ITEM), name="cinema-detail"),
    path("screens/", ScreenViewSet.as_view(COLLECTION), name="screen-list"),
    path("screens/<uuid:pk>/", ScreenViewSet.as_view(ITEM), name="screen-detail"),
    path("showtimes/", ShowtimeViewSet.as_view(COLLECTION), name="showtime-list"),
    path("showtimes/<uuid:pk>/", ShowtimeViewSet.as_view(ITEM), name="showtime-detail"),
    path("showtimes/<uuid:pk>/cancel/", ShowtimeViewSet.as_view({"post": "cancel"}), name="showtime-cancel"),
]
