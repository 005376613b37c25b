"""Django's 404 and 500 under /api/ answer in DRF's JSON shape; other paths keep Django's pages."""

from __future__ import annotations

import json

import pytest
from django.http import Http404
from django.test import RequestFactory

from common.api.errors import bad_request, not_found, server_error


@pytest.mark.parametrize(
    ("path", "handler", "status", "body"),
    [
        ("/api/bookings/not-an-id/", lambda request: not_found(request, Http404()), 404, {"detail": "Not found."}),
        ("/api/bookings/", lambda request: bad_request(request, ValueError()), 400, {"detail": "Bad request."}),
        ("/api/bookings/", server_error, 500, {"detail": "A server error occurred."}),
    ],
)
def test_api_paths_get_json(path, handler, status, body):
    response = handler(RequestFactory().get(path))

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == body


@pytest.mark.parametrize(
    ("handler", "status"),
    [
        (lambda request: not_found(request, Http404()), 404),
        (lambda request: bad_request(request, ValueError()), 400),
        (server_error, 500),
    ],
)
def test_other_paths_keep_djangos_pages(handler, status):
    response = handler(RequestFactory().get("/admin/bookings/nothing/"))

    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
