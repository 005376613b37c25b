import datetime as dt
import uuid

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from common.auth.testing import authenticated_client
from common.events import types
from common.events.testing import published
from movie_service.cinemas.layouts import generate_layout
from movie_service.cinemas.models import Cinema, Screen
from movie_service.cinemas.tests.factories import CinemaFactory, ScreenFactory, small_layout
from movie_service.showtimes.tests.factories import ShowtimeFactory

pytestmark = pytest.mark.django_db

CINEMAS = "/api/movies/cinemas/"
SCREENS = "/api/movies/screens/"


def test_cinema_detail_has_screens_with_layouts_and_seats():
    # given
    cinema = CinemaFactory(name="Odeon", city="London", address="1 Leicester Sq", timezone="Europe/London")
    screen = ScreenFactory(cinema=cinema, name="Screen 1", layout=small_layout())

    # when
    response = APIClient().get(f"{CINEMAS}{cinema.id}/")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "id": str(cinema.id),
        "name": "Odeon",
        "city": "London",
        "address": "1 Leicester Sq",
        "timezone": "Europe/London",
        "screens": [
            {
                "id": str(screen.id),
                "cinema_id": str(cinema.id),
                "name": "Screen 1",
                "capacity": 4,
                "layout": small_layout(),
                "seats": [
                    {"label": "A1", "category": "accessible"},
                    {"label": "A2", "category": "standard"},
                    {"label": "B1", "category": "premium"},
                    {"label": "B2", "category": "premium"},
                ],
            }
        ],
    }


def test_cinema_list_summarises_screens():
    cinema = CinemaFactory(name="Odeon")
    screen = ScreenFactory(cinema=cinema, name="Screen 1", layout=generate_layout(rows=3, seats_per_row=4))

    response = APIClient().get(CINEMAS)

    assert response.json()["results"][0]["screens"] == [{"id": str(screen.id), "name": "Screen 1", "capacity": 12}]


def test_cinema_list_filters_by_city():
    CinemaFactory(name="Odeon", city="London")
    CinemaFactory(name="Zoo Palast", city="Berlin")

    response = APIClient().get(CINEMAS, {"city": "berlin"})

    assert [cinema["name"] for cinema in response.json()["results"]] == ["Zoo Palast"]


def test_a_nul_character_in_the_city_is_a_400_naming_it():
    # PostgreSQL refuses NUL in a string, so the raw parameter was a 500 (found by schemathesis).
    CinemaFactory(city="Berlin")

    response = APIClient().get(CINEMAS, {"city": "\x00Berlin"})

    assert response.status_code == 400
    assert response.json() == {"city": ["Null characters are not allowed."]}


@pytest.mark.parametrize("page_size", [2, 10])
def test_cinema_list_query_count_is_constant(page_size, django_assert_num_queries):
    for _ in range(12):
        ScreenFactory.create_batch(2, cinema=CinemaFactory())

    # count, cinemas, their screens
    with django_assert_num_queries(3):
        response = APIClient().get(CINEMAS, {"page_size": page_size})

    assert len(response.json()["results"]) == page_size


@pytest.mark.parametrize("page_size", [2, 10])
def test_screen_list_query_count_is_constant(page_size, django_assert_num_queries):
    ScreenFactory.create_batch(12)

    with django_assert_num_queries(2):
        response = APIClient().get(SCREENS, {"page_size": page_size})

    assert len(response.json()["results"]) == page_size


