"""Every service's OpenAPI schema documents the errors an operation can answer, not only its success.

drf-spectacular describes the success response of each operation. The errors come from the same
few places in every service (DRF's validation, authentication, permissions, pagination and the
503 of ``common.api.exceptions``), so they are derived here from the view once for all; a view
declares only what is its own (a 409, a 422) with ``extend_schema(responses=...)``, which wins.
Clients reach the services through the gateway, so its own refusals (413, 414) are listed too.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated
from rest_framework.settings import api_settings

from .pagination import StandardPagination

_PAGE = StandardPagination.page_query_param
# Parameters whose bad values DRF forgives (a default page size, an ignored ordering) or answers
# with a 404 (a page that does not exist); any other query parameter is validated (400).
_LENIENT_QUERY_PARAMETERS = {_PAGE, StandardPagination.page_size_query_param, api_settings.ORDERING_PARAM}
_PLAIN_PERMISSIONS = (AllowAny, IsAuthenticated)

# DRF's 400 shape: {"field": ["message", …]}, nested for nested fields ({"seats": {"0": […]}}),
# and {"detail": "…"} for a body that does not parse.
_VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "DRF's validation errors: each field named with its messages.",
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "object"},
            {"type": "string"},
        ]
    },
}


class ErrorSerializer(serializers.Serializer):
    """DRF's error shape outside validation."""

    detail = serializers.CharField()


def error_response(description: str) -> OpenApiResponse:
    """For a view's own errors: ``extend_schema(responses={..., 409: error_response("...")})``."""
    return OpenApiResponse(ErrorSerializer, description=description)


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for status_code, (description, schema) in self._errors(operation).items():
            responses.setdefault(
                str(status_code), {"content": {"application/json": {"schema": schema}}, "description": description}
            )
        return operation

    def _errors(self, operation: dict[str, Any]) -> dict[int, tuple[str, dict[str, str]]]:
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        query = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
        errors: dict[int, tuple[str, dict[str, str]]] = {}
        if "requestBody" in operation or query - _LENIENT_QUERY_PARAMETERS:
            errors[400] = ("Invalid input: each field named with its messages.", self._validation_error())
        if self.view.authentication_classes:
            errors[401] = ("Missing, invalid or expired token.", error)
        if self.method not in SAFE_METHODS and any(
            not issubclass(permission, _PLAIN_PERMISSIONS) for permission in self.view.permission_classes
        ):
            errors[403] = ("Not allowed for this caller.", error)
        if "{" in self.path or _PAGE in query:
            errors[404] = ("Not found (or not the caller's), or a page past the end.", error)
        if "requestBody" in operation:
            errors[413] = ("The body is over 1 MB (refused by the gateway).", error)
            errors[415] = ("The body is not JSON.", error)
        errors[414] = ("The URL is over 8 KB (refused by the gateway).", error)
        # The gateway's own answers while the service's web server is down, restarting or stuck.
        errors[502] = ("The service is not reachable (the gateway's answer); retry.", error)
        errors[503] = ("A dependency (the database) is unavailable; retry after Retry-After seconds.", error)
        errors[504] = ("The service did not answer within 30 s (the gateway's answer); retry.", error)
        errors.update({status_code: (description, error) for status_code, description in self.view_errors().items()})
        return errors

    def view_errors(self) -> dict[int, str]:
        """Errors of a kind of view, in DRF's ``{"detail": …}`` shape, by status code (for subclasses)."""
        return {}

    def _validation_error(self) -> dict[str, str]:
        component = ResolvedComponent(
            name="ValidationError",
            type=ResolvedComponent.SCHEMA,
            object="ValidationError",
            schema=_VALIDATION_ERROR_SCHEMA,
        )
        self.registry.register_on_missing(component)
        return component.ref
