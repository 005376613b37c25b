"""Showtime input and output; the detail is also the body of ``movies.showtime.published``."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from movie_service.cinemas.models import Screen
from movie_service.cinemas.serializers import SeatSerializer
from movie_service.movies.models import Movie

from .models import Showtime


def format_money(amount: Decimal | str) -> str:
    return f"{Decimal(amount).quantize(Decimal('0.01'))}"


class ShowtimeListSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    movie_id = serializers.UUIDField()
    movie_title = serializers.CharField(source="movie.title")
    cinema_id = serializers.UUIDField(source="screen.cinema_id")
    cinema_name = serializers.CharField(source="screen.cinema.name")
    screen_name = serializers.CharField(source="screen.name")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=Showtime.Status.choices)
    currency = serializers.CharField()
    prices = serializers.SerializerMethodField()

    def get_prices(self, showtime: Showtime) -> dict[str, str]:
        return {category: format_money(amount) for category, amount in sorted(showtime.prices.items())}


class ShowtimeDetailSerializer(ShowtimeListSerializer):
    seats = SeatSerializer(many=True, source="screen.seats")


class ShowtimeInputSerializer(serializers.Serializer):
    movie_id = serializers.PrimaryKeyRelatedField(queryset=Movie.objects.all(), source="movie")
    screen_id = serializers.PrimaryKeyRelatedField(queryset=Screen.objects.select_related("cinema"), source="screen")
    starts_at = serializers.DateTimeField()
    prices = serializers.DictField(
        child=serializers.DecimalField(max_digits=8, decimal_places=2, min_value=Decimal("0.00")), allow_empty=False
    )
    currency = serializers.RegexField(r"^[A-Z]{3}$", error_messages={"invalid": "An ISO 4217 code such as GBP."})


class ShowtimeCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)
