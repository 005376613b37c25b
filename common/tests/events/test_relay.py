"""The outbox relay: rows written in a transaction reach the broker after commit, once each."""

import threading
import time
import uuid

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from common.config.celery import filesystem_broker_options
from common.events import background, relay, types
from common.events.envelope import EventSchemaError
from common.events.models import OutboxEvent
from common.events.publisher import publish
from common.tests.app.models import Counter
from common.tests.events.support import drain, events_queue_size, payment_data

pytestmark = pytest.mark.django_db(transaction=True)


def test_committed_event_is_sent_after_commit_and_applied_once():
    # given a payment event published in a transaction
    data = payment_data()
    with transaction.atomic():
        row = publish(types.PAYMENT_SUCCEEDED, data, aggregate_id=data["payment_id"])

    # then the after-commit relay sent it, confirmed
    row.refresh_from_db()
    assert row.status == OutboxEvent.Status.SENT
    assert row.sent_at is not None
    assert row.attempts == 0
    assert events_queue_size() == 1

    # when the consumer takes it
    assert drain(expected=1) == 1

    # then its effect happened once
    assert Counter.objects.get(key=data["payment_id"]).value == 1
    assert events_queue_size() == 0


def test_rolled_back_transaction_leaves_no_row_and_sends_nothing():
    # given an event published in a transaction that then fails
    data = payment_data()

    def failing_change():
        with transaction.atomic():
            publish(types.PAYMENT_SUCCEEDED, data, aggregate_id=data["payment_id"])
            raise RuntimeError("the change it reports failed")

    with pytest.raises(RuntimeError):
        failing_change()

    # when the relay sweeps
    sent = relay.sweep_outbox()

    # then the event never existed
    assert sent == 0
    assert OutboxEvent.objects.count() == 0
    assert events_queue_size() == 0
    assert drain(idle=0.5) == 0
    assert Counter.objects.count() == 0


def test_schema_violating_event_is_refused_at_publish_time():
    # given data missing a required field and with a malformed amount
    data = payment_data()
    del data["booking_id"]
    data["amount"] = "12.5"

    # when it is published, then it is refused before anything is written
    with pytest.raises(EventSchemaError, match=r"booking_id.*|amount"), transaction.atomic():
        publish(types.PAYMENT_SUCCEEDED, data, aggregate_id=data["payment_id"])
    assert OutboxEvent.objects.count() == 0
    assert events_queue_size() == 0


def _write_rows(aggregates: list[str], per_aggregate: int) -> None:
    # Rows written without the after-commit send, as if the broker had been unreachable.
    with transaction.atomic():
        for index in range(per_aggregate):
            for aggregate in aggregates:
                data = payment_data(amount=f"{index + 1}.00")
                data["booking_id"] = aggregate
                publish(types.PAYMENT_SUCCEEDED, data, aggregate_id=aggregate)
        connection.run_on_commit = []


def _sent_order(expected: int) -> list[tuple[str, str]]:
    from common.tests.events.support import broker_connection, events_queue

    order = []
    with broker_connection() as conn:
        queue = events_queue("common")(conn.channel())
        for _ in range(expected):
            message = queue.get(no_ack=True, accept=["json"])
            assert message is not None
            body = message.decode() if isinstance(message.body, bytes | str) else message.body
            order.append((body["data"]["booking_id"], body["data"]["amount"]))
    return order


def test_sweep_sends_each_aggregate_in_written_order_and_holds_back_after_an_unsent_row():
    # given three aggregates with three events each, all pending
    aggregates = [str(uuid.uuid4()) for _ in range(3)]
    _write_rows(aggregates, per_aggregate=3)
    # and the first event of the first aggregate backing off (not due)
    first = OutboxEvent.objects.filter(aggregate_id=aggregates[0]).order_by("position").first()
    OutboxEvent.objects.filter(position=first.position).update(
        attempts=1, next_attempt_at="2999-01-01T00:00:00Z", last_error="boom"
    )

    # when the relay sweeps
    sent = relay.sweep_outbox()

    # then the other two aggregates went out in order, the held one not at all
    assert sent == 6
    assert OutboxEvent.objects.filter(aggregate_id=aggregates[0], status=OutboxEvent.Status.PENDING).count() == 3
    order = _sent_order(6)
    for aggregate in aggregates[1:]:
        assert [amount for agg, amount in order if agg == aggregate] == ["1.00", "2.00", "3.00"]
    assert all(agg != aggregates[0] for agg, _ in order)

    # when the held row becomes due
    OutboxEvent.objects.filter(position=first.position).update(next_attempt_at=None)
    assert relay.sweep_outbox() == 3

    # then its aggregate follows, in order
    assert [amount for _, amount in _sent_order(3)] == ["1.00", "2.00", "3.00"]


