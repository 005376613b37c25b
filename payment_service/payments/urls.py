from django.urls import path

from .apis import PaymentDetailApi, PaymentListApi, WebhookApi

app_name = "payments"

urlpatterns = [
    path("", PaymentListApi.as_view(), name="payment-list"),
    path("webhook/", WebhookApi.as_view(), name="webhook"),
    path("<uuid:payment_id>/", PaymentDetailApi.as_view(), name="payment-detail"),
]
