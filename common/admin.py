"""What every service's admin shares: pages of rows only the system writes."""

from __future__ import annotations

from django.contrib import admin


class SystemRowsAdmin(admin.ModelAdmin):
    """Rows written by the system only (bookings, payments, replicas, sent mail): shown, never
    edited or deleted by hand. Staff act on them through admin actions that call services.

    A change page with every field read-only still saved: Save wrote back the whole row as it was
    read, without a lock, over whatever a saga step committed meanwhile (a confirmed booking back
    to pending). And a replica or contact deleted by hand broke what the events had built.
    """

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
