import json
import time
import uuid

import pytest
from django.conf import settings
from rest_framework import status
from rest_framework.test import APIClient

from common.events import types
from common.events.testing import published
from payment_service.payments.models import Payment, ProviderWebhookEvent
from payment_service.payments.webhooks import InvalidSignatureError, signature_header, verify_signature

from .factories import PaymentFactory

pytestmark = pytest.mark.django_db

URL = "/api/payments/webhook/"
SECRET = "whsec_current"
OLD_SECRET = "whsec_previous"


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.PAYMENT_WEBHOOK_SECRETS = [SECRET, OLD_SECRET]
    settings.PAYMENT_WEBHOOK_TOLERANCE_SECONDS = 300


def charge_event(payment, event_type="charge.succeeded", event_id=None, **charge) -> dict:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "type": event_type,
        "data": {"object": {"id": "ch_sim_webhook", "metadata": {"payment_id": str(payment.id)}, **charge}},
    }


def post(payload, *, secret=SECRET, timestamp=None, header=None, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    if header is None:
        header = signature_header(secret, body, timestamp)
    headers = {"HTTP_PROVIDER_SIGNATURE": header} if header else {}
    return APIClient().post(URL, body, content_type="application/json", **headers)


def state():
    return list(Payment.objects.values()), published(), ProviderWebhookEvent.objects.count()


def test_a_signed_charge_succeeded_confirms_a_pending_payment_once():
    # given
    payment = PaymentFactory(amount_minor=1250)
    event = charge_event(payment)

    # when
    first = post(event)
    replay = post(event)

    # then
    assert (first.status_code, first.json()) == (status.HTTP_200_OK, {"status": "processed"})
    assert (replay.status_code, replay.json()) == (status.HTTP_200_OK, {"status": "duplicate"})
    payment.refresh_from_db()
    assert (payment.status, payment.provider_charge_id) == ("succeeded", "ch_sim_webhook")
    assert [e["type"] for e in published()] == [types.PAYMENT_SUCCEEDED]
    assert ProviderWebhookEvent.objects.get().outcome == "processed"


def test_a_webhook_confirming_what_we_know_publishes_nothing():
    payment = PaymentFactory(status="succeeded", provider_charge_id="ch_known")

    response = post(charge_event(payment, event_id="evt_1"))

    assert response.json() == {"status": "processed"}
    payment.refresh_from_db()
    assert (payment.status, payment.provider_charge_id) == ("succeeded", "ch_known")
    assert published() == []


def test_charge_failed_fails_a_pending_payment_with_the_decline_code():
    payment = PaymentFactory()

    post(charge_event(payment, "charge.failed", failure_code="insufficient_funds"))

    payment.refresh_from_db()
    assert (payment.status, payment.failure_reason) == ("failed", "insufficient_funds")
    assert [e["data"]["reason"] for e in published(types.PAYMENT_FAILED)] == ["insufficient_funds"]


def test_charge_refunded_records_the_refund_once_found_by_charge_id():
    # given
    payment = PaymentFactory(status="succeeded", provider_charge_id="ch_paid")
    event = {
        "id": "evt_refund",
        "type": "charge.refunded",
        "data": {"object": {"id": "ch_paid", "refunds": {"data": [{"id": "re_1"}]}}},
    }

    # when
    post(event)
    post({**event, "id": "evt_refund_again"})

    # then
    payment.refresh_from_db()
    assert (payment.status, payment.provider_refund_id) == ("refunded", "re_1")
    assert [e["type"] for e in published()] == [types.PAYMENT_REFUNDED]


def test_unknown_types_and_payments_are_acknowledged_and_ignored():
    payment = PaymentFactory()

    unknown_type = post(charge_event(payment, "charge.dispute.created"))
    unknown_payment = post({"id": "evt_x", "type": "charge.succeeded", "data": {"object": {"id": "ch_nobody"}}})

    assert unknown_type.json() == unknown_payment.json() == {"status": "ignored"}
    payment.refresh_from_db()
    assert payment.status == "pending"
    assert published() == []


def test_the_previous_secret_is_still_accepted_during_rotation():
    payment = PaymentFactory()

    response = post(charge_event(payment), secret=OLD_SECRET)

    assert response.status_code == status.HTTP_200_OK
    payment.refresh_from_db()
    assert payment.status == "succeeded"


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("", "Missing Provider-Signature header."),
        ("v1=abc", "The Provider-Signature header needs t= and v1=."),
        ("t=soon,v1=abc", "The signature timestamp is not an integer."),
        ("t={now},v1=" + "0" * 64, "No signature matches."),
        ("wrong-secret", "No signature matches."),
        ("stale", "The signature timestamp is outside the tolerance window."),
        ("future", "The signature timestamp is outside the tolerance window."),
        ("t=" + "9" * 400 + ",v1=abc", "The signature timestamp is outside the tolerance window."),
        ("t={now},v1=\xe9" + "0" * 63, "No signature matches."),
    ],
)
def test_unsigned_badly_signed_or_stale_requests_are_refused_without_effect(header, detail):
    # given
    payment = PaymentFactory()
    event = charge_event(payment)
    body = json.dumps(event).encode()
    now = int(time.time())
    header = {
        "wrong-secret": signature_header("whsec_attacker", body),
        # A minute past the window: a slow machine's seconds between signing and verifying stay outside it.
        "stale": signature_header(SECRET, body, now - settings.PAYMENT_WEBHOOK_TOLERANCE_SECONDS - 60),
        "future": signature_header(SECRET, body, now + settings.PAYMENT_WEBHOOK_TOLERANCE_SECONDS + 60),
    }.get(header, header.format(now=now))
    before = state()

    # when
    response = post(event, raw=body, header=header)

    # then
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.json() == {"detail": detail}
    assert state() == before


