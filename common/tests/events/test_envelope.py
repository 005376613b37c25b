"""The catalogue's checks on an envelope and its data, on the producer's and the consumer's side."""

import datetime as dt
import uuid

import pytest

from common.events import types
from common.events.envelope import Event, EventSchemaError, build_envelope
from common.events.testing import make_envelope
from common.tests.events.support import booking_created_data, payment_data


def test_a_valid_envelope_becomes_an_event():
    # given an envelope as the relay sends it
    data = payment_data()
    envelope = make_envelope(types.PAYMENT_SUCCEEDED, data)

    # when it is received
    event = Event.from_envelope(envelope)

    # then its fields are typed and its data untouched
    assert event.id == uuid.UUID(envelope["id"])
    assert event.occurred_at == dt.datetime.fromisoformat(envelope["occurred_at"])
    assert event.causation_id is None
    assert event.data == data


def test_every_failing_field_of_the_data_is_named_in_path_order():
    # given data missing a field and with a malformed amount
    data = payment_data()
    del data["booking_id"]
    data["amount"] = "12.5"

    # when it is published, then both are named
    with pytest.raises(EventSchemaError) as refused:
        build_envelope(
            event_type=types.PAYMENT_SUCCEEDED, data=data, producer="test", correlation_id=None, causation_id=None
        )
    assert str(refused.value) == (
        "payments.payment.succeeded data does not match its schema: "
        '<data>: "booking_id" is a required property; '
        'amount: "12.5" does not match "^-?\\d+\\.\\d{2}$"'
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("expires_at", "tomorrow"), ("expires_at", "2026-12-07 06:15"), ("booking_id", "not-a-uuid")],
    ids=["date-time-word", "date-time-without-offset", "uuid"],
)
def test_data_breaking_a_format_is_refused_at_publish_time(field, value):
    # given booking.created data with one field in the wrong format
    data = booking_created_data(**{field: value})

    # when it is published, then the field is named
    refusal = rf"^bookings\.booking\.created data does not match its schema: {field}: "
    with pytest.raises(EventSchemaError, match=refusal):
        build_envelope(
            event_type=types.BOOKING_CREATED, data=data, producer="test", correlation_id=None, causation_id=None
        )


def test_an_envelope_with_a_malformed_occurred_at_is_a_schema_error_not_a_crash():
    # given an envelope whose timestamp is no RFC 3339 date-time (before, jsonschema skipped the
    # format and the parse below raised a ValueError, which the consumer retried as transient)
    envelope = make_envelope(types.PAYMENT_SUCCEEDED, payment_data())
    envelope["occurred_at"] = "yesterday"

    # when it is received, then it is refused as never applicable
    with pytest.raises(EventSchemaError, match=r'^malformed envelope: "yesterday" is not a "date-time"$'):
        Event.from_envelope(envelope)


def test_an_envelope_of_another_version_is_refused():
    # given an envelope of a version this catalogue does not have
    envelope = make_envelope(types.PAYMENT_SUCCEEDED, payment_data())
    envelope["version"] = 2

    # when it is received, then it is refused
    with pytest.raises(EventSchemaError, match=r"^payments\.payment\.succeeded v2 is not v1$"):
        Event.from_envelope(envelope)
