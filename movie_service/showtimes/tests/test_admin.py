"""The admin writes through the same services as the API (events, cache, overlap checks)."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from common.events import types
from common.events.testing import published
from movie_service.cinemas.layouts import generate_layout
from movie_service.cinemas.models import Cinema, Screen
from movie_service.cinemas.tests.factories import CinemaFactory, ScreenFactory
from movie_service.movies.tests.factories import MovieFactory
from movie_service.showtimes.models import Showtime
from movie_service.showtimes.tests.factories import ShowtimeFactory

pytestmark = pytest.mark.django_db


def upcoming(hours: int = 30) -> dt.datetime:
    return (timezone.now() + dt.timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)


def test_cancel_action_cancels_through_the_service(admin_client):
    # given
    scheduled = ShowtimeFactory(starts_at=upcoming())
    already = ShowtimeFactory(starts_at=upcoming(40), status="cancelled")

    # when
    response = admin_client.post(
        "/admin/movies/showtimes/showtime/",
        {"action": "cancel_showtimes", "_selected_action": [str(scheduled.id), str(already.id)]},
        follow=True,
    )

    # then
    assert response.status_code == 200
    scheduled.refresh_from_db()
    assert (scheduled.status, scheduled.version) == ("cancelled", 2)
    assert [(event["type"], event["data"]["showtime_id"]) for event in published()] == [
        (types.SHOWTIME_CANCELLED, str(scheduled.id))
    ]


def test_showtime_list_filters_render(admin_client):
    showtime = ShowtimeFactory(starts_at=upcoming())

    response = admin_client.get(
        "/admin/movies/showtimes/showtime/",
        {"status__exact": "scheduled", "when": "upcoming", "screen__cinema__id__exact": str(showtime.screen.cinema_id)},
    )

    assert response.status_code == 200
    assert showtime.movie.title in response.content.decode()


def test_adding_an_overlapping_showtime_shows_the_error_and_publishes_nothing(admin_client):
    # given
    existing = ShowtimeFactory(starts_at=upcoming(), movie__duration_minutes=120)
    starts = existing.starts_at + dt.timedelta(minutes=60)

    # when
    response = admin_client.post(
        "/admin/movies/showtimes/showtime/add/",
        {
            "movie": str(existing.movie_id),
            "screen": str(existing.screen_id),
            "starts_at_0": starts.strftime("%Y-%m-%d"),
            "starts_at_1": starts.strftime("%H:%M:%S"),
            "prices": json.dumps({"standard": "10.00"}),
            "currency": "GBP",
        },
    )

    # then
    assert response.status_code == 200
    assert "overlaps another scheduled showtime" in response.content.decode()
    assert Showtime.objects.count() == 1
    assert published() == []


def test_adding_a_showtime_publishes_it(admin_client):
    movie, screen = MovieFactory(), ScreenFactory()
    starts = upcoming()

    response = admin_client.post(
        "/admin/movies/showtimes/showtime/add/",
        {
            "movie": str(movie.id),
            "screen": str(screen.id),
            "starts_at_0": starts.strftime("%Y-%m-%d"),
            "starts_at_1": starts.strftime("%H:%M:%S"),
            "prices": json.dumps({"standard": "10"}),
            "currency": "GBP",
        },
    )

    assert response.status_code == 302
    showtime = Showtime.objects.get()
    assert showtime.prices == {"standard": "10.00"}
    assert [event["type"] for event in published()] == [types.SHOWTIME_PUBLISHED]


def test_screen_page_has_the_grid_editor(admin_client):
    screen = ScreenFactory()

    response = admin_client.get(f"/admin/movies/cinemas/screen/{screen.id}/change/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "seat-layout-editor" in content
    assert "gen-go" in content


def test_changing_a_layout_in_the_admin_republishes_upcoming_showtimes(admin_client):
    screen = ScreenFactory(layout=generate_layout(rows=2, seats_per_row=2))
    showtime = ShowtimeFactory(screen=screen, starts_at=upcoming())

    response = admin_client.post(
        f"/admin/movies/cinemas/screen/{screen.id}/change/",
        {
            "cinema": str(screen.cinema_id),
            "name": screen.name,
            "layout": json.dumps(generate_layout(rows=3, seats_per_row=3)),
        },
    )

    assert response.status_code == 302
    assert [(event["data"]["id"], len(event["data"]["seats"])) for event in published()] == [(str(showtime.id), 9)]


def test_cinema_admin_adds_a_screen_inline_from_the_generator(admin_client):
    cinema = CinemaFactory(name="Odeon", city="London", timezone="Europe/London")

    response = admin_client.post(
        f"/admin/movies/cinemas/cinema/{cinema.id}/change/",
        {
            "name": "Odeon",
            "city": "London",
            "address": "",
            "timezone": "Europe/London",
            "screens-TOTAL_FORMS": "1",
            "screens-INITIAL_FORMS": "0",
            "screens-MIN_NUM_FORMS": "0",
            "screens-MAX_NUM_FORMS": "1000",
            "screens-0-name": "Screen 9",
            "screens-0-rows": "3",
            "screens-0-seats_per_row": "5",
            "screens-0-category": "premium",
            "screens-0-cinema": str(cinema.id),
        },
    )

    assert response.status_code == 302, response.content.decode()[-2000:]
    screen = Screen.objects.get(cinema=cinema)
    assert (screen.name, screen.capacity, {seat["category"] for seat in screen.seats}) == ("Screen 9", 15, {"premium"})
    assert Cinema.objects.count() == 1


def test_renaming_a_movie_in_the_admin_republishes(admin_client):
    movie = MovieFactory(title="Old", duration_minutes=100)
    ShowtimeFactory(movie=movie, starts_at=upcoming())

    response = admin_client.post(
        f"/admin/movies/movies/movie/{movie.id}/change/",
        {"title": "New", "synopsis": "", "duration_minutes": "100", "age_rating": "PG", "poster_url": ""},
    )

    assert response.status_code == 302
    assert [event["data"]["movie_title"] for event in published()] == ["New"]


def change_form(showtime, **overrides):
    """What the admin's change page posts for ``showtime`` (its editable fields as they are)."""
    return {
        "movie": str(showtime.movie_id),
        "screen": str(showtime.screen_id),
        "starts_at_0": showtime.starts_at.strftime("%Y-%m-%d"),
        "starts_at_1": showtime.starts_at.strftime("%H:%M:%S"),
        "prices": json.dumps(showtime.prices),
        "currency": showtime.currency,
        **overrides,
    }


