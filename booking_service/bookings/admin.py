from django.contrib import admin, messages
from rest_framework.exceptions import APIException

from common.admin import SystemRowsAdmin

from . import services
from .models import Booking, BookingSeat, BookingTransition, ShowtimeReplica


class BookingSeatInline(admin.TabularInline):
    model = BookingSeat
    fields = ["label", "category", "price", "is_live"]
    readonly_fields = fields
    extra = 0
    can_delete = False


class TimelineInline(admin.TabularInline):
    model = BookingTransition
    fields = ["at", "from_status", "to_status", "cause", "event_id", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["at", "id"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Booking)
class BookingAdmin(SystemRowsAdmin):
    list_display = [
        "reference",
        "status",
        "user_id",
        "movie_title",
        "starts_at",
        "total_amount",
        "currency",
        "created_at",
    ]
    list_filter = ["status", "cancel_reason", ("showtime", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["showtime"]
    search_fields = ["=id", "=reference", "=user_id", "user_email", "movie_title"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    readonly_fields = [field.name for field in Booking._meta.fields]
    inlines = [BookingSeatInline, TimelineInline]
    actions = ["cancel_bookings"]

    @admin.action(description="Cancel the selected bookings (seats released, paid ones refunded)")
    def cancel_bookings(self, request, queryset):
        cancelled = 0
        for booking_id, user_id, reference in queryset.values_list("id", "user_id", "reference"):
            try:
                services.booking_cancel(booking_id=booking_id, user_id=user_id, staff=request.user.get_username())
                cancelled += 1
            except APIException as exc:
                self.message_user(request, f"{reference}: {exc.detail}", level=messages.WARNING)
        self.message_user(request, f"{cancelled} booking(s) cancelled.")


@admin.register(ShowtimeReplica)
class ShowtimeReplicaAdmin(SystemRowsAdmin):
    """The movie service's showtimes as events left them. A replica deleted by hand came back as
    scheduled from a late snapshot, even one that had been cancelled."""

    list_display = ["id", "movie_title", "cinema_name", "screen_name", "starts_at", "status", "version"]
    list_filter = ["status", "cinema_name"]
    search_fields = ["=id", "movie_title", "cinema_name"]
    readonly_fields = [field.name for field in ShowtimeReplica._meta.fields]
