"""DRF's exception handler, plus a JSON 503 when a dependency is down.

A database that refuses connections is an outage, not a bug in the request: the client gets
``503 {"detail": …}`` with ``Retry-After`` and may try again, instead of an HTML 500.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, InterfaceError, OperationalError
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class ServiceUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is temporarily unavailable; try again shortly."
    default_code = "service_unavailable"


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


def exception_handler(exc, context):
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.warning("dependency unavailable: %s", exc.__class__.__name__, exc_info=exc)
        exc = ServiceUnavailable()
        response = drf_exception_handler(exc, context)
        response["Retry-After"] = "5"
        return response
    if isinstance(exc, DatabaseError):
        # Anything else from the database is a bug: let it surface as a 500 with a traceback.
        return None
    response = drf_exception_handler(exc, context)
    if isinstance(exc, ServiceUnavailable) and response is not None:
        response.setdefault("Retry-After", "5")
    return response
