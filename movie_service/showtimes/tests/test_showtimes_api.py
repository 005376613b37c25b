import datetime as dt
import uuid

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from common.auth.testing import authenticated_client
from common.events import types
from common.events.envelope import validate_data
from common.events.testing import published
from movie_service.cinemas.tests.factories import CinemaFactory, ScreenFactory, small_layout
from movie_service.movies.tests.factories import MovieFactory
from movie_service.showtimes.models import Showtime
from movie_service.showtimes.tests.factories import ShowtimeFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/movies/showtimes/"
UTC = dt.UTC


def detail_url(showtime_id) -> str:
    return f"/api/movies/showtimes/{showtime_id}/"


def future(hours: int = 48) -> dt.datetime:
    return (timezone.now() + dt.timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)


def iso(value: dt.datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def staff():
    return authenticated_client(is_staff=True)


@pytest.fixture
def screen():
    return ScreenFactory(name="Screen 1", layout=small_layout(), cinema__name="Odeon", cinema__city="London")


# --- reads -------------------------------------------------------------------------------------


def test_detail_has_exactly_the_contract_fields():
    # given
    starts = dt.datetime(2030, 5, 1, 18, 0, tzinfo=UTC)
    showtime = ShowtimeFactory(
        movie__title="Dune",
        movie__duration_minutes=155,
        screen__name="Screen 1",
        screen__layout=small_layout(),
        screen__cinema__name="Odeon",
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=170),
        prices={"standard": "10", "premium": "14.5", "accessible": "8.00"},
    )

    # when
    response = APIClient().get(detail_url(showtime.id))

    # then
    assert response.status_code == 200
    assert response.json() == {
        "id": str(showtime.id),
        "movie_id": str(showtime.movie_id),
        "movie_title": "Dune",
        "cinema_id": str(showtime.screen.cinema_id),
        "cinema_name": "Odeon",
        "screen_name": "Screen 1",
        "starts_at": "2030-05-01T18:00:00Z",
        "ends_at": "2030-05-01T20:50:00Z",
        "status": "scheduled",
        "currency": "GBP",
        "prices": {"accessible": "8.00", "premium": "14.50", "standard": "10.00"},
        "seats": [
            {"label": "A1", "category": "accessible"},
            {"label": "A2", "category": "standard"},
            {"label": "B1", "category": "premium"},
            {"label": "B2", "category": "premium"},
        ],
    }


def test_unknown_showtime_is_404():
    response = APIClient().get(detail_url(uuid.uuid4()))

    assert response.status_code == 404
    assert response.json() == {"detail": "No Showtime matches the given query."}


def test_list_filters_by_movie_and_cinema():
    # given
    dune, alien = MovieFactory(title="Dune"), MovieFactory(title="Alien")
    odeon, vue = CinemaFactory(name="Odeon"), CinemaFactory(name="Vue")
    wanted = ShowtimeFactory(movie=dune, screen__cinema=odeon, starts_at=future(24))
    ShowtimeFactory(movie=dune, screen__cinema=vue, starts_at=future(25))
    ShowtimeFactory(movie=alien, screen__cinema=odeon, starts_at=future(26))

    # when
    response = APIClient().get(LIST_URL, {"movie": str(dune.id), "cinema": str(odeon.id)})

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [item["id"] for item in body["results"]] == [str(wanted.id)]
    assert "seats" not in body["results"][0]


