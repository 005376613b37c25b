from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers

from movie_service.api import CatalogueViewSet

from . import services
from .selectors import cinema_list, screen_list
from .serializers import (
    CinemaDetailSerializer,
    CinemaInputSerializer,
    CinemaListSerializer,
    ScreenInputSerializer,
    ScreenSerializer,
)


class _CinemaFilter(serializers.Serializer):
    cinema = serializers.UUIDField(required=False)


class _CityFilter(serializers.Serializer):
    city = serializers.CharField(required=False, allow_blank=True)


@extend_schema_view(list=extend_schema(parameters=[OpenApiParameter("city", str, description="Exact city name.")]))
class CinemaViewSet(CatalogueViewSet):
    """Cinemas; the detail has every screen with its seat layout."""

    serializer_class = CinemaListSerializer
    detail_serializer_class = CinemaDetailSerializer
    input_serializer_class = CinemaInputSerializer
    search_fields = ["name", "city"]
    ordering_fields = ["name", "city"]

    def get_queryset(self):
        if self.action != "list":
            return cinema_list()
        return cinema_list(city=self.list_filters(_CityFilter).get("city") or None)

    def perform_create(self, data):
        return services.cinema_create(**data)

    def perform_update(self, instance, data):
        return services.cinema_update(cinema=instance, data=data)

    def perform_destroy(self, instance):
        services.cinema_delete(cinema=instance)


@extend_schema_view(list=extend_schema(parameters=[OpenApiParameter("cinema", str, description="A cinema id.")]))
class ScreenViewSet(CatalogueViewSet):
    """Screens with their layouts; staff lay them out."""

    serializer_class = ScreenSerializer
    input_serializer_class = ScreenInputSerializer
    search_fields = ["name"]
    ordering_fields = []

    def get_queryset(self):
        if self.action != "list":
            return screen_list()
        return screen_list(cinema_id=self.list_filters(_CinemaFilter).get("cinema"))

    def perform_create(self, data):
        return services.screen_create(**data)

    def perform_update(self, instance, data):
        return services.screen_update(screen=instance, data=data)

    def perform_destroy(self, instance):
        services.screen_delete(screen=instance)
