from __future__ import annotations

import datetime as dt

import factory

from movie_service.movies.models import Genre, Movie


class GenreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Genre
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Genre {n}")
    slug = factory.LazyAttribute(lambda genre: genre.name.lower().replace(" ", "-"))


class MovieFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Movie
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Movie {n:03d}")
    synopsis = "A film."
    duration_minutes = 120
    age_rating = Movie.AgeRating.PG_13
    release_date = dt.date(2026, 1, 1)
    poster_url = ""

    @factory.post_generation
    def genres(self, create, extracted, **kwargs):
        if create and extracted:
            self.genres.set(extracted)