def test_date_is_the_cinemas_local_date():
    # given
    new_york = CinemaFactory(name="NY", city="New York", timezone="America/New_York")
    london = CinemaFactory(name="London", city="London", timezone="Europe/London")
    # 23:30 on 1 May in New York (EDT, UTC-4) is 03:30 on 2 May in UTC
    ny_late_1_may = ShowtimeFactory(screen__cinema=new_york, starts_at=dt.datetime(2030, 5, 2, 3, 30, tzinfo=UTC))
    # 00:00 on 2 May in New York
    ny_midnight_2_may = ShowtimeFactory(screen__cinema=new_york, starts_at=dt.datetime(2030, 5, 2, 4, 0, tzinfo=UTC))
    # 23:59 on 1 May in London (BST, UTC+1) is 22:59 UTC; 00:30 on 2 May in London is 23:30 on 1 May in UTC
    london_late_1_may = ShowtimeFactory(screen__cinema=london, starts_at=dt.datetime(2030, 5, 1, 22, 59, tzinfo=UTC))
    london_early_2_may = ShowtimeFactory(screen__cinema=london, starts_at=dt.datetime(2030, 5, 1, 23, 30, tzinfo=UTC))

    # when
    first = APIClient().get(LIST_URL, {"date": "2030-05-01"})
    second = APIClient().get(LIST_URL, {"date": "2030-05-02"})

    # then
    assert [item["id"] for item in first.json()["results"]] == [str(london_late_1_may.id), str(ny_late_1_may.id)]
    assert [item["id"] for item in second.json()["results"]] == [
        str(london_early_2_may.id),
        str(ny_midnight_2_may.id),
    ]


def test_date_and_cinema_filters_combine():
    new_york = CinemaFactory(timezone="America/New_York")
    other = CinemaFactory(timezone="America/New_York")
    wanted = ShowtimeFactory(screen__cinema=new_york, starts_at=dt.datetime(2030, 5, 2, 3, 30, tzinfo=UTC))
    ShowtimeFactory(screen__cinema=other, starts_at=dt.datetime(2030, 5, 2, 3, 30, tzinfo=UTC))

    response = APIClient().get(LIST_URL, {"date": "2030-05-01", "cinema": str(new_york.id)})

    assert [item["id"] for item in response.json()["results"]] == [str(wanted.id)]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"date": "01/05/2030"}, "date"), ({"movie": "nope"}, "movie"), ({"cinema": "1"}, "cinema")],
)
def test_bad_filters_are_400_naming_the_field(params, field):
    response = APIClient().get(LIST_URL, params)

    assert response.status_code == 400
    assert list(response.json()) == [field]


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31"])
def test_the_first_and_last_dates_are_400_not_an_overflow(date):
    CinemaFactory(timezone="Asia/Tokyo")
    CinemaFactory(timezone="America/Los_Angeles")

    response = APIClient().get(LIST_URL, {"date": date})

    assert response.status_code == 400
    assert list(response.json()) == ["date"]


@pytest.mark.parametrize("page_size", [2, 10])
def test_list_query_count_is_constant(page_size, django_assert_num_queries):
    # given
    for hour in range(12):
        ShowtimeFactory(starts_at=future(24 + hour))

    # when: count, rows (with movie, screen and cinema joined), time zones for the date filter
    with django_assert_num_queries(3):
        response = APIClient().get(LIST_URL, {"page_size": page_size, "date": str(future(24).date())})

    # then
    assert response.status_code == 200
    assert len(response.json()["results"]) == min(page_size, response.json()["count"])


def test_list_is_paginated_in_start_order():
    showtimes = [ShowtimeFactory(starts_at=future(24 + hour)) for hour in (3, 1, 2)]

    response = APIClient().get(LIST_URL, {"page_size": 2})

    body = response.json()
    assert body["count"] == 3
    assert body["next"] == "http://testserver/api/movies/showtimes/?page=2&page_size=2"
    assert body["previous"] is None
    ordered = sorted(showtimes, key=lambda showtime: showtime.starts_at)
    assert [item["id"] for item in body["results"]] == [str(s.id) for s in ordered[:2]]


# --- writes ------------------------------------------------------------------------------------


def create_body(movie, screen, start, **overrides):
    return {
        "movie_id": str(movie.id),
        "screen_id": str(screen.id),
        "starts_at": iso(start),
        "prices": {"standard": "11.00", "premium": "15.00", "accessible": "9.00"},
        "currency": "GBP",
        **overrides,
    }