def test_staff_creates_a_cinema_and_a_screen():
    staff = authenticated_client(is_staff=True)

    cinema = staff.post(
        CINEMAS, {"name": "Kino", "city": "Berlin", "timezone": "Europe/Berlin", "address": "Str. 1"}, format="json"
    )
    screen = staff.post(
        SCREENS, {"cinema_id": cinema.json()["id"], "name": "Saal 1", "layout": small_layout()}, format="json"
    )

    assert (cinema.status_code, screen.status_code) == (201, 201)
    assert Cinema.objects.get().timezone == "Europe/Berlin"
    assert Screen.objects.get().layout == small_layout()
    assert screen.json()["capacity"] == 4


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Kino", "city": "Berlin", "timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "Kino", "timezone": "Europe/Berlin"}, "city"),
    ],
)
def test_invalid_cinema_is_400_naming_the_field(body, field):
    response = authenticated_client(is_staff=True).post(CINEMAS, body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Cinema.objects.exists()


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ("rows", "A layout is a non-empty list of rows."),
        ([{"row": "A", "seats": [{"number": 1, "category": "gold"}]}], "Row A: unknown seat category 'gold'"),
    ],
)
def test_invalid_layout_is_400_on_layout(layout, message):
    cinema = CinemaFactory()

    response = authenticated_client(is_staff=True).post(
        SCREENS, {"cinema_id": str(cinema.id), "name": "S", "layout": layout}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["layout"]
    assert response.json()["layout"][0].startswith(message)
    assert not Screen.objects.exists()


def test_duplicate_screen_name_in_one_cinema_is_400():
    screen = ScreenFactory(name="Screen 1")

    response = authenticated_client(is_staff=True).post(
        SCREENS, {"cinema_id": str(screen.cinema_id), "name": "Screen 1", "layout": small_layout()}, format="json"
    )

    assert response.status_code == 400
    assert Screen.objects.count() == 1


def test_non_staff_cannot_write():
    cinema = CinemaFactory(name="Odeon")
    user = authenticated_client()

    statuses = [
        user.post(CINEMAS, {"name": "K", "city": "B", "timezone": "Europe/Berlin"}, format="json").status_code,
        user.patch(f"{CINEMAS}{cinema.id}/", {"name": "New"}, format="json").status_code,
        user.post(SCREENS, {"cinema_id": str(cinema.id), "name": "S", "layout": small_layout()}).status_code,
    ]

    assert statuses == [403, 403, 403]
    assert list(Cinema.objects.values_list("name", flat=True)) == ["Odeon"]
    assert not Screen.objects.exists()


def test_renaming_a_cinema_republishes_its_upcoming_showtimes():
    cinema = CinemaFactory(name="Odeon")
    showtime = ShowtimeFactory(screen__cinema=cinema, starts_at=timezone.now() + dt.timedelta(days=1))
    ShowtimeFactory(starts_at=timezone.now() + dt.timedelta(days=1))  # elsewhere

    response = authenticated_client(is_staff=True).patch(
        f"{CINEMAS}{cinema.id}/", {"name": "Odeon Luxe"}, format="json"
    )

    assert response.status_code == 200
    events = published()
    assert [(event["type"], event["data"]["id"], event["data"]["cinema_name"]) for event in events] == [
        (types.SHOWTIME_PUBLISHED, str(showtime.id), "Odeon Luxe")
    ]


def test_a_new_layout_republishes_and_needs_prices_for_its_categories():
    # given: showtimes priced for standard seats only
    screen = ScreenFactory(layout=generate_layout(rows=2, seats_per_row=2))
    showtime = ShowtimeFactory(screen=screen, starts_at=timezone.now() + dt.timedelta(days=1))
    staff = authenticated_client(is_staff=True)

    # when
    refused = staff.patch(f"{SCREENS}{screen.id}/", {"layout": small_layout()}, format="json")
    accepted = staff.patch(
        f"{SCREENS}{screen.id}/", {"layout": generate_layout(rows=3, seats_per_row=2)}, format="json"
    )

    # then
    assert refused.status_code == 400
    assert list(refused.json()) == ["layout"]
    assert accepted.status_code == 200
    events = published()
    assert [(event["data"]["id"], len(event["data"]["seats"]), event["data"]["version"]) for event in events] == [
        (str(showtime.id), 6, 2)
    ]


def test_unknown_cinema_is_404():
    assert APIClient().get(f"{CINEMAS}{uuid.uuid4()}/").status_code == 404
