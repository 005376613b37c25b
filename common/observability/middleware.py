"""Request id and correlation id for every HTTP request."""

from __future__ import annotations

import re

from .context import as_uuid, bound, new_id

REQUEST_ID_HEADER = "X-Request-ID"
CORRELATION_ID_HEADER = "X-Correlation-ID"
# Ids come from clients and the gateway; anything odd is replaced rather than logged verbatim.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _incoming(request, header: str) -> str | None:
    value = request.headers.get(header)
    return value if value and _SAFE_ID.match(value) else None


class RequestIdMiddleware:
    """Takes ``X-Request-ID`` from the gateway (or makes one) and echoes it on the response.

    The correlation id defaults to the request id: a booking POST starts a saga, and every
    event that follows from it carries this id.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = _incoming(request, REQUEST_ID_HEADER) or new_id()
        correlation_id = as_uuid(_incoming(request, CORRELATION_ID_HEADER) or request_id)
        request.request_id = request_id
        with bound(request_id=request_id, correlation_id=correlation_id):
            response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response