def test_staff_creates_a_showtime_and_one_event_is_published(staff, screen, settings):
    # given
    settings.SHOWTIME_CLEANING_BUFFER_MINUTES = 20
    movie = MovieFactory(title="Dune", duration_minutes=155)
    starts = future()

    # when
    response = staff.post(LIST_URL, create_body(movie, screen, starts), format="json")

    # then
    assert response.status_code == 201, response.json()
    showtime = Showtime.objects.get()
    assert showtime.ends_at == starts + dt.timedelta(minutes=175)
    assert showtime.version == 1
    assert response.json()["id"] == str(showtime.id)
    assert response.json()["ends_at"] == iso(starts + dt.timedelta(minutes=175))
    events = published()
    assert [event["type"] for event in events] == [types.SHOWTIME_PUBLISHED]
    data = events[0]["data"]
    validate_data(types.SHOWTIME_PUBLISHED, data)
    assert {key: data[key] for key in response.json()} == response.json()
    assert data["version"] == 1
    assert data["cinema_timezone"] == "Europe/London"
    assert data["cinema_city"] == "London"
    assert events[0]["producer"] == "movie"


def test_the_largest_showtime_a_screen_allows_is_published_whatever_the_script_of_its_names(staff):
    # given a screen of the most seats with the longest labels, and every name at its longest
    # in characters sent as 12 bytes each (the event is JSON with \\u escapes)
    import zoneinfo

    longest = "\N{CLAPPER BOARD}"
    rows = [chr(ord("A") + index) for index in range(26)] + ["AA", "AB", "AC", "AD"]
    layout = [{"row": row, "seats": [{"number": n, "category": "accessible"} for n in range(95, 100)]} for row in rows]
    cinema = CinemaFactory(
        name=longest * 200, city=longest * 100, timezone=max(zoneinfo.available_timezones(), key=len)
    )
    screen = ScreenFactory(cinema=cinema, name=longest * 100, layout=layout)
    movie = MovieFactory(title=longest * 200)

    # when staff schedule it, and rename its cinema afterwards (which republishes it)
    response = staff.post(
        LIST_URL, create_body(movie, screen, future(), prices={"accessible": "999999.99"}), format="json"
    )
    renamed = staff.patch(f"/api/movies/cinemas/{cinema.id}/", {"name": "\N{FILM FRAMES}" * 200}, format="json")

    # then both are published, each snapshot with its 150 seats
    assert (response.status_code, renamed.status_code) == (201, 200), (response.content, renamed.content)
    assert [len(event["data"]["seats"]) for event in published(types.SHOWTIME_PUBLISHED)] == [150, 150]


def test_overlapping_showtime_is_400_and_nothing_is_published(staff, screen):
    # given: 120 min + 15 min buffer from 18:00 → 20:15
    movie = MovieFactory(duration_minutes=120)
    starts = future()
    existing = ShowtimeFactory(movie=movie, screen=screen, starts_at=starts, ends_at=starts + dt.timedelta(minutes=135))

    # when: 20:00 starts before the screen is free
    response = staff.post(LIST_URL, create_body(movie, screen, starts + dt.timedelta(minutes=120)), format="json")

    # then
    assert response.status_code == 400
    assert list(response.json()) == ["starts_at"]
    assert "overlaps" in response.json()["starts_at"][0]
    assert list(Showtime.objects.all()) == [existing]
    assert published() == []


def test_back_to_back_showtimes_are_allowed(staff, screen):
    movie = MovieFactory(duration_minutes=120)
    starts = future()
    ShowtimeFactory(movie=movie, screen=screen, starts_at=starts, ends_at=starts + dt.timedelta(minutes=135))

    response = staff.post(LIST_URL, create_body(movie, screen, starts + dt.timedelta(minutes=135)), format="json")

    assert response.status_code == 201


