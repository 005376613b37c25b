"""Reads are served from the cache, a staff change is visible at once, and no cache is no outage."""

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from common.auth.testing import authenticated_client
from movie_service.cinemas.tests.factories import CinemaFactory
from movie_service.movies.tests.factories import MovieFactory
from movie_service.showtimes.tests.factories import ShowtimeFactory

pytestmark = pytest.mark.django_db


def redis_caches(url: str, prefix: str = "movie-test-cache") -> dict:
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }


@pytest.fixture
def real_redis(redis_url):
    with override_settings(CACHES=redis_caches(redis_url)):
        from movie_service.caching import bump_version

        bump_version()
        yield


def read_twice_counting_queries(url, django_assert_max_num_queries, django_assert_num_queries):
    with django_assert_max_num_queries(5):
        first = APIClient().get(url)
    with django_assert_num_queries(0):
        second = APIClient().get(url)
    return first, second


def test_a_repeated_read_does_not_touch_the_database(django_assert_max_num_queries, django_assert_num_queries):
    MovieFactory.create_batch(3)

    first, second = read_twice_counting_queries(
        "/api/movies/", django_assert_max_num_queries, django_assert_num_queries
    )

    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()


def test_a_staff_change_is_visible_at_once(django_capture_on_commit_callbacks):
    # given: the list and the detail are cached
    movie = MovieFactory(title="Old title")
    client = APIClient()
    assert client.get("/api/movies/").json()["results"][0]["title"] == "Old title"
    assert client.get(f"/api/movies/{movie.id}/").json()["title"] == "Old title"

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = authenticated_client(is_staff=True).patch(
            f"/api/movies/{movie.id}/", {"title": "New title"}, format="json"
        )

    # then
    assert response.status_code == 200
    assert client.get("/api/movies/").json()["results"][0]["title"] == "New title"
    assert client.get(f"/api/movies/{movie.id}/").json()["title"] == "New title"


def test_with_real_redis_reads_are_cached_and_changes_visible_at_once(
    real_redis, django_capture_on_commit_callbacks, django_assert_num_queries
):
    # given
    cinema = CinemaFactory(name="Odeon")
    showtime = ShowtimeFactory(screen__cinema=cinema, starts_at=timezone.now() + dt.timedelta(days=1))
    client = APIClient()
    url = f"/api/movies/showtimes/{showtime.id}/"
    assert client.get(url).json()["cinema_name"] == "Odeon"
    with django_assert_num_queries(0):
        assert client.get(url).json()["cinema_name"] == "Odeon"

    # when
    with django_capture_on_commit_callbacks(execute=True):
        authenticated_client(is_staff=True).patch(f"/api/movies/cinemas/{cinema.id}/", {"name": "Odeon Luxe"})

    # then
    assert client.get(url).json()["cinema_name"] == "Odeon Luxe"
    assert client.get("/api/movies/showtimes/").json()["results"][0]["cinema_name"] == "Odeon Luxe"


def test_with_redis_unreachable_reads_and_writes_still_work(django_capture_on_commit_callbacks):
    # given: a cache on a port where nothing listens
    movie = MovieFactory(title="Arrival")

    with override_settings(CACHES=redis_caches("redis://127.0.0.1:1/0")):
        # when
        list_response = APIClient().get("/api/movies/")
        detail_response = APIClient().get(f"/api/movies/{movie.id}/")
        with django_capture_on_commit_callbacks(execute=True):
            write = authenticated_client(is_staff=True).patch(
                f"/api/movies/{movie.id}/", {"title": "Arrival (2016)"}, format="json"
            )
        after = APIClient().get(f"/api/movies/{movie.id}/")

    # then
    assert (list_response.status_code, detail_response.status_code, write.status_code) == (200, 200, 200)
    assert list_response.json()["results"][0]["title"] == "Arrival"
    assert after.json()["title"] == "Arrival (2016)"


@pytest.mark.parametrize("change", ["rename", "delete"])
def test_a_genre_changed_in_the_admin_is_visible_at_once_in_cached_movie_pages(
    admin_client, django_capture_on_commit_callbacks, change
):
    # given a movie page cached with its genre
    from movie_service.movies.models import Genre

    genre = Genre.objects.create(name="Drama", slug="drama")
    movie = MovieFactory()
    movie.genres.set([genre])
    client = APIClient()
    assert [g["name"] for g in client.get(f"/api/movies/{movie.id}/").json()["genres"]] == ["Drama"]

    # when staff rename or delete the genre in the admin
    with django_capture_on_commit_callbacks(execute=True):
        if change == "rename":
            response = admin_client.post(
                f"/admin/movies/movies/genre/{genre.id}/change/", {"name": "Period drama", "slug": "period-drama"}
            )
        else:
            response = admin_client.post(f"/admin/movies/movies/genre/{genre.id}/delete/", {"post": "yes"})

    # then the next read shows it
    assert response.status_code == 302
    expected = ["Period drama"] if change == "rename" else []
    assert [g["name"] for g in client.get(f"/api/movies/{movie.id}/").json()["genres"]] == expected
