"""``update_row`` writes what ``save(update_fields=…)`` would, on the real database, in one statement."""

import pytest
from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common.db.inserts import insert_rows
from common.db.updates import update_row
from common.events.models import OutboxEvent

pytestmark = pytest.mark.django_db


def stored_row(**overrides) -> OutboxEvent:
    values = {"type": "payments.payment.succeeded", "aggregate_id": "a1", "envelope": {"n": 1}}
    row = OutboxEvent(**{**values, **overrides})
    insert_rows([row])
    return row


def test_only_the_named_columns_of_that_row_change():
    # given two stored rows, and a change in memory to three fields of the first
    row, other = stored_row(), stored_row(aggregate_id="a2")
    sent_at = timezone.now()
    row.status, row.sent_at, row.attempts = OutboxEvent.Status.SENT, sent_at, 3
    row.last_error = "not written: not among the fields"

    # when two of them are updated
    with CaptureQueriesContext(connection) as queries:
        updated = update_row(row, ["status", "sent_at"])

    # then one statement wrote exactly those, on that row only
    assert updated == 1
    assert len(queries.captured_queries) == 1
    stored = OutboxEvent.objects.get(position=row.position)
    assert (stored.status, stored.sent_at, stored.attempts, stored.last_error) == (
        OutboxEvent.Status.SENT,
        sent_at,
        0,
        "",
    )
    untouched = OutboxEvent.objects.get(position=other.position)
    assert (untouched.status, untouched.sent_at) == (OutboxEvent.Status.PENDING, None)


def test_values_are_adapted_by_their_fields():
    # given a JSON field changed in memory (the backend needs it adapted, not a dict)
    row = stored_row()
    row.envelope = {"seats": ["A1", "B2"], "amount": "12.50"}

    # when
    update_row(row, ["envelope"])

    # then it is stored as save() would store it
    assert OutboxEvent.objects.get(position=row.position).envelope == {"seats": ["A1", "B2"], "amount": "12.50"}


def test_a_row_that_is_gone_updates_nothing():
    # given a row deleted behind the instance's back
    row = stored_row()
    OutboxEvent.objects.filter(position=row.position).delete()
    row.status = OutboxEvent.Status.SENT

    # when, then nothing is updated, and the caller sees it
    assert update_row(row, ["status"]) == 0
    assert OutboxEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "refusal"),
    [([], ValueError), (["position"], ValueError), (["no_such_field"], FieldDoesNotExist)],
    ids=["none", "primary-key", "unknown"],
)
def test_fields_that_cannot_be_updated_are_refused_before_any_statement(fields, refusal):
    row = stored_row()

    with CaptureQueriesContext(connection) as queries, pytest.raises(refusal):
        update_row(row, fields)

    assert queries.captured_queries == []
