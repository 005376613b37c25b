from rest_framework import serializers

from .models import Payment


class PaymentSerializer(serializers.ModelSerializer):
    amount = serializers.CharField(read_only=True, help_text='Decimal string in the currency\'s units, e.g. "12.50".')

    class Meta:
        model = Payment
        fields = ["id", "booking_id", "amount", "currency", "status", "failure_reason", "created_at"]
        read_only_fields = fields


class WebhookAckSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["processed", "duplicate", "ignored"])


class WebhookEventSerializer(serializers.Serializer):
    """A provider callback: ``{"id": "evt_…", "type": "charge.succeeded", "data": {"object": {charge}}}``."""

    id = serializers.CharField(max_length=255)
    type = serializers.CharField(max_length=100)
    data = serializers.DictField()