def test_the_file_system_broker_gets_one_aggregate_in_written_order(settings, tmp_path):
    # given the embedded default's broker, which sorts a queue by the millisecond of each put
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(tmp_path)
    # and two hundred events of one aggregate, enough for puts to straddle many millisecond boundaries
    aggregate = str(uuid.uuid4())
    _write_rows([aggregate], per_aggregate=200)

    # when the relay sends them
    assert relay.sweep_outbox() == 200

    # then they come off the queue in the order they were written
    assert [amount for _, amount in _sent_order(200)] == [f"{index}.00" for index in range(1, 201)]


def test_two_concurrent_sweeps_send_each_row_once(settings):
    from common.testing.infrastructure import require_postgres_database

    require_postgres_database(settings)
    # given 200 pending rows on 200 aggregates
    aggregates = [str(uuid.uuid4()) for _ in range(200)]
    _write_rows(aggregates, per_aggregate=1)
    settings.COMMON = {**settings.COMMON, "EVENTS": {**settings.COMMON["EVENTS"], "RELAY_BATCH_SIZE": 20}}
    results: list[int] = []
    barrier = threading.Barrier(2)

    def sweep():
        try:
            barrier.wait()
            results.append(relay.sweep_outbox())
        finally:
            connection.close()

    # when two relays sweep at the same time
    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then every row was sent exactly once between them
    assert sum(results) == 200
    assert OutboxEvent.objects.filter(status=OutboxEvent.Status.SENT).count() == 200
    assert events_queue_size() == 200


def test_an_aggregate_stuck_behind_a_failed_row_does_not_starve_the_others(settings):
    # given an aggregate whose first row failed for good, followed by more rows than a batch
    stuck, other = str(uuid.uuid4()), str(uuid.uuid4())
    _write_rows([stuck], per_aggregate=6)
    first = OutboxEvent.objects.filter(aggregate_id=stuck).order_by("position").first()
    OutboxEvent.objects.filter(position=first.position).update(status=OutboxEvent.Status.FAILED, attempts=20)
    # and a younger row of another aggregate
    _write_rows([other], per_aggregate=1)
    settings.COMMON = {**settings.COMMON, "EVENTS": {**settings.COMMON["EVENTS"], "RELAY_BATCH_SIZE": 3}}

    # when the relay sweeps
    sent = relay.sweep_outbox()

    # then the other aggregate's row went out; the stuck aggregate waits, in order, for a replay
    assert sent == 1
    assert OutboxEvent.objects.get(aggregate_id=other).status == OutboxEvent.Status.SENT
    assert OutboxEvent.objects.filter(aggregate_id=stuck, status=OutboxEvent.Status.PENDING).count() == 5
    assert events_queue_size() == 1


def test_in_production_the_after_commit_send_runs_on_the_relay_thread(settings, monkeypatch):
    # given the relay configured as in production, and a record of which thread sends
    settings.COMMON = {**settings.COMMON, "EVENTS": {**settings.COMMON["EVENTS"], "RELAY_IN_BACKGROUND": True}}
    senders = []
    original = relay.relay_after_commit

    def recording(positions):
        senders.append(threading.current_thread().name)
        original(positions)

    monkeypatch.setattr(relay, "relay_after_commit", recording)
    data = payment_data()

    # when an event is published and its transaction commits
    with transaction.atomic():
        row = publish(types.PAYMENT_SUCCEEDED, data, aggregate_id=data["payment_id"])

    # then the relay thread sends it, without any sweep, and the committing thread did not wait
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and OutboxEvent.objects.get(pk=row.pk).status != OutboxEvent.Status.SENT:
        time.sleep(0.05)
    assert OutboxEvent.objects.get(pk=row.pk).status == OutboxEvent.Status.SENT
    assert senders == ["outbox-relay"]
    assert drain(expected=1) == 1


def test_the_relay_thread_does_not_health_check_its_connection_before_each_batch(settings, monkeypatch):
    # given the relay thread of production, and a record of who checks a connection's health
    settings.COMMON = {**settings.COMMON, "EVENTS": {**settings.COMMON["EVENTS"], "RELAY_IN_BACKGROUND": True}}
    checked_by = []
    wrapper = type(connections["default"])
    is_usable = wrapper.is_usable

    def recording(self):
        checked_by.append(threading.current_thread().name)
        return is_usable(self)

    monkeypatch.setattr(wrapper, "is_usable", recording)

    # when three events commit one after the other, each sent in a batch of its own
    for _ in range(3):
        _publish_and_wait_until_sent()

    # then all were sent, with no SELECT 1 on the relay's connection before any batch
    assert OutboxEvent.objects.exclude(status=OutboxEvent.Status.SENT).count() == 0
    assert "outbox-relay" not in checked_by
    assert drain(expected=3) == 3


