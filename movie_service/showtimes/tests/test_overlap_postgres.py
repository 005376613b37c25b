"""The database itself refuses overlapping showtimes on one screen (PostgreSQL)."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from common.events.testing import published
from common.testing.infrastructure import require_postgres_database
from movie_service.cinemas.tests.factories import ScreenFactory
from movie_service.movies.tests.factories import MovieFactory
from movie_service.showtimes import services
from movie_service.showtimes.models import NO_OVERLAP_CONSTRAINT, Showtime
from movie_service.showtimes.tests.factories import ShowtimeFactory


@pytest.fixture(autouse=True)
def _postgres(settings):
    require_postgres_database(settings)


def at(hours: float) -> dt.datetime:
    return (timezone.now() + dt.timedelta(days=2)).replace(minute=0, second=0, microsecond=0) + dt.timedelta(
        hours=hours
    )


@pytest.mark.django_db
def test_the_exclusion_constraint_refuses_an_overlap_that_skips_the_service():
    # given
    existing = ShowtimeFactory(starts_at=at(0), ends_at=at(2))

    # when / then: written straight to the table, past the service's check
    with pytest.raises(IntegrityError, match=NO_OVERLAP_CONSTRAINT), transaction.atomic():
        ShowtimeFactory(screen=existing.screen, starts_at=at(1), ends_at=at(3))
    assert Showtime.objects.count() == 1


@pytest.mark.django_db
def test_the_constraint_ignores_cancelled_showtimes_and_touching_ends():
    existing = ShowtimeFactory(starts_at=at(0), ends_at=at(2))

    ShowtimeFactory(screen=existing.screen, starts_at=at(2), ends_at=at(4))
    ShowtimeFactory(screen=existing.screen, starts_at=at(1), ends_at=at(3), status="cancelled")

    assert Showtime.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_overlapping_showtimes_let_exactly_one_through():
    # given
    screen = ScreenFactory()
    movie = MovieFactory(duration_minutes=120)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def create(offset_minutes: int) -> None:
        try:
            barrier.wait(timeout=10)
            services.showtime_create(
                movie=movie,
                screen=screen,
                starts_at=at(0) + dt.timedelta(minutes=offset_minutes),
                prices={"standard": "10.00"},
                currency="GBP",
            )
            outcomes.append("created")
        except ValidationError as error:
            outcomes.append(next(iter(error.message_dict)))
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=create, args=(offset,)) for offset in (0, 10, 20, 30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then
    assert sorted(outcomes) == ["created", "starts_at", "starts_at", "starts_at"]
    assert Showtime.objects.count() == 1
    assert len(published()) == 1
