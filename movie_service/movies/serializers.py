from __future__ import annotations

from django.utils.text import slugify
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

    def validate_genres(self, names: list[str]) -> list[str]:
        # A genre is found by its slug; a name with no letters or digits would have an empty one.
        unusable = [name for name in names if not slugify(name)]
        if unusable:
            raise serializers.ValidationError(f"Genre names need a letter or digit: {', '.join(map(repr, unusable))}.")
        return names

    class Meta:
        model = Movie
        fields = ["title", "synopsis", "duration_minutes", "age_rating", "release_date", "poster_url", "genres"]
        extra_kwargs = {"duration_minutes": {"min_value": 1, "max_value": 600}}
