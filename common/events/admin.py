"""Admin of the outbox (with a replay action) and of the inbox (read-only)."""

from __future__ import annotations

from django.contrib import admin, messages

from common.admin import SystemRowsAdmin

from .models import InboxEvent, OutboxEvent
from .services import outbox_replay


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ("position", "type", "aggregate_id", "event_id", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "type")
    search_fields = ("event_id", "aggregate_id")
    ordering = ("-position",)
    readonly_fields = (
        "position",
        "event_id",
        "type",
        "aggregate_id",
        "envelope",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
    )
    actions = ["replay"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # The replay action needs it on the list; a row's own page stays read-only, since its
        # Save would write the row back as read over the relay's update (sent back to pending).
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Replay: send the selected failed or sent events again", permissions=["change"])
    def replay(self, request, queryset) -> None:
        count = outbox_replay(positions=queryset.values_list("position", flat=True))
        self.message_user(request, f"{count} event(s) queued to be sent again.", messages.SUCCESS)


@admin.register(InboxEvent)
class InboxEventAdmin(SystemRowsAdmin):
    list_display = ("id", "type", "correlation_id", "received_at")
    list_filter = ("type",)
    search_fields = ("id", "correlation_id")
    ordering = ("-received_at",)
    show_full_result_count = False
