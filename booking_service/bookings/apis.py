"""The booking API: thin views over services and selectors."""

from __future__ import annotations

from django.utils.cache import patch_cache_control
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.pagination import StandardPagination
from common.api.schema import error_response

from . import selectors, services
from .serializers import (
    BookingConflictSerializer,
    BookingCreateSerializer,
    BookingDetailSerializer,
    BookingSerializer,
    SeatMapSerializer,
)

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    description="Repeat a request safely: the same key and body return the same booking.",
)
MAX_KEY_LENGTH = 255
SEAT_MAP_MAX_AGE_SECONDS = 1


class SeatMapApi(APIView):
    """Seat availability is public, like a cinema's seat plan on its web site.

    No authentication at all (a token, valid or not, changes nothing here), and the selector's
    plain dict is the answer: ``SeatMapSerializer`` describes it for the schema only, since a
    serializer per seat was most of the cost of the most frequent read.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses=SeatMapSerializer)
    def get(self, request, showtime_id):
        response = Response(selectors.showtime_seat_map(showtime_id=showtime_id))
        # Exact here; the gateway may hand the same copy to everyone for a second (docs/bookings.md).
        patch_cache_control(response, public=True, max_age=SEAT_MAP_MAX_AGE_SECONDS)
        return response


class BookingListCreateApi(APIView):
    # Declared on the view so the OpenAPI schema describes the paginated envelope of the list.
    pagination_class = StandardPagination

    @extend_schema(responses=BookingSerializer(many=True))
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.booking_list(user_id=request.user.id), request, view=self)
        return paginator.get_paginated_response(BookingSerializer(page, many=True).data)

    @extend_schema(
        request=BookingCreateSerializer,
        responses={
            201: BookingSerializer,
            200: OpenApiResponse(BookingSerializer, description="A repeated Idempotency-Key: the first booking."),
            404: error_response("No such showtime (not yet known to the booking service)."),
            409: OpenApiResponse(
                BookingConflictSerializer,
                description="Seats taken (listed), or a pending booking of the caller's for this showtime.",
            ),
            422: error_response("This Idempotency-Key was used with a different body."),
            429: error_response("Too many booking requests from this address (the gateway's limit)."),
        },
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request):
        serializer = BookingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key") or None
        if key is not None and len(key) > MAX_KEY_LENGTH:
            raise exceptions.ValidationError({"detail": f"Idempotency-Key is longer than {MAX_KEY_LENGTH} characters."})
        booking, created = services.booking_create(
            user_id=request.user.id,
            user_email=request.user.email,
            idempotency_key=key,
            **serializer.validated_data,
        )
        return Response(
            BookingSerializer(booking).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class BookingDetailApi(APIView):
    @extend_schema(responses=BookingDetailSerializer)
    def get(self, request, booking_id):
        booking = selectors.booking_get(booking_id=booking_id, user_id=request.user.id)
        return Response(BookingDetailSerializer(booking).data)


class BookingCancelApi(APIView):
    @extend_schema(
        request=None,
        responses={
            200: BookingDetailSerializer,
            409: error_response("The booking is no longer live (already cancelled, expired or failed)."),
        },
    )
    def post(self, request, booking_id):
        services.booking_cancel(booking_id=booking_id, user_id=request.user.id)
        booking = selectors.booking_get(booking_id=booking_id, user_id=request.user.id)
        return Response(BookingDetailSerializer(booking).data)
