"""Every write of genres and movies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import ProtectedError
from django.utils.text import slugify

from common.api.exceptions import Conflict
from movie_service.caching import invalidate_on_commit

from .models import Genre, Movie

# A change to one of these reaches every upcoming showtime of the movie (title in the snapshot,
# duration in its end time), so they are republished.
SHOWTIME_FIELDS = ("title", "duration_minutes")


def genre_get_or_create(*, name: str) -> Genre:
    name = " ".join(name.split())
    slug = slugify(name)
    genre = Genre.objects.filter(slug=slug).first() or Genre.objects.filter(name__iexact=name).first()
    if genre is None:
        genre, _ = Genre.objects.get_or_create(slug=slug, defaults={"name": name})
        invalidate_on_commit()
    return genre


@transaction.atomic
def genre_save(*, genre: Genre) -> Genre:
    """The admin's create or rename: movie pages embed genre names, so cached copies go."""
    genre.save()
    invalidate_on_commit()
    return genre


@transaction.atomic
def genres_delete(*, genres: Iterable[Genre]) -> None:
    for genre in genres:
        genre.delete()
    invalidate_on_commit()


def _genres(names: Iterable[str]) -> list[Genre]:
    return [genre_get_or_create(name=name) for name in dict.fromkeys(names) if name.strip()]


@transaction.atomic
def movie_create(
    *,
    title: str,
    duration_minutes: int,
    synopsis: str = "",
    age_rating: str = Movie.AgeRating.PG,
    release_date: dt.date | None = None,
    poster_url: str = "",
    genres: Iterable[str] = (),
) -> Movie:
    movie = Movie(
        title=title,
        duration_minutes=duration_minutes,
        synopsis=synopsis,
        age_rating=age_rating,
        release_date=release_date,
        poster_url=poster_url,
    )
    movie.full_clean()
    movie.save()
    movie.genres.set(_genres(genres))
    invalidate_on_commit()
    return movie


@transaction.atomic
def movie_update(*, movie: Movie, data: dict[str, Any]) -> Movie:
    """Change fields of ``movie`` (``genres`` is a list of names); republishes showtimes if needed."""
    from movie_service.showtimes.services import showtimes_republish

    movie = Movie.objects.select_for_update().get(pk=movie.pk)
    data = dict(data)
    genres = data.pop("genres", None)
    before = {field: getattr(movie, field) for field in SHOWTIME_FIELDS}
    for field, value in data.items():
        setattr(movie, field, value)
    movie.full_clean()
    movie.save()
    if genres is not None:
        movie.genres.set(_genres(genres))
    changed = [field for field in SHOWTIME_FIELDS if getattr(movie, field) != before[field]]
    if changed:
        showtimes_republish(showtimes=movie.showtimes.all(), recompute_ends="duration_minutes" in changed)
    invalidate_on_commit()
    return movie


@transaction.atomic
def movie_delete(*, movie: Movie) -> None:
    try:
        movie.delete()
    except ProtectedError:
        raise Conflict("This movie has showtimes; it cannot be deleted.") from None
    invalidate_on_commit()
