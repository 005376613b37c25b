from django.contrib import admin, messages

from common.admin import SystemRowsAdmin

from .models import Payment, ProviderWebhookEvent, SimulatedCharge, SimulatedRefund
from .services import payment_refund_request


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
    actions = ["refund"]

    @admin.display(description="amount")
    def amount(self, payment: Payment) -> str:
        return payment.amount

    @admin.action(description="Refund the selected payments (pending ones once their charge succeeds)")
    def refund(self, request, queryset):
        # The same service function as the bookings.booking.cancelled handler.
        requested = skipped = 0
        for payment_id in queryset.values_list("id", flat=True):
            payment = payment_refund_request(payment_id=payment_id)
            if payment.status in (Payment.Status.PENDING, Payment.Status.SUCCEEDED):
                requested += 1
            else:
                skipped += 1
        self.message_user(request, f"Refund requested for {requested} payment(s).", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"{skipped} failed or refunded payment(s) skipped.", messages.WARNING)


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