def test_a_cancelled_showtime_frees_the_screen(staff, screen):
    movie = MovieFactory(duration_minutes=120)
    starts = future()
    ShowtimeFactory(
        movie=movie, screen=screen, starts_at=starts, ends_at=starts + dt.timedelta(minutes=135), status="cancelled"
    )

    response = staff.post(LIST_URL, create_body(movie, screen, starts), format="json")

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"starts_at": "2001-01-01T10:00:00Z"}, "starts_at"),
        ({"starts_at": "9999-12-31T23:00:00Z"}, "starts_at"),
        ({"prices": {"standard": "11.00"}}, "prices"),
        ({"prices": {"standard": "-1", "premium": "1", "accessible": "1"}}, "prices"),
        ({"prices": {"standard": "1", "premium": "1", "accessible": "1", "vip": "1"}}, "prices"),
        ({"currency": "pounds"}, "currency"),
        # The payment service charges yen in whole yen: a price it could not charge is refused here.
        ({"currency": "JPY", "prices": {"standard": "1500.50", "premium": "1", "accessible": "1"}}, "prices"),
        ({"movie_id": str(uuid.uuid4())}, "movie_id"),
        ({"screen_id": "x"}, "screen_id"),
    ],
)
def test_invalid_showtime_is_400_naming_the_field(staff, screen, overrides, field):
    movie = MovieFactory()

    response = staff.post(LIST_URL, create_body(movie, screen, future(), **overrides), format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Showtime.objects.exists()
    assert published() == []


def test_non_staff_cannot_write(screen):
    # given
    movie = MovieFactory()
    showtime = ShowtimeFactory(screen=screen, prices={"standard": "1", "premium": "1", "accessible": "1"})
    user = authenticated_client()

    # when
    responses = [
        user.post(LIST_URL, create_body(movie, screen, future(100)), format="json"),
        user.patch(detail_url(showtime.id), {"currency": "EUR"}, format="json"),
        user.post(f"{detail_url(showtime.id)}cancel/", {}, format="json"),
        user.delete(detail_url(showtime.id)),
    ]
    anonymous = APIClient().post(LIST_URL, create_body(movie, screen, future(100)), format="json")

    # then
    assert [response.status_code for response in responses] == [403, 403, 403, 403]
    assert responses[0].json() == {"detail": "Staff only."}
    assert anonymous.status_code == 401
    showtime.refresh_from_db()
    assert (Showtime.objects.count(), showtime.status, showtime.currency, showtime.version) == (
        1,
        "scheduled",
        "GBP",
        1,
    )
    assert published() == []


def test_changing_prices_bumps_the_version_and_publishes_once(staff, screen):
    # given
    showtime = ShowtimeFactory(
        screen=screen, starts_at=future(), prices={"standard": "10.00", "premium": "12.00", "accessible": "8.00"}
    )

    # when
    response = staff.patch(
        detail_url(showtime.id), {"prices": {"standard": "11", "premium": "13", "accessible": "9"}}, format="json"
    )

    # then
    assert response.status_code == 200, response.json()
    assert response.json()["prices"] == {"accessible": "9.00", "premium": "13.00", "standard": "11.00"}
    showtime.refresh_from_db()
    assert showtime.version == 2
    events = published()
    assert [event["type"] for event in events] == [types.SHOWTIME_PUBLISHED]
    assert events[0]["data"]["version"] == 2
    assert events[0]["data"]["prices"] == {"accessible": "9.00", "premium": "13.00", "standard": "11.00"}


def test_moving_a_showtime_recomputes_its_end(staff, screen):
    showtime = ShowtimeFactory(
        screen=screen,
        movie__duration_minutes=100,
        starts_at=future(),
        prices={"standard": "10.00", "premium": "12.00", "accessible": "8.00"},
    )
    later = showtime.starts_at + dt.timedelta(hours=3)

    response = staff.patch(detail_url(showtime.id), {"starts_at": iso(later)}, format="json")

    assert response.status_code == 200
    assert response.json()["ends_at"] == iso(later + dt.timedelta(minutes=115))
    assert [event["data"]["starts_at"] for event in published()] == [iso(later)]


def test_a_zero_decimal_currency_takes_whole_amounts_and_keeps_them_on_a_change(staff, screen):
    movie = MovieFactory()
    body = create_body(
        movie, screen, future(), currency="JPY", prices={"standard": "1500", "premium": "1800", "accessible": "1200"}
    )

    created = staff.post(LIST_URL, body, format="json")
    changed_to_euros = staff.patch(detail_url(created.json()["id"]), {"currency": "EUR"}, format="json")

    assert created.status_code == 201, created.json()
    assert changed_to_euros.status_code == 200
    cents = ShowtimeFactory(
        screen=ScreenFactory(layout=small_layout()),
        starts_at=future(),
        currency="EUR",
        prices={"standard": "10.50", "premium": "12.00", "accessible": "8.00"},
    )
    refused = staff.patch(detail_url(cents.id), {"currency": "JPY"}, format="json")
    assert refused.status_code == 400  # its prices (x.50) are not whole yen
    assert list(refused.json()) == ["prices"]


def test_an_update_that_changes_nothing_publishes_nothing(staff, screen):
    prices = {"accessible": "8.00", "premium": "12.00", "standard": "10.00"}
    showtime = ShowtimeFactory(screen=screen, starts_at=future(), prices=prices)

    response = staff.patch(detail_url(showtime.id), {"prices": prices, "currency": "GBP"}, format="json")

    assert response.status_code == 200
    showtime.refresh_from_db()
    assert showtime.version == 1
    assert published() == []


def test_cancel_publishes_one_cancelled_event(staff, screen):
    # given
    showtime = ShowtimeFactory(screen=screen, starts_at=future(), version=3)

    # when
    response = staff.post(f"{detail_url(showtime.id)}cancel/", {"reason": "Projector broken"}, format="json")

    # then
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    showtime.refresh_from_db()
    assert (showtime.status, showtime.cancel_reason, showtime.version) == ("cancelled", "Projector broken", 4)
    events = published()
    assert [event["type"] for event in events] == [types.SHOWTIME_CANCELLED]
    assert events[0]["data"] == {"showtime_id": str(showtime.id), "reason": "Projector broken", "version": 4}
    validate_data(types.SHOWTIME_CANCELLED, events[0]["data"])


def test_cancel_without_reason_uses_the_default(staff, screen):
    showtime = ShowtimeFactory(screen=screen, starts_at=future())

    response = staff.post(f"{detail_url(showtime.id)}cancel/", format="json")

    assert response.status_code == 200
    assert published()[0]["data"]["reason"] == "Cancelled by the cinema."


def test_cancelling_twice_is_409_and_publishes_nothing_more(staff, screen):
    showtime = ShowtimeFactory(screen=screen, starts_at=future(), status="cancelled", version=2)

    response = staff.post(f"{detail_url(showtime.id)}cancel/", {}, format="json")

    assert response.status_code == 409
    assert response.json() == {"detail": "This showtime is already cancelled."}
    showtime.refresh_from_db()
    assert showtime.version == 2
    assert published() == []


def test_a_cancelled_showtime_cannot_be_changed(staff, screen):
    showtime = ShowtimeFactory(screen=screen, starts_at=future(), status="cancelled")

    response = staff.patch(detail_url(showtime.id), {"currency": "EUR"}, format="json")

    assert response.status_code == 409
    assert published() == []


def test_delete_needs_a_cancelled_showtime(staff, screen):
    scheduled = ShowtimeFactory(screen=screen, starts_at=future())
    cancelled = ShowtimeFactory(screen=screen, starts_at=future(100), status="cancelled")

    refused = staff.delete(detail_url(scheduled.id))
    deleted = staff.delete(detail_url(cancelled.id))

    assert (refused.status_code, deleted.status_code) == (409, 204)
    assert list(Showtime.objects.all()) == [scheduled]
    assert published() == []


def test_status_filter():
    ShowtimeFactory(starts_at=future(24))
    cancelled = ShowtimeFactory(starts_at=future(30), status="cancelled")

    response = APIClient().get(LIST_URL, {"status": "cancelled"})

    assert [item["id"] for item in response.json()["results"]] == [str(cancelled.id)]


def test_a_bad_token_is_401_even_on_a_public_read():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = client.get(LIST_URL)

    assert response.status_code == 401


def test_a_started_showtime_cannot_be_changed(staff, screen):
    showtime = ShowtimeFactory(screen=screen, starts_at=timezone.now() - dt.timedelta(minutes=5))

    response = staff.patch(detail_url(showtime.id), {"currency": "EUR"}, format="json")

    assert response.status_code == 409
    assert response.json() == {"detail": "This showtime has already started; it can no longer be changed."}
    assert published() == []