def test_the_relay_thread_reconnects_after_its_connection_was_terminated(settings, monkeypatch):
    # given the relay thread of production, whose connection has sent an event
    if connection.vendor != "postgresql":
        pytest.skip("terminates a PostgreSQL backend")
    settings.COMMON = {**settings.COMMON, "EVENTS": {**settings.COMMON["EVENTS"], "RELAY_IN_BACKGROUND": True}}
    backends = []
    original = relay.relay_after_commit

    def recording(positions):
        original(positions)
        backends.append(connection.connection.info.backend_pid if connection.connection else None)

    monkeypatch.setattr(relay, "relay_after_commit", recording)
    first = _publish_and_wait_until_sent()
    assert first.status == OutboxEvent.Status.SENT

    # when its backend is terminated, and two more events commit one after the other
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [backends[-1]])
    second = _publish_and_wait_until_sent()
    third = _publish_and_wait_until_sent()

    # then the relay thread sent the third on a new connection; the second, if its batch met the
    # dead connection, waits for the sweep, which sends it
    assert third.status == OutboxEvent.Status.SENT
    assert backends[-1] not in (None, backends[0])
    assert second.status in (OutboxEvent.Status.SENT, OutboxEvent.Status.PENDING)
    relay.sweep_outbox()
    assert OutboxEvent.objects.exclude(status=OutboxEvent.Status.SENT).count() == 0
    assert drain(expected=3) == 3


def _publish_and_wait_until_sent(seconds: float = 5) -> OutboxEvent:
    data = payment_data()
    with transaction.atomic():
        row = publish(types.PAYMENT_SUCCEEDED, data, aggregate_id=data["payment_id"])
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and OutboxEvent.objects.get(pk=row.pk).status != OutboxEvent.Status.SENT:
        time.sleep(0.02)
    return OutboxEvent.objects.get(pk=row.pk)


def test_rows_handed_over_together_go_in_one_claim_in_order():
    # given four committed rows of two aggregates, not yet sent
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    _write_rows([first, second], per_aggregate=2)
    positions = list(OutboxEvent.objects.order_by("position").values_list("position", flat=True))

    # when the relay thread hands them over together
    with CaptureQueriesContext(connection) as queries:
        relay.relay_after_commit(positions)

    # then one claim sent them all, each aggregate in written order
    claims = [query for query in queries.captured_queries if query["sql"].lstrip().startswith("SELECT")]
    assert len(claims) == 1
    assert OutboxEvent.objects.exclude(status=OutboxEvent.Status.SENT).count() == 0
    order = _sent_order(4)
    for aggregate in (first, second):
        assert [amount for agg, amount in order if agg == aggregate] == ["1.00", "2.00"]


def test_a_row_handed_over_without_its_older_unsent_row_waits_for_the_sweep():
    # given two unsent rows of one aggregate
    aggregate = str(uuid.uuid4())
    _write_rows([aggregate], per_aggregate=2)
    older, newer = OutboxEvent.objects.order_by("position").values_list("position", flat=True)

    # when only the newer one is handed to the after-commit send
    relay.relay_after_commit([newer])

    # then nothing went out of order
    assert OutboxEvent.objects.filter(status=OutboxEvent.Status.SENT).count() == 0
    assert events_queue_size() == 0

    # and the sweep sends both, oldest first
    assert relay.sweep_outbox() == 2
    assert [amount for _, amount in _sent_order(2)] == ["1.00", "2.00"]
    assert {older, newer} == set(OutboxEvent.objects.filter(status="sent").values_list("position", flat=True))


def test_the_relay_thread_sends_what_queued_up_meanwhile_in_one_batch(monkeypatch):
    # given a relay thread busy with a first row
    busy, release = threading.Event(), threading.Event()
    batches: list[list[int]] = []

    def slow_relay(positions):
        batches.append(list(positions))
        busy.set()
        release.wait(10)

    monkeypatch.setattr(relay, "relay_after_commit", slow_relay)
    thread = background._RelayThread()
    thread.submit(1)
    assert busy.wait(10)

    # when five more rows commit meanwhile
    for position in range(2, 7):
        thread.submit(position)
    release.set()
    thread.drain(10)

    # then they went in one batch
    assert batches == [[1], [2, 3, 4, 5, 6]]
