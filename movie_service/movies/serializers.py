from __future__ import annotations

from rest_framework import serializers

from .models import Genre, Movie


class GenreSerializer(serializers.ModelSerializer):
    class Meta:
        model = Genre
        fields = ["id", "name", "slug"]


class MovieSerializer(serializers.ModelSerializer):
    genres = GenreSerializer(many=True, read_only=True)

    class Meta:
        model = Movie
        fields = [
            "id",
            "title",
            "synopsis",
            "duration_minutes",
            "age_rating",
            "release_date",
            "poster_url",
            "genres",
            "created_at",
            "updated_at",
        ]


class MovieInputSerializer(serializers.ModelSerializer):
    """Staff input; ``genres`` are names, created when new."""

    genres = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=10)

    class Meta:
        model = Movie
        fields = ["title", "synopsis", "duration_minutes", "age_rating", "release_date", "poster_url", "genres"]
        extra_kwargs = {"duration_minutes": {"min_value": 1, "max_value": 600}}
