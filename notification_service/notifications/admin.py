from django.contrib import admin, messages

from common.admin import SystemRowsAdmin

from . import services
from .models import Contact, Notification, Ticket


@admin.register(Notification)
class NotificationAdmin(SystemRowsAdmin):
    list_display = ["created_at", "kind", "recipient", "user_id", "subject", "status", "attempts", "sent_at"]
    list_filter = ["kind", "status"]
    search_fields = ["recipient", "=user_id", "=booking_id", "subject"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    actions = ["resend"]
    readonly_fields = [
        "id",
        "user_id",
        "kind",
        "recipient",
        "subject",
        "body_text",
        "body_html",
        "context",
        "status",
        "attempts",
        "last_error",
        "event_id",
        "dedupe_key",
        "booking_id",
        "created_at",
        "updated_at",
        "next_attempt_at",
        "sent_at",
        "read_at",
    ]

    @admin.action(description="Send the selected notifications again")
    def resend(self, request, queryset):
        queued = 0
        for notification_id, subject in queryset.values_list("id", "subject"):
            outcome = services.notification_resend(notification_id=notification_id)
            if outcome == "queued":
                queued += 1
            else:
                self.message_user(request, f"{subject}: not sent again, {outcome}.", messages.WARNING)
        self.message_user(request, f"{queued} notification(s) queued for sending again.", messages.SUCCESS)


@admin.register(Contact)
class ContactAdmin(SystemRowsAdmin):
    list_display = ["email", "full_name", "user_id", "updated_at"]
    search_fields = ["email", "full_name", "=user_id"]
    readonly_fields = ["user_id", "email", "full_name", "updated_at"]


@admin.register(Ticket)
class TicketAdmin(SystemRowsAdmin):
    list_display = ["reference", "movie_title", "cinema_name", "starts_at", "user_id", "cancelled_at"]
    list_filter = ["cancelled_at"]
    search_fields = ["reference", "=booking_id", "=user_id", "movie_title"]
    readonly_fields = [field.name for field in Ticket._meta.fields]
