"""Genres and movies: what the catalogue shows."""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Genre(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=50, unique=True)
    slug = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Movie(models.Model):
    class AgeRating(models.TextChoices):
        G = "G", "G (all ages)"
        PG = "PG", "PG (parental guidance)"
        PG_13 = "PG-13", "PG-13"
        R = "R", "R (restricted)"
        NC_17 = "NC-17", "NC-17 (adults only)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=200, db_index=True)
    synopsis = models.TextField(blank=True, default="")
    duration_minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(600)])
    age_rating = models.CharField(max_length=8, choices=AgeRating.choices, default=AgeRating.PG)
    release_date = models.DateField(null=True, blank=True)
    poster_url = models.URLField(max_length=500, blank=True, default="")
    genres = models.ManyToManyField(Genre, related_name="movies", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(duration_minutes__gte=1), name="movie_duration_positive"),
        ]

    def __str__(self) -> str:
        return self.title
