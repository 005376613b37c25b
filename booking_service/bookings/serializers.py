"""Request and response shapes of the booking API (contract: "Booking API")."""

from __future__ import annotations

from rest_framework import serializers

from .models import Booking, BookingTransition, seat_sort_key

MAX_SEATS = 10


class BoundedListField(serializers.ListField):
    """A ListField that refuses an over-long list before validating its elements: DRF checks
    ``max_length`` last, after every element, so a body of a hundred thousand seats cost seconds
    of CPU and answered megabytes of errors."""

    def to_internal_value(self, data):
        if self.max_length is not None and isinstance(data, list) and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class BookingCreateSerializer(serializers.Serializer):
    showtime_id = serializers.UUIDField()
    seats = BoundedListField(
        child=serializers.CharField(max_length=8, trim_whitespace=True),
        allow_empty=False,
        max_length=MAX_SEATS,
        error_messages={
            "empty": "Choose at least one seat.",
            "max_length": f"At most {MAX_SEATS} seats per booking.",
        },
    )
    payment_method = serializers.CharField(max_length=100)

    def validate_seats(self, seats: list[str]) -> list[str]:
        duplicates = sorted({label for label in seats if seats.count(label) > 1}, key=seat_sort_key)
        if duplicates:
            raise serializers.ValidationError(f"Duplicate seat(s): {', '.join(duplicates)}.")
        return seats


class BookingConflictSerializer(serializers.Serializer):
    """The 409 of a booking request (for the schema): the seats taken, when seats were the conflict."""

    detail = serializers.CharField()
    unavailable_seats = serializers.ListField(child=serializers.CharField(), required=False)


class BookingSerializer(serializers.Serializer):
    """Exactly the contract's fields; ``seats`` are the labels in seat order.

    Declared field by field rather than a ModelSerializer: the POST answers with it on every
    booking, and building the fields from the model each time was a measurable share of the POST.
    """

    id = serializers.UUIDField(read_only=True)
    status = serializers.ChoiceField(choices=Booking.Status.choices, read_only=True)
    showtime_id = serializers.UUIDField(read_only=True)
    seats = serializers.ListField(source="seat_labels", child=serializers.CharField(), read_only=True)
    total_amount = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    currency = serializers.CharField(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True)
    movie_title = serializers.CharField(read_only=True)
    cinema_name = serializers.CharField(read_only=True)
    starts_at = serializers.DateTimeField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class TimelineEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = BookingTransition
        fields = ["at", "from_status", "to_status", "cause", "event_id", "note"]
        read_only_fields = fields


class BookingDetailSerializer(BookingSerializer):
    reference = serializers.CharField(read_only=True)
    screen_name = serializers.CharField(read_only=True)
    cancel_reason = serializers.CharField(read_only=True)
    timeline = TimelineEntrySerializer(many=True, read_only=True)


class SeatSerializer(serializers.Serializer):
    label = serializers.CharField()
    category = serializers.CharField()
    price = serializers.CharField()
    status = serializers.ChoiceField(choices=["available", "held", "sold"])


class SeatMapSerializer(serializers.Serializer):
    showtime_id = serializers.UUIDField()
    seats = SeatSerializer(many=True)
