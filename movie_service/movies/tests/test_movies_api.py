import datetime as dt
import uuid

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from common.auth.testing import authenticated_client
from common.events import types
from common.events.envelope import validate_data
from common.events.testing import published
from movie_service.movies.models import Genre, Movie
from movie_service.movies.tests.factories import GenreFactory, MovieFactory
from movie_service.showtimes.tests.factories import ShowtimeFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/movies/"


def detail_url(movie_id) -> str:
    return f"/api/movies/{movie_id}/"


def titles(response) -> list[str]:
    return [movie["title"] for movie in response.json()["results"]]


def test_detail_body():
    # given
    drama = GenreFactory(name="Drama", slug="drama")
    movie = MovieFactory(
        title="Past Lives",
        synopsis="Two childhood friends meet again.",
        duration_minutes=106,
        age_rating="PG-13",
        release_date=dt.date(2023, 6, 2),
        poster_url="https://posters.example/past-lives.jpg",
        genres=[drama],
    )

    # when
    response = APIClient().get(detail_url(movie.id))

    # then
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": str(movie.id),
        "title": "Past Lives",
        "synopsis": "Two childhood friends meet again.",
        "duration_minutes": 106,
        "age_rating": "PG-13",
        "release_date": "2023-06-02",
        "poster_url": "https://posters.example/past-lives.jpg",
        "genres": [{"id": str(drama.id), "name": "Drama", "slug": "drama"}],
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }


def test_unknown_movie_is_404():
    assert APIClient().get(detail_url(uuid.uuid4())).status_code == 404


def test_search_matches_title_and_synopsis_case_insensitively():
    MovieFactory(title="Interstellar", synopsis="Explorers travel through a wormhole.")
    MovieFactory(title="Wormhole Diaries", synopsis="A documentary.")
    MovieFactory(title="Paddington", synopsis="A bear in London.")

    response = APIClient().get(LIST_URL, {"search": "WORMHOLE"})

    assert response.status_code == 200
    assert titles(response) == ["Interstellar", "Wormhole Diaries"]


@pytest.mark.parametrize("genre", ["science-fiction", "Science Fiction", "SCIENCE FICTION"])
def test_genre_filter_takes_a_slug_or_a_name(genre):
    scifi = GenreFactory(name="Science Fiction", slug="science-fiction")
    drama = GenreFactory(name="Drama", slug="drama")
    MovieFactory(title="Arrival", genres=[scifi, drama])
    MovieFactory(title="Dune", genres=[scifi])
    MovieFactory(title="Aftersun", genres=[drama])

    response = APIClient().get(LIST_URL, {"genre": genre})

    assert titles(response) == ["Arrival", "Dune"]


@pytest.mark.parametrize("parameter", ["genre", "search"])
def test_a_nul_character_in_a_query_parameter_is_a_400_naming_it(parameter):
    # PostgreSQL refuses NUL in a string, so an unvalidated parameter was a 500 (found by schemathesis).
    MovieFactory()

    response = APIClient().get(LIST_URL, {parameter: "drama\x00"})

    assert response.status_code == 400
    assert response.json() == {parameter: ["Null characters are not allowed."]}


def test_unknown_genre_gives_an_empty_page():
    MovieFactory()

    response = APIClient().get(LIST_URL, {"genre": "western"})

    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_pagination():
    for title in ["E", "D", "C", "B", "A"]:
        MovieFactory(title=title)

    first = APIClient().get(LIST_URL, {"page_size": 2})
    last = APIClient().get(LIST_URL, {"page_size": 2, "page": 3})

    assert first.json()["count"] == 5
    assert titles(first) == ["A", "B"]
    assert first.json()["next"] == "http://testserver/api/movies/?page=2&page_size=2"
    assert titles(last) == ["E"]
    assert last.json()["next"] is None