@pytest.mark.parametrize(
    ("status", "starts_in_hours"), [("cancelled", 30), ("scheduled", -1)], ids=["cancelled", "started"]
)
def test_saving_a_showtime_that_can_no_longer_change_changes_nothing_and_is_no_500(
    admin_client, status, starts_in_hours
):
    # given a showtime the service no longer lets change, its page showing it read-only
    showtime = ShowtimeFactory(starts_at=upcoming(starts_in_hours), status=status, prices={"standard": "10.00"})
    page = admin_client.get(f"/admin/movies/showtimes/showtime/{showtime.id}/change/")
    assert page.status_code == 200
    assert 'name="prices"' not in page.content.decode()

    # when staff press Save (a stale page still posting a new price)
    response = admin_client.post(
        f"/admin/movies/showtimes/showtime/{showtime.id}/change/",
        change_form(showtime, prices=json.dumps({"standard": "99.00"})),
    )

    # then it is refused, not reported as saved, and nothing changed or was published
    assert response.status_code == 403
    showtime.refresh_from_db()
    assert (showtime.prices, showtime.version) == ({"standard": "10.00"}, 1)
    assert published() == []


def test_saving_an_upcoming_showtime_unchanged_publishes_nothing(admin_client):
    showtime = ShowtimeFactory(starts_at=upcoming(), prices={"standard": "10.00"})

    response = admin_client.post(f"/admin/movies/showtimes/showtime/{showtime.id}/change/", change_form(showtime))

    assert response.status_code == 302
    showtime.refresh_from_db()
    assert showtime.version == 1
    assert published() == []


@pytest.mark.parametrize("currency", ["gbp", "EU"])
def test_a_currency_that_is_not_an_iso_code_is_a_form_error_not_a_500(admin_client, currency):
    movie, screen = MovieFactory(), ScreenFactory()
    starts = upcoming()

    response = admin_client.post(
        "/admin/movies/showtimes/showtime/add/",
        {
            "movie": str(movie.id),
            "screen": str(screen.id),
            "starts_at_0": starts.strftime("%Y-%m-%d"),
            "starts_at_1": starts.strftime("%H:%M:%S"),
            "prices": json.dumps({"standard": "10"}),
            "currency": currency,
        },
    )

    assert response.status_code == 200
    assert "An ISO 4217 code such as GBP." in response.content.decode()
    assert Showtime.objects.count() == 0
    assert published() == []


def test_a_longer_film_that_would_overlap_its_next_showtime_is_a_form_error_not_a_500(admin_client):
    # given two back-to-back showtimes of a 100-minute film on one screen
    movie = MovieFactory(title="Long", duration_minutes=100)
    first = ShowtimeFactory(movie=movie, starts_at=upcoming())
    ShowtimeFactory(movie=movie, screen=first.screen, starts_at=first.ends_at + dt.timedelta(minutes=5))

    # when staff make the film half an hour longer
    response = admin_client.post(
        f"/admin/movies/movies/movie/{movie.id}/change/",
        {"title": "Long", "synopsis": "", "duration_minutes": "130", "age_rating": "PG", "poster_url": ""},
    )

    # then the form says why, and nothing changed or was published
    assert response.status_code == 200
    assert "The longer film would overlap the next showtime" in response.content.decode()
    movie.refresh_from_db()
    assert movie.duration_minutes == 100
    assert published() == []
