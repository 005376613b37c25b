import datetime as dt
import itertools

import pytest
from django.core.management import call_command

from common.events import types
from common.events.envelope import validate_data
from common.events.testing import published
from movie_service.cinemas.models import Cinema, Screen
from movie_service.movies.models import Movie
from movie_service.movies.tests.factories import MovieFactory
from movie_service.showtimes.models import Showtime

pytestmark = pytest.mark.django_db


def test_seed_creates_the_catalogue_and_publishes_each_showtime():
    # when
    call_command("seed_catalogue", verbosity=0)

    # then
    assert Movie.objects.count() == 12
    assert sorted(Cinema.objects.values_list("city", "timezone")) == [
        ("Berlin", "Europe/Berlin"),
        ("London", "Europe/London"),
        ("New York", "America/New_York"),
    ]
    assert Screen.objects.count() == 7
    showtimes = Showtime.objects.count()
    assert showtimes > 7 * 6 * 2  # at least two shows a day on every screen for the days to come
    events = published()
    assert [event["type"] for event in events] == [types.SHOWTIME_PUBLISHED] * showtimes
    for event in events:
        validate_data(types.SHOWTIME_PUBLISHED, event["data"])
    assert {category for screen in Screen.objects.all() for category in {s["category"] for s in screen.seats}} == {
        "standard",
        "premium",
        "accessible",
        "vip",
    }


def test_seed_is_idempotent():
    call_command("seed_catalogue", verbosity=0)
    counts = (Movie.objects.count(), Screen.objects.count(), Showtime.objects.count(), len(published()))

    call_command("seed_catalogue", verbosity=0)

    assert (Movie.objects.count(), Screen.objects.count(), Showtime.objects.count(), len(published())) == counts


def test_seed_if_empty_leaves_an_existing_catalogue_alone():
    MovieFactory()

    call_command("seed_catalogue", "--if-empty", verbosity=0)

    assert Movie.objects.count() == 1
    assert not Showtime.objects.exists()


def test_seeded_showtimes_never_overlap_on_a_screen():
    call_command("seed_catalogue", "--days", "2", verbosity=0)

    for screen in Screen.objects.all():
        showtimes = list(screen.showtimes.order_by("starts_at"))
        for earlier, later in itertools.pairwise(showtimes):
            assert earlier.ends_at <= later.starts_at
        assert all(showtime.ends_at - showtime.starts_at > dt.timedelta(minutes=90) for showtime in showtimes)
