from django.contrib import admin, messages

from .models import Payment, ProviderWebhookEvent, SimulatedCharge, SimulatedRefund
from .services import payment_refund_request


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the system only: shown, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
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
class ProviderWebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["provider_event_id", "type", "outcome", "received_at"]
    list_filter = ["type", "outcome"]
    search_fields = ["provider_event_id"]


@admin.register(SimulatedCharge)
class SimulatedChargeAdmin(ReadOnlyAdmin):
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
class SimulatedRefundAdmin(ReadOnlyAdmin):
    list_display = ["id", "idempotency_key", "charge_id", "amount_minor", "created_at"]
    search_fields = ["id", "idempotency_key", "charge_id"]
