from __future__ import annotations

import datetime as dt

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from movie_service.api import CatalogueViewSet, service_errors

from . import services
from .models import Showtime
from .selectors import showtime_list, showtime_queryset
from .serializers import (
    ShowtimeCancelSerializer,
    ShowtimeDetailSerializer,
    ShowtimeInputSerializer,
    ShowtimeListSerializer,
)


class ShowtimeFilter(serializers.Serializer):
    movie = serializers.UUIDField(required=False)
    cinema = serializers.UUIDField(required=False)
    date = serializers.DateField(required=False, input_formats=["%Y-%m-%d"])
    status = serializers.ChoiceField(choices=Showtime.Status.choices, required=False)

    def validate_date(self, date: dt.date) -> dt.date:
        # A local day of the first or last date has an end or a start in UTC that is no date.
        if not dt.date.min < date < dt.date.max:
            raise serializers.ValidationError("No showtimes on that date.")
        return date


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("movie", str, description="A movie id."),
            OpenApiParameter("cinema", str, description="A cinema id."),
            OpenApiParameter("date", str, description="YYYY-MM-DD, in the cinema's own time zone."),
            OpenApiParameter("status", str, enum=["scheduled", "cancelled"]),
        ]
    )
)
class ShowtimeViewSet(CatalogueViewSet):
    """Showtimes; the detail lists every seat and the price of each category."""

    serializer_class = ShowtimeListSerializer
    detail_serializer_class = ShowtimeDetailSerializer
    input_serializer_class = ShowtimeInputSerializer
    filter_backends = []
    conflict_actions = ("destroy", "update", "partial_update", "cancel")

    def get_queryset(self):
        if self.action != "list":
            return showtime_queryset()
        filters = self.list_filters(ShowtimeFilter)
        return showtime_list(
            movie_id=filters.get("movie"),
            cinema_id=filters.get("cinema"),
            date=filters.get("date"),
            status=filters.get("status"),
        )

    def perform_create(self, data):
        return services.showtime_create(**data)

    def perform_update(self, instance, data):
        return services.showtime_update(showtime=instance, data=data)

    def perform_destroy(self, instance):
        services.showtime_delete(showtime=instance)

    @extend_schema(request=ShowtimeCancelSerializer, responses=ShowtimeDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        showtime = self.get_object()
        serializer = ShowtimeCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            showtime = services.showtime_cancel(showtime=showtime, reason=serializer.validated_data.get("reason", ""))
        return Response(self.output(self.refetch(showtime)))
