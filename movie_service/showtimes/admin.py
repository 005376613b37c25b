import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone

from common.api.exceptions import Conflict

from . import services
from .models import Showtime


class ShowtimeForm(forms.ModelForm):
    """The service's own checks (future start, prices per category, no overlap) as form errors."""

    class Meta:
        model = Showtime
        fields = ["movie", "screen", "starts_at", "prices", "currency"]
        help_texts = {
            "starts_at": "In UTC. The end is the film's length plus the cleaning buffer.",
            "prices": 'One decimal string per seat category of the screen: {"standard": "12.50", "premium": "16.00"}',
        }

    def clean(self):
        cleaned = super().clean()
        movie, screen, starts_at = cleaned.get("movie"), cleaned.get("screen"), cleaned.get("starts_at")
        if not (movie and screen and starts_at) or self.errors:
            return cleaned
        try:
            if "starts_at" in self.changed_data:
                services.require_start_ahead(starts_at)
            cleaned["prices"] = services.normalise_prices(
                cleaned.get("prices"), screen=screen, currency=cleaned.get("currency") or ""
            )
            services.check_no_overlap(
                screen=screen,
                starts_at=starts_at,
                ends_at=services.showtime_end(movie=movie, starts_at=starts_at),
                exclude_id=self.instance.pk,
            )
        except ValidationError as error:
            for field, messages_ in error.message_dict.items():
                self.add_error(field, messages_)
        return cleaned


class WhenFilter(admin.SimpleListFilter):
    title = "when"
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [("today", "Today (UTC)"), ("upcoming", "Upcoming"), ("next7", "Next 7 days"), ("past", "Past")]

    def queryset(self, request, queryset):
        now = timezone.now()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        if self.value() == "today":
            return queryset.filter(starts_at__gte=midnight, starts_at__lt=midnight + dt.timedelta(days=1))
        if self.value() == "upcoming":
            return queryset.filter(starts_at__gt=now)
        if self.value() == "next7":
            return queryset.filter(starts_at__gt=now, starts_at__lt=now + dt.timedelta(days=7))
        if self.value() == "past":
            return queryset.filter(starts_at__lte=now)
        return queryset


@admin.register(Showtime)
class ShowtimeAdmin(admin.ModelAdmin):
    form = ShowtimeForm
    list_display = ["movie", "cinema", "screen_name", "starts_at", "local_start", "status", "version"]
    list_filter = ["status", WhenFilter, "screen__cinema", "movie"]
    list_select_related = ["movie", "screen", "screen__cinema"]
    date_hierarchy = "starts_at"
    search_fields = ["movie__title", "screen__cinema__name", "screen__name"]
    readonly_fields = ["id", "ends_at", "status", "cancel_reason", "version", "created_at", "updated_at"]
    actions = ["cancel_showtimes"]
    ordering = ["starts_at"]

    @admin.display(description="Cinema", ordering="screen__cinema__name")
    def cinema(self, showtime: Showtime) -> str:
        return showtime.screen.cinema.name

    @admin.display(description="Screen", ordering="screen__name")
    def screen_name(self, showtime: Showtime) -> str:
        return showtime.screen.name

    @admin.display(description="Local start")
    def local_start(self, showtime: Showtime) -> str:
        cinema = showtime.screen.cinema
        return f"{showtime.starts_at.astimezone(cinema.tzinfo):%a %d %b %H:%M} ({cinema.timezone})"

    def has_change_permission(self, request, obj=None):
        # A cancelled or started showtime can no longer change (the service refuses it): its page
        # is view-only, and a Save from a page opened before is refused, not silently dropped.
        if obj is not None and (not obj.is_scheduled or obj.starts_at <= timezone.now()):
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in services.UPDATABLE_FIELDS if name in form.cleaned_data}
        if not change:
            saved = services.showtime_create(**data)
        elif changed := {name: value for name, value in data.items() if name in form.changed_data}:
            saved = services.showtime_update(showtime=obj, data=changed)
        else:
            return  # "Save" without a change (or on a read-only page): nothing to tell bookings
        obj.__dict__.update(saved.__dict__)  # the admin logs and redirects with obj

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None):
        # Only a cancelled showtime may go: bookings have been told about the cancellation.
        return super().has_delete_permission(request, obj) and (obj is None or not obj.is_scheduled)

    def delete_model(self, request, obj):
        try:
            services.showtime_delete(showtime=obj)
        except Conflict as error:
            self.message_user(request, str(error.detail), messages.ERROR)

    @admin.action(description="Cancel the selected showtimes (tells the booking service)")
    def cancel_showtimes(self, request, queryset):
        cancelled = 0
        for showtime in queryset:
            try:
                services.showtime_cancel(showtime=showtime, reason="Cancelled by the cinema.")
            except Conflict as error:
                self.message_user(request, f"{showtime}: {error.detail}", messages.WARNING)
            else:
                cancelled += 1
        self.message_user(request, f"Cancelled {cancelled} showtime(s).", messages.SUCCESS)
