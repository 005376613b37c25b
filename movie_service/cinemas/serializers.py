from __future__ import annotations

from rest_framework import serializers

from .layouts import validate_layout
from .models import Cinema, Screen


class SeatSerializer(serializers.Serializer):
    label = serializers.CharField()
    category = serializers.CharField()


class ScreenSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Screen
        fields = ["id", "name", "capacity"]


class ScreenSerializer(serializers.ModelSerializer):
    """A screen with its layout (rows, gaps) and the flat list of labelled seats."""

    cinema_id = serializers.UUIDField(read_only=True)
    seats = SeatSerializer(many=True, read_only=True)

    class Meta:
        model = Screen
        fields = ["id", "cinema_id", "name", "capacity", "layout", "seats"]


class CinemaListSerializer(serializers.ModelSerializer):
    screens = ScreenSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Cinema
        fields = ["id", "name", "city", "address", "timezone", "screens"]


class CinemaDetailSerializer(CinemaListSerializer):
    screens = ScreenSerializer(many=True, read_only=True)


class CinemaInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Cinema
        fields = ["name", "city", "address", "timezone"]


class ScreenInputSerializer(serializers.ModelSerializer):
    cinema_id = serializers.PrimaryKeyRelatedField(queryset=Cinema.objects.all(), source="cinema")
    layout = serializers.JSONField()

    class Meta:
        model = Screen
        fields = ["cinema_id", "name", "layout"]
        # Uniqueness of (cinema, name) is checked by the model's full_clean in the service.
        validators = []

    def validate_layout(self, value):
        return validate_layout(value)
