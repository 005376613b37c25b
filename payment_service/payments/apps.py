from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payment_service.payments"
    label = "payments"
    default_auto_field = "django.db.models.BigAutoField"
