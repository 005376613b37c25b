import uuid

import pytest
from django.db import transaction

from common.events.models import OutboxEvent
from common.events.publisher import publish
from common.observability.context import as_uuid, correlation_id_var
from common.observability.middleware import RequestIdMiddleware


@pytest.mark.parametrize(
    ("incoming", "expected"),
    [
        ("0f8fad5b-d9cb-469f-a165-70867728950e", "0f8fad5b-d9cb-469f-a165-70867728950e"),
        ("0f8fad5bd9cb469fa16570867728950e", "0f8fad5b-d9cb-469f-a165-70867728950e"),
    ],
)
def test_uuid_shaped_ids_are_kept(incoming, expected):
    assert as_uuid(incoming) == expected


def test_other_ids_map_to_a_stable_uuid():
    first, second = as_uuid("req-abc.1"), as_uuid("req-abc.1")

    assert first == second
    assert uuid.UUID(first).version == 5
    assert as_uuid("req-abc.2") != first


@pytest.mark.django_db
def test_an_event_published_during_a_request_with_a_gateway_request_id_is_valid(rf):
    # NGINX's $request_id: 32 hex digits, no dashes.
    request = rf.get("/", HTTP_X_REQUEST_ID="9c1185a5c5e9fc54612808977ee8f548")
    seen = {}

    def view(request):
        seen["correlation_id"] = correlation_id_var.get()
        with transaction.atomic():
            publish(
                "auth.user.registered",
                {"user_id": str(uuid.uuid4()), "email": "a@example.com", "full_name": "A"},
                aggregate_id="a",
            )
        from django.http import HttpResponse

        return HttpResponse()

    response = RequestIdMiddleware(view)(request)

    assert response["X-Request-ID"] == "9c1185a5c5e9fc54612808977ee8f548"
    assert seen["correlation_id"] == "9c1185a5-c5e9-fc54-6128-08977ee8f548"
    assert OutboxEvent.objects.get().envelope["correlation_id"] == "9c1185a5-c5e9-fc54-6128-08977ee8f548"
