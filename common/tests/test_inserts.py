"""``insert_rows`` writes what ``save()`` would, on the real database, without the query compiler."""

import datetime as dt
import threading
import time
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common.db.inserts import insert_rows
from common.events.models import OutboxEvent
from common.tests.app.models import Counter

pytestmark = pytest.mark.django_db


def outbox_row(**overrides) -> OutboxEvent:
    values = {"type": "payments.payment.succeeded", "aggregate_id": "a1", "envelope": {"seats": ["A1"], "n": 1}}
    return OutboxEvent(**{**values, **overrides})


def test_a_row_is_stored_with_defaults_auto_now_and_its_auto_key():
    # given a row with defaults, a JSON field and an auto_now_add field left to the insert
    row = outbox_row()
    before = timezone.now()

    # when
    with CaptureQueriesContext(connection) as queries:
        insert_rows([row])

    # then one statement wrote it, and the instance holds the database's key and timestamp
    assert len(queries.captured_queries) == 1
    stored = OutboxEvent.objects.get()
    assert row.position == stored.position
    assert row.created_at == stored.created_at
    assert before <= stored.created_at <= timezone.now()
    assert stored.event_id == row.event_id
    assert (stored.type, stored.aggregate_id, stored.envelope) == ("payments.payment.succeeded", "a1", row.envelope)
    assert (stored.status, stored.attempts, stored.last_error, stored.sent_at) == (
        OutboxEvent.Status.PENDING,
        0,
        "",
        None,
    )
    assert row._state.adding is False


def test_several_rows_go_in_one_statement_and_each_gets_its_own_key():
    rows = [outbox_row(aggregate_id=f"a{number}") for number in range(3)]

    with CaptureQueriesContext(connection) as queries:
        insert_rows(rows)

    assert len(queries.captured_queries) == 1
    stored = dict(OutboxEvent.objects.values_list("aggregate_id", "position"))
    assert stored == {row.aggregate_id: row.position for row in rows}
    assert len(set(stored.values())) == 3


def test_values_are_adapted_by_their_fields():
    # a UUID given as text and an aware datetime: the fields convert them as save() would
    event_id = uuid.uuid4()
    due = timezone.now() + dt.timedelta(minutes=5)

    insert_rows([outbox_row(event_id=str(event_id), next_attempt_at=due)])

    stored = OutboxEvent.objects.get()
    assert stored.event_id == event_id
    assert stored.next_attempt_at == due


def test_a_refusing_unique_index_raises_integrity_error_naming_it_and_writes_nothing():
    Counter.objects.create(key="taken")

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        insert_rows([Counter(key="free"), Counter(key="taken")])

    assert refused.value.__cause__.diag.constraint_name == f"{Counter._meta.db_table}_key_key"
    assert list(Counter.objects.values_list("key", flat=True)) == ["taken"]


def test_no_rows_is_no_statement():
    with CaptureQueriesContext(connection) as queries:
        insert_rows([])

    assert queries.captured_queries == []


def test_ignore_conflicts_skips_a_refused_row_and_the_transaction_goes_on():
    # given a key already taken
    Counter.objects.create(key="taken")

    # when the same key is inserted again inside a transaction, with no savepoint around it
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        skipped = Counter(key="taken", value=7)
        written = insert_rows([skipped], ignore_conflicts=True)
        fresh = Counter(key="free")
        written_after = insert_rows([fresh], ignore_conflicts=True)

    # then nothing was written for it, and the transaction could still write
    assert (written, written_after) == (0, 1)
    assert skipped.pk is None
    assert skipped._state.adding is True
    assert fresh.pk is not None
    assert len(queries.captured_queries) == 2
    assert dict(Counter.objects.values_list("key", "value")) == {"taken": 0, "free": 0}


def test_ignore_conflicts_refuses_several_rows_whose_keys_it_reads_back():
    with CaptureQueriesContext(connection) as queries, pytest.raises(ValueError, match="one row at a time"):
        insert_rows([Counter(key="a"), Counter(key="b")], ignore_conflicts=True)

    assert queries.captured_queries == []


@pytest.mark.django_db(transaction=True)
def test_ignore_conflicts_waits_for_a_concurrent_insert_of_the_same_key_and_then_skips():
    # given a transaction that inserted a key and has not committed yet
    inserted, done = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():
            Counter.objects.create(key="contended", value=1)
            inserted.set()
            time.sleep(0.5)
        connection.close()
        done.set()

    thread = threading.Thread(target=first)
    thread.start()
    inserted.wait(5)

    # when a second one inserts the same key
    started = time.monotonic()
    with transaction.atomic():
        written = insert_rows([Counter(key="contended", value=2)], ignore_conflicts=True)
    waited = time.monotonic() - started
    thread.join(5)

    # then it waited for the first to commit and wrote nothing
    assert done.is_set()
    assert written == 0
    assert waited >= 0.3
    assert list(Counter.objects.values_list("key", "value")) == [("contended", 1)]
