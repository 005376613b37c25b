from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models

from common.api.exceptions import Conflict
from movie_service.showtimes.services import require_duration_fits

from . import services
from .models import Genre, Movie


class MovieForm(forms.ModelForm):
    """A longer film that would make its upcoming showtimes overlap is a form error."""

    def clean(self):
        cleaned = super().clean()
        duration = cleaned.get("duration_minutes")
        if not self.instance._state.adding and duration and "duration_minutes" in self.changed_data:
            try:
                require_duration_fits(movie=self.instance, duration_minutes=duration)
            except ValidationError as error:
                for field, messages_ in error.message_dict.items():
                    self.add_error(field, messages_)
        return cleaned


@admin.register(Genre)
class GenreAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request, obj, form, change):
        services.genre_save(genre=obj)

    def delete_model(self, request, obj):
        services.genres_delete(genres=[obj])

    def delete_queryset(self, request, queryset):
        services.genres_delete(genres=list(queryset))


@admin.register(Movie)
class MovieAdmin(admin.ModelAdmin):
    """Saves go through the services, so showtimes are republished when the title or length changes."""

    form = MovieForm
    list_display = ["title", "duration_minutes", "age_rating", "release_date", "genre_names"]
    list_filter = ["genres", "age_rating"]
    search_fields = ["title", "synopsis"]
    filter_horizontal = ["genres"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = ["id", "created_at", "updated_at"]
    fields = [
        "id",
        "title",
        "synopsis",
        ("duration_minutes", "age_rating", "release_date"),
        "poster_url",
        "genres",
        ("created_at", "updated_at"),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("genres")

    @admin.display(description="Genres")
    def genre_names(self, movie: Movie) -> str:
        return ", ".join(genre.name for genre in movie.genres.all())

    def save_model(self, request, obj, form, change):
        fields = [name for name in form.cleaned_data if name != "genres"]
        data = {name: form.cleaned_data[name] for name in fields}
        genres = [genre.name for genre in form.cleaned_data.get("genres", [])]
        if change:
            changed = {name: value for name, value in data.items() if name in form.changed_data}
            if "genres" in form.changed_data:
                changed["genres"] = genres
            saved = services.movie_update(movie=obj, data=changed)
        else:
            saved = services.movie_create(**data, genres=genres)
        obj.__dict__.update(saved.__dict__)  # the admin logs and redirects with obj

    def save_related(self, request, form, formsets, change):
        """Genres were set by the service."""

    def delete_model(self, request, obj):
        try:
            services.movie_delete(movie=obj)
        except Conflict as error:
            self.message_user(request, str(error.detail), messages.ERROR)

    def delete_queryset(self, request, queryset):
        for movie in queryset:
            self.delete_model(request, movie)
