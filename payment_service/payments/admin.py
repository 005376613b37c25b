from django.contrib import admin

from common.admin import SystemRowsAdmin

from .models import Payment, ProviderWebhookEvent, SimulatedCharge, SimulatedRefund


@admin.register(Payment)
class PaymentAdmin(SystemRowsAdmin):
    list_display = [
        "id",
        "booking_id",
        "user_id",
        "amount",
        "currency",
        "status",
        "failure_reason",
        "refund_requested",
        "attempts",
        "created_at",
    ]
    list_filter = ["status", "refund_requested", "currency", "failure_reason"]
    search_fields = ["booking_id", "id", "user_id", "provider_charge_id"]
    date_hierarchy = "created_at"
    # No refund of its own: a refund here left the booking confirmed and its seats sold (booking
    # does not consume payments.payment.refunded). Cancelling the booking in the booking admin
    # refunds it through the saga.

    @admin.display(description="amount")
    def amount(self, payment: Payment) -> str:
        return payment.amount


@admin.register(ProviderWebhookEvent)
class ProviderWebhookEventAdmin(SystemRowsAdmin):
    list_display = ["provider_event_id", "type", "outcome", "received_at"]
    list_filter = ["type", "outcome"]
    search_fields = ["provider_event_id"]


@admin.register(SimulatedCharge)
class SimulatedChargeAdmin(SystemRowsAdmin):
    list_display = [
        "id",
        "idempotency_key",
        "amount_minor",
        "currency",
        "payment_method",
        "status",
        "failure_code",
        "created_at",
    ]
    list_filter = ["status", "failure_code"]
    search_fields = ["id", "idempotency_key"]


@admin.register(SimulatedRefund)
class SimulatedRefundAdmin(SystemRowsAdmin):
    list_display = ["id", "idempotency_key", "charge_id", "amount_minor", "created_at"]
    search_fields = ["id", "idempotency_key", "charge_id"]
