"""What the three apps' views share: permissions, cached reads, service errors as DRF errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.settings import api_settings

from common.api.schema import AutoSchema
from common.auth.permissions import IsStaffOrReadOnly

from .caching import cached


@contextmanager
def service_errors() -> Iterator[None]:
    """A service's ``django.core.exceptions.ValidationError`` as DRF's 400 shape."""
    try:
        yield
    except DjangoValidationError as error:
        if hasattr(error, "error_dict"):
            detail = {
                (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): messages
                for field, messages in error.message_dict.items()
            }
        else:
            detail = {api_settings.NON_FIELD_ERRORS_KEY: error.messages}
        raise serializers.ValidationError(detail) from None


class CatalogueSchema(AutoSchema):
    """Writes take the input serializer but answer with the read one (what ``output`` returns);
    the actions a viewset names in ``conflict_actions`` may answer 409."""

    def get_response_serializers(self):
        if getattr(self.view, "action", None) in ("create", "update", "partial_update"):
            return self.view.detail_serializer_class or self.view.serializer_class
        return super().get_response_serializers()

    def view_errors(self):
        if getattr(self.view, "action", None) in self.view.conflict_actions:
            return {409: "Refused in the current state (a cinema that still has screens, a started showtime, …)."}
        return {}


class CatalogueViewSet(viewsets.GenericViewSet):
    """Public reads (served from the cache), staff-only writes through the services.

    Subclasses implement ``perform_create(data)``, ``perform_update(instance, data)`` and
    ``perform_destroy(instance)`` by calling one service each.
    """

    permission_classes = [IsStaffOrReadOnly]
    schema = CatalogueSchema()
    input_serializer_class: type[serializers.Serializer]
    detail_serializer_class: type[serializers.Serializer] | None = None
    # What the services refuse with a 409 (a cinema that still has screens, …), for the schema.
    conflict_actions: tuple[str, ...] = ("destroy",)

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return self.input_serializer_class
        if self.action == "retrieve" and self.detail_serializer_class:
            return self.detail_serializer_class
        return self.serializer_class

    def list_filters(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
        """The list's query parameters, validated (400 naming the parameter), never read raw:
        a raw NUL character reached PostgreSQL and failed there (a 500)."""
        params = serializer_class(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return params.validated_data

    def output(self, instance) -> dict[str, Any]:
        serializer_class = self.detail_serializer_class or self.serializer_class
        return serializer_class(instance, context=self.get_serializer_context()).data

    def list(self, request, *args, **kwargs):
        def compute() -> Any:
            queryset = self.filter_queryset(self.get_queryset())
            page = self.paginate_queryset(queryset)
            return self.get_paginated_response(self.get_serializer(page, many=True).data).data

        return Response(cached(request, compute))

    def retrieve(self, request, *args, **kwargs):
        return Response(cached(request, lambda: self.output(self.get_object())))

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            instance = self.perform_create(serializer.validated_data)
        return Response(self.output(self.refetch(instance)), status=status.HTTP_201_CREATED)

    def update(self, request, *args, partial: bool = False, **kwargs):
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            instance = self.perform_update(instance, serializer.validated_data)
        return Response(self.output(self.refetch(instance)))

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        with service_errors():
            self.perform_destroy(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def refetch(self, instance):
        return self.get_queryset().get(pk=instance.pk)

    def perform_create(self, data: dict[str, Any]):
        raise NotImplementedError

    def perform_update(self, instance, data: dict[str, Any]):
        raise NotImplementedError

    def perform_destroy(self, instance) -> None:
        raise NotImplementedError
