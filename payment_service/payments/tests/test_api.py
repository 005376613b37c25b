import uuid

import pytest
from rest_framework import status
from rest_framework.test import APIClient

from common.auth.testing import authenticated_client

from .factories import PaymentFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/payments/"


def detail_url(payment_id) -> str:
    return f"/api/payments/{payment_id}/"


def test_detail_shows_the_payment_with_a_decimal_amount():
    # given
    client = authenticated_client()
    payment = PaymentFactory(user_id=client.user_id, amount_minor=1250, currency="EUR")

    # when
    response = client.get(detail_url(payment.id))

    # then
    assert response.status_code == status.HTTP_200_OK
    assert response.json() == {
        "id": str(payment.id),
        "booking_id": str(payment.booking_id),
        "amount": "12.50",
        "currency": "EUR",
        "status": "pending",
        "failure_reason": "",
        "created_at": payment.created_at.isoformat().replace("+00:00", "Z"),
    }


@pytest.mark.parametrize(
    ("minor", "currency", "amount"), [(1500, "JPY", "1500"), (5, "USD", "0.05"), (1234, "KWD", "1.234")]
)
def test_amounts_use_the_currencys_decimals(minor, currency, amount):
    client = authenticated_client()
    payment = PaymentFactory(user_id=client.user_id, amount_minor=minor, currency=currency)

    assert client.get(detail_url(payment.id)).json()["amount"] == amount


def test_another_users_payment_is_not_found():
    # given
    payment = PaymentFactory()

    # when
    response = authenticated_client().get(detail_url(payment.id))

    # then
    assert response.status_code == status.HTTP_404_NOT_FOUND
    assert response.json() == {"detail": "No Payment matches the given query."}


def test_unknown_payment_is_not_found():
    assert authenticated_client().get(detail_url(uuid.uuid4())).status_code == status.HTTP_404_NOT_FOUND


@pytest.mark.parametrize("url", [LIST_URL, "/api/payments/00000000-0000-0000-0000-000000000000/"])
def test_anonymous_callers_are_refused(url):
    response = APIClient().get(url)
    assert response.status_code == status.HTTP_401_UNAUTHORIZED


def test_list_shows_only_the_callers_payments_newest_first(django_assert_num_queries):
    # given
    client = authenticated_client()
    older = PaymentFactory(user_id=client.user_id, status="succeeded")
    newer = PaymentFactory(user_id=client.user_id, status="failed", failure_reason="card_declined")
    PaymentFactory()  # someone else's

    # when
    with django_assert_num_queries(2):  # count + page
        response = client.get(LIST_URL)

    # then
    assert response.status_code == status.HTTP_200_OK
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (2, None, None)
    assert [(p["id"], p["status"], p["failure_reason"]) for p in body["results"]] == [
        (str(newer.id), "failed", "card_declined"),
        (str(older.id), "succeeded", ""),
    ]


def test_list_query_count_does_not_grow_with_the_page(django_assert_num_queries):
    client = authenticated_client()
    PaymentFactory.create_batch(25, user_id=client.user_id)

    with django_assert_num_queries(2):
        response = client.get(LIST_URL, {"page_size": 25})

    assert len(response.json()["results"]) == 25


def test_list_paginates():
    client = authenticated_client()
    PaymentFactory.create_batch(3, user_id=client.user_id)

    body = client.get(LIST_URL, {"page_size": 2}).json()

    assert (body["count"], len(body["results"])) == (3, 2)
    assert body["next"].endswith("/api/payments/?page=2&page_size=2")


def test_ordering_by_a_shared_value_pages_through_every_payment_once():
    client = authenticated_client()
    payments = PaymentFactory.create_batch(6, user_id=client.user_id, status="succeeded")

    pages = [client.get(LIST_URL, {"ordering": "status", "page_size": 2, "page": page}).json() for page in (1, 2, 3)]

    ids = [item["id"] for body in pages for item in body["results"]]
    assert ids == sorted(str(payment.id) for payment in payments)  # then by id: one order, query after query


def test_list_filters_by_status():
    client = authenticated_client()
    refunded = PaymentFactory(user_id=client.user_id, status="refunded")
    PaymentFactory(user_id=client.user_id, status="succeeded")

    body = client.get(LIST_URL, {"status": "refunded"}).json()

    assert [p["id"] for p in body["results"]] == [str(refunded.id)]


def test_list_rejects_an_unknown_status_filter():
    response = authenticated_client().get(LIST_URL, {"status": "lost"})

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert list(response.json()) == ["status"]
