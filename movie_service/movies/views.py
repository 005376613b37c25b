from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers

from movie_service.api import CatalogueViewSet

from . import services
from .selectors import movie_list
from .serializers import MovieInputSerializer, MovieSerializer


class _GenreFilter(serializers.Serializer):
    genre = serializers.CharField(required=False, allow_blank=True)


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("genre", str, description="A genre's slug or name (any case).")],
    )
)
class MovieViewSet(CatalogueViewSet):
    """Movies: anyone may read; staff create, change and delete."""

    serializer_class = MovieSerializer
    input_serializer_class = MovieInputSerializer
    search_fields = ["title", "synopsis"]
    ordering_fields = ["title", "release_date", "duration_minutes"]

    def get_queryset(self):
        if self.action != "list":
            return movie_list()
        return movie_list(genre=self.list_filters(_GenreFilter).get("genre") or None)

    def perform_create(self, data):
        return services.movie_create(**data)

    def perform_update(self, instance, data):
        return services.movie_update(movie=instance, data=data)

    def perform_destroy(self, instance):
        services.movie_delete(movie=instance)