def test_a_signature_for_another_body_is_refused():
    payment = PaymentFactory()
    signed = json.dumps(charge_event(payment, "charge.failed")).encode()
    tampered = json.dumps(charge_event(payment, "charge.succeeded")).encode()

    response = post(None, raw=tampered, header=signature_header(SECRET, signed))

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    payment.refresh_from_db()
    assert payment.status == "pending"


@pytest.mark.parametrize(
    ("raw", "code"),
    [(b"{not json", 400), (b"[1, 2]", 400), (b'{"type": "charge.succeeded"}', 400), (b"[" * 5000, 400)],
)
def test_signed_but_malformed_bodies_are_refused(raw, code):
    before = state()

    response = post(None, raw=raw)

    assert response.status_code == code
    assert state() == before


def test_no_secret_configured_refuses_everything(settings):
    settings.PAYMENT_WEBHOOK_SECRETS = []
    payment = PaymentFactory()

    response = post(charge_event(payment))

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.json() == {"detail": "No signature matches."}


def test_verify_signature_accepts_any_of_several_v1_values():
    body = b"{}"
    header = f"t=100,v1=deadbeef,v1={signature_header(SECRET, body, 100).split('v1=')[1]}"

    assert verify_signature(header, body, secrets=[SECRET], tolerance_seconds=300, now=150) == 100
    with pytest.raises(InvalidSignatureError):
        verify_signature(header, body, secrets=[SECRET], tolerance_seconds=10, now=150)


def test_a_success_for_a_payment_the_provider_declined_is_kept_as_a_conflict(enqueued):
    payment = PaymentFactory(status="failed", failure_reason="card_declined", provider_charge_id="ch_declined")

    response = post(charge_event(payment, event_id="evt_late"))

    assert response.json() == {"status": "processed"}
    payment.refresh_from_db()
    assert (payment.status, payment.failure_reason) == ("failed", "card_declined")
    assert ProviderWebhookEvent.objects.get().outcome == "conflict"
    assert (published(), enqueued.calls) == ([], [])


def test_a_success_for_a_payment_we_gave_up_on_is_refunded(enqueued, django_capture_on_commit_callbacks):
    payment = PaymentFactory(status="failed", failure_reason="provider_unavailable", refund_requested=True, attempts=6)

    with django_capture_on_commit_callbacks(execute=True):
        response = post(charge_event(payment, event_id="evt_late"))

    assert response.json() == {"status": "processed"}
    payment.refresh_from_db()
    assert (payment.status, payment.provider_charge_id) == ("succeeded", "ch_sim_webhook")
    assert ProviderWebhookEvent.objects.get().outcome == "processed"
    assert enqueued.calls == [("refund", str(payment.id))]
    assert published() == []  # the booking was told it failed; the refund will say the rest
