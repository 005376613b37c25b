from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import Genre, Movie


def movie_list(*, genre: str | None = None) -> QuerySet[Movie]:
    """Movies with their genres prefetched; ``genre`` is a slug or a name (any case)."""
    movies = Movie.objects.prefetch_related("genres")
    if genre:
        genres = Genre.objects.filter(Q(slug=genre.lower()) | Q(name__iexact=genre))
        movies = movies.filter(pk__in=Movie.genres.through.objects.filter(genre__in=genres).values("movie_id"))
    return movies.order_by("title", "id")
