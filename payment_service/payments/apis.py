"""The payment API: the caller's payments, and the provider's webhook."""

from __future__ import annotations

import json

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .selectors import payment_list_for_user
from .serializers import PaymentSerializer, WebhookAckSerializer, WebhookEventSerializer
from .services import webhook_event_process
from .webhooks import SIGNATURE_HEADER, InvalidSignatureError, verify_signature


class InvalidWebhookSignature(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Invalid signature."
    default_code = "invalid_signature"


class PaymentListApi(generics.ListAPIView):
    serializer_class = PaymentSerializer
    filterset_fields = ["status"]

    def get_queryset(self):
        return payment_list_for_user(user_id=self.request.user.id)


class PaymentDetailApi(generics.RetrieveAPIView):
    serializer_class = PaymentSerializer
    lookup_url_kwarg = "payment_id"
    filter_backends = []

    def get_queryset(self):
        # Another user's payment is simply not in the caller's queryset: 404, not 403.
        return payment_list_for_user(user_id=self.request.user.id)


class WebhookApi(APIView):
    """Provider callbacks, authenticated by their HMAC signature instead of a user token."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=WebhookEventSerializer,
        responses={200: WebhookAckSerializer},
        parameters=[OpenApiParameter(SIGNATURE_HEADER, str, OpenApiParameter.HEADER, required=True)],
    )
    def post(self, request):
        raw_body = request.body  # the exact bytes that were signed; read before any parsing
        try:
            verify_signature(
                request.headers.get(SIGNATURE_HEADER),
                raw_body,
                secrets=settings.PAYMENT_WEBHOOK_SECRETS,
                tolerance_seconds=settings.PAYMENT_WEBHOOK_TOLERANCE_SECONDS,
            )
        except InvalidSignatureError as exc:
            raise InvalidWebhookSignature(str(exc)) from exc
        try:
            payload = json.loads(raw_body)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError; deep nesting is not
            raise ParseError("The body is not valid JSON.") from exc
        if not isinstance(payload, dict):
            raise ParseError("The body must be a JSON object.")
        event = WebhookEventSerializer(data=payload)
        event.is_valid(raise_exception=True)
        outcome = webhook_event_process(
            event_id=event.validated_data["id"],
            event_type=event.validated_data["type"],
            data=event.validated_data["data"],
        )
        return Response({"status": outcome}, status=status.HTTP_200_OK)