@pytest.mark.parametrize("page_size", [3, 15])
def test_list_query_count_is_constant(page_size, django_assert_num_queries):
    genres = [GenreFactory(), GenreFactory()]
    for _ in range(20):
        MovieFactory(genres=genres)

    # count, movies, their genres
    with django_assert_num_queries(3):
        response = APIClient().get(LIST_URL, {"page_size": page_size})

    assert len(response.json()["results"]) == page_size


def test_staff_creates_a_movie_with_new_and_existing_genres():
    # given
    GenreFactory(name="Drama", slug="drama")
    staff = authenticated_client(is_staff=True)

    # when
    response = staff.post(
        LIST_URL,
        {"title": "Anatomy of a Fall", "duration_minutes": 151, "age_rating": "R", "genres": ["drama", "Mystery"]},
        format="json",
    )

    # then
    assert response.status_code == 201, response.json()
    movie = Movie.objects.get()
    assert response.json()["id"] == str(movie.id)
    assert sorted(movie.genres.values_list("slug", flat=True)) == ["drama", "mystery"]
    assert Genre.objects.count() == 2
    assert published() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"duration_minutes": 100}, "title"),
        ({"title": "X", "duration_minutes": 0}, "duration_minutes"),
        ({"title": "X", "duration_minutes": "long"}, "duration_minutes"),
        ({"title": "X", "duration_minutes": 90, "age_rating": "18+"}, "age_rating"),
        ({"title": "X", "duration_minutes": 90, "release_date": "soon"}, "release_date"),
        ({"title": "X", "duration_minutes": 90, "poster_url": "not a url"}, "poster_url"),
    ],
)
def test_invalid_movie_is_400_naming_the_field(body, field):
    response = authenticated_client(is_staff=True).post(LIST_URL, body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Movie.objects.exists()


def test_non_staff_cannot_write():
    movie = MovieFactory(title="Old")
    user = authenticated_client()

    statuses = [
        user.post(LIST_URL, {"title": "New", "duration_minutes": 90}, format="json").status_code,
        user.patch(detail_url(movie.id), {"title": "New"}, format="json").status_code,
        user.delete(detail_url(movie.id)).status_code,
        APIClient().patch(detail_url(movie.id), {"title": "New"}, format="json").status_code,
    ]

    assert statuses == [403, 403, 403, 401]
    assert list(Movie.objects.values_list("title", flat=True)) == ["Old"]
    assert published() == []


def test_renaming_a_movie_republishes_each_upcoming_showtime_once():
    # given
    movie = MovieFactory(title="Dune", duration_minutes=155)
    soon = timezone.now() + dt.timedelta(days=1)
    upcoming = [
        ShowtimeFactory(movie=movie, starts_at=soon, version=1),
        ShowtimeFactory(movie=movie, starts_at=soon + dt.timedelta(days=1), version=4),
    ]
    ShowtimeFactory(movie=movie, starts_at=timezone.now() - dt.timedelta(days=1))  # past
    ShowtimeFactory(movie=movie, starts_at=soon, status="cancelled")  # cancelled
    ShowtimeFactory(starts_at=soon)  # another movie

    # when
    response = authenticated_client(is_staff=True).patch(
        detail_url(movie.id), {"title": "Dune: Part One"}, format="json"
    )

    # then
    assert response.status_code == 200
    events = published()
    assert [event["type"] for event in events] == [types.SHOWTIME_PUBLISHED] * 2
    assert {(event["data"]["id"], event["data"]["version"]) for event in events} == {
        (str(upcoming[0].id), 2),
        (str(upcoming[1].id), 5),
    }
    for event in events:
        validate_data(types.SHOWTIME_PUBLISHED, event["data"])
        assert event["data"]["movie_title"] == "Dune: Part One"


def test_a_change_to_a_field_bookings_ignore_publishes_nothing():
    movie = MovieFactory(synopsis="Old")
    ShowtimeFactory(movie=movie, starts_at=timezone.now() + dt.timedelta(days=1))

    response = authenticated_client(is_staff=True).patch(detail_url(movie.id), {"synopsis": "New"}, format="json")

    assert response.status_code == 200
    assert published() == []


def test_a_longer_duration_moves_the_ends_and_republishes():
    movie = MovieFactory(duration_minutes=100)
    starts = (timezone.now() + dt.timedelta(days=1)).replace(microsecond=0)
    showtime = ShowtimeFactory(movie=movie, starts_at=starts, ends_at=starts + dt.timedelta(minutes=115))

    response = authenticated_client(is_staff=True).patch(detail_url(movie.id), {"duration_minutes": 110}, format="json")

    assert response.status_code == 200
    showtime.refresh_from_db()
    assert (showtime.ends_at, showtime.version) == (starts + dt.timedelta(minutes=125), 2)
    assert len(published(types.SHOWTIME_PUBLISHED)) == 1


def test_a_longer_duration_that_would_overlap_is_400_and_changes_nothing():
    # given: two back-to-back showtimes on one screen
    movie = MovieFactory(duration_minutes=100)
    starts = (timezone.now() + dt.timedelta(days=1)).replace(microsecond=0)
    first = ShowtimeFactory(movie=movie, starts_at=starts, ends_at=starts + dt.timedelta(minutes=115))
    ShowtimeFactory(screen=first.screen, starts_at=starts + dt.timedelta(minutes=115))

    # when
    response = authenticated_client(is_staff=True).patch(detail_url(movie.id), {"duration_minutes": 130}, format="json")

    # then
    assert response.status_code == 400
    assert list(response.json()) == ["duration_minutes"]
    movie.refresh_from_db()
    first.refresh_from_db()
    assert (movie.duration_minutes, first.version) == (100, 1)
    assert published() == []


def test_a_movie_with_showtimes_cannot_be_deleted():
    movie = MovieFactory()
    ShowtimeFactory(movie=movie)

    response = authenticated_client(is_staff=True).delete(detail_url(movie.id))

    assert response.status_code == 409
    assert Movie.objects.filter(pk=movie.pk).exists()


def test_staff_deletes_a_movie_without_showtimes():
    movie = MovieFactory()

    response = authenticated_client(is_staff=True).delete(detail_url(movie.id))

    assert response.status_code == 204
    assert not Movie.objects.exists()


def test_cinemas_path_is_not_taken_for_a_movie_id():
    assert APIClient().get("/api/movies/cinemas/").status_code == 200
    assert APIClient().get("/api/movies/not-a-uuid/").status_code == 404


def test_a_genre_name_without_letters_or_digits_is_refused():
    staff = authenticated_client(is_staff=True)

    response = staff.post(
        LIST_URL, {"title": "Untitled", "duration_minutes": 90, "age_rating": "PG", "genres": ["!!!"]}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"genres": ["Genre names need a letter or digit: '!!!'."]}
    assert Movie.objects.count() == 0
    assert Genre.objects.count() == 0


def test_the_schema_describes_what_writes_answer():
    schema = APIClient().get("/api/movies/schema/", {"format": "json"}).json()

    create = schema["paths"]["/api/movies/"]["post"]
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Movie"}
    genres = schema["components"]["schemas"]["Movie"]["properties"]["genres"]
    assert genres["items"] == {"$ref": "#/components/schemas/Genre"}


@pytest.mark.parametrize(
    ("route", "method", "conflicts"),
    [
        ("/api/movies/{id}/", "delete", True),
        ("/api/movies/cinemas/{id}/", "delete", True),
        ("/api/movies/showtimes/{id}/", "put", True),
        ("/api/movies/showtimes/{id}/cancel/", "post", True),
        ("/api/movies/{id}/", "put", False),
        ("/api/movies/", "post", False),
    ],
)
def test_the_schema_names_the_writes_that_may_conflict(route, method, conflicts):
    schema = APIClient().get("/api/movies/schema/", {"format": "json"}).json()

    responses = schema["paths"][route][method]["responses"]
    assert ("409" in responses) is conflicts
    assert {"401", "403", "503"} <= set(responses)
