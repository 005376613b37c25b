import uuid

import factory

from payment_service.payments.models import Payment


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    booking_id = factory.LazyFunction(uuid.uuid4)
    user_id = factory.LazyFunction(uuid.uuid4)
    amount_minor = 2500
    currency = "EUR"
    payment_method = "pm_card_visa"
    status = Payment.Status.PENDING


def booking_created_data(**overrides) -> dict:
    """``bookings.booking.created`` data as the booking service sends it."""
    data = {
        "booking_id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
        "showtime_id": str(uuid.uuid4()),
        "seats": ["A1", "A2"],
        "amount": "25.00",
        "currency": "EUR",
        "payment_method": "pm_card_visa",
        "expires_at": "2030-01-01T12:10:00+00:00",
    }
    data.update(overrides)
    return data


def booking_cancelled_data(created: dict, reason: str = "user_cancelled") -> dict:
    return {"booking_id": created["booking_id"], "user_id": created["user_id"], "reason": reason}
