import pytest
from django.test import override_settings

from common.testing.infrastructure import closed_port, skip_or_fail

pytestmark = pytest.mark.django_db(transaction=True)


def test_live_answers_without_checking_anything(client):
    response = client.get("/health/live/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {}}


def test_ready_is_200_when_database_broker_and_cache_answer(client):
    response = client.get("/health/ready/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok", "cache": "ok"}}


def test_ready_names_the_broker_when_it_is_down(client, settings):
    settings.CELERY_BROKER_URL = f"amqp://guest:guest@127.0.0.1:{closed_port()}//"

    response = client.get("/health/ready/")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error")


def test_ready_names_the_cache_when_redis_is_down(client):
    caches = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5, "IGNORE_EXCEPTIONS": True},
        }
    }
    with override_settings(CACHES=caches):
        response = client.get("/health/ready/")

    assert response.status_code == 503
    assert response.json()["failing"] == ["cache"]


def test_ready_names_the_database_when_it_is_down(client, settings):
    from django.db import connections

    database = dict(connections["default"].settings_dict)
    if "postgresql" not in database["ENGINE"]:
        skip_or_fail("the database is not PostgreSQL: a closed port only means something for a server")
    connections["default"].close()
    original = connections["default"].settings_dict.copy()
    connections["default"].settings_dict.update(PORT=closed_port(), HOST="127.0.0.1")
    try:
        response = client.get("/health/ready/")
    finally:
        connections["default"].settings_dict.update(original)

    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]


def test_metrics_are_prometheus_text(client):
    client.get("/health/live/")

    response = client.get("/metrics")

    assert response.status_code == 200
    assert b"django_http_requests_total_by_method_total" in response.content
    assert b"django_db_execute_total" in response.content or b"django_db_new_connections_total" in response.content


def test_every_response_carries_a_request_id(client):
    response = client.get("/health/live/", HTTP_X_REQUEST_ID="abc-123")

    assert response["X-Request-ID"] == "abc-123"
    assert len(client.get("/health/live/")["X-Request-ID"]) == 36


def test_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/common/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = client.get("/api/common/docs/")

    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")
    assert docs.status_code == 200
