from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from movie_service.cinemas.tests.factories import ScreenFactory
from movie_service.movies.tests.factories import MovieFactory
from movie_service.showtimes.models import Showtime


class ShowtimeFactory(factory.django.DjangoModelFactory):
    """Straight to the table (no event): for reads. Writes under test go through the services."""

    class Meta:
        model = Showtime

    movie = factory.SubFactory(MovieFactory)
    screen = factory.SubFactory(ScreenFactory)
    starts_at = factory.LazyFunction(
        lambda: (timezone.now() + dt.timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    )
    ends_at = factory.LazyAttribute(
        lambda showtime: showtime.starts_at + dt.timedelta(minutes=showtime.movie.duration_minutes + 15)
    )
    prices = factory.LazyFunction(lambda: {"standard": "10.00"})
    currency = "GBP"
    status = Showtime.Status.SCHEDULED
    version = 1
