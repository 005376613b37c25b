"""The consumer: each event's effect once, whatever the broker redelivers; poison set aside."""

import json
import random
import uuid

import pytest
from kombu import Producer
from kombu.pools import connections

from common.events import types
from common.events.broker import broker_connection
from common.events.conf import dead_queue_name, queue_name
from common.events.consumer import ATTEMPTS_HEADER, ERROR_HEADER, EventHandlerRunner, replay_dead_letters
from common.events.models import InboxEvent
from common.events.testing import make_envelope
from common.events.topology import dead_letter_queue, declare_all, exchange
from common.testing.infrastructure import set_own_database_accepting_connections
from common.tests.app.events import POISON_AMOUNT
from common.tests.app.models import Counter
from common.tests.events.support import dead_queue_size, drain, events_queue_size, payment_data
from common.tests.events.support import test_database_url as database_url

pytestmark = pytest.mark.django_db(transaction=True)


def send_raw(bodies: list, *, routing_key: str | None = None, to_queue: str | None = None) -> None:
    """Put bodies on the broker as a relay would (or straight into a queue by name)."""
    with connections[broker_connection()].acquire(block=True, timeout=10) as conn:
        declare_all(conn.default_channel)
        producer = Producer(conn.default_channel, auto_declare=False)
        for body in bodies:
            is_envelope = isinstance(body, dict)
            producer.publish(
                json.dumps(body) if is_envelope else body,
                exchange="" if to_queue else exchange(),
                routing_key=to_queue or routing_key or body["type"],
                content_type="application/json",
                delivery_mode=2,
                message_id=body["id"] if is_envelope else str(uuid.uuid4()),
            )


def test_each_of_200_events_delivered_three_times_shuffled_takes_effect_once():
    # given 200 events, each put on the queue three times in a random order
    envelopes = [make_envelope(types.PAYMENT_SUCCEEDED, payment_data()) for _ in range(200)]
    deliveries = envelopes * 3
    random.shuffle(deliveries)
    send_raw(deliveries)

    # when the consumer takes all 600 messages
    assert drain(expected=600) == 600

    # then each payment was counted once, each event is in the inbox once, the queue is empty
    counts = dict(Counter.objects.values_list("key", "value"))
    assert counts == {envelope["data"]["payment_id"]: 1 for envelope in envelopes}
    assert InboxEvent.objects.count() == 200
    assert events_queue_size() == 0
    assert dead_queue_size() == 0


def test_poison_message_reaches_the_dead_letter_queue_after_bounded_retries_while_100_good_ones_pass():
    # given a handler that always fails for one payment, among 100 good ones
    poison = make_envelope(types.PAYMENT_SUCCEEDED, payment_data(amount=POISON_AMOUNT))
    good = [make_envelope(types.PAYMENT_SUCCEEDED, payment_data()) for _ in range(100)]
    send_raw([*good[:50], poison, *good[50:]])

    # when the consumer runs until the queue is quiet
    drain(idle=1.5)

    # then every good event took effect once
    for envelope in good:
        assert Counter.objects.get(key=envelope["data"]["payment_id"]).value == 1
    # and the poison one is in the dead-letter queue, with its attempts and error, and no effect
    assert not Counter.objects.filter(key=poison["data"]["payment_id"]).exists()
    assert not InboxEvent.objects.filter(id=poison["id"]).exists()
    assert events_queue_size() == 0
    dead = _get_dead()
    assert json.loads(dead.body) == poison
    assert dead.headers[ATTEMPTS_HEADER] == 4  # CONSUMER_MAX_ATTEMPTS of the test settings
    assert dead.headers[ERROR_HEADER] == "RuntimeError: this payment can never be applied"
    assert dead.properties["message_id"] == poison["id"]


def _get_dead(service: str = "common"):
    with connections[broker_connection()].acquire(block=True, timeout=10) as conn:
        message = dead_letter_queue(service)(conn.default_channel).get(no_ack=True, accept=["json"])
        assert message is not None
        return message


@pytest.mark.parametrize(
    "body",
    [
        "this is not JSON",
        json.dumps(["a", "list"]),
        json.dumps({"id": "not-a-uuid", "type": types.PAYMENT_SUCCEEDED}),
        json.dumps({**make_envelope(types.PAYMENT_SUCCEEDED, payment_data()), "occurred_at": "yesterday"}),
        # RFC 3339 date-times that Python cannot read: they pass the schema's format check
        json.dumps({**make_envelope(types.PAYMENT_SUCCEEDED, payment_data()), "occurred_at": "2026-12-07t10:00:00z"}),
        json.dumps({**make_envelope(types.PAYMENT_SUCCEEDED, payment_data()), "occurred_at": "2026-12-31T23:59:60Z"}),
        json.dumps({**make_envelope(types.PAYMENT_SUCCEEDED, payment_data()), "causation_id": "the booking"}),
        "[" * 5000,
    ],
    ids=[
        "not-json",
        "not-an-object",
        "not-an-envelope",
        "occurred-at-not-a-date-time",
        "occurred-at-lower-case",
        "occurred-at-leap-second",
        "causation-id-not-a-uuid",
        "nested-too-deeply",
    ],
)
def test_malformed_message_goes_straight_to_the_dead_letter_queue(body):
    # given a message that can never be an event, on this service's queue
    send_raw([body], to_queue=queue_name("common"))

    # when the consumer takes it
    assert drain(expected=1) == 1

    # then it is in the dead-letter queue after one attempt, body untouched, nothing applied
    dead = _get_dead()
    assert (dead.body.decode() if isinstance(dead.body, bytes) else dead.body) == body
    assert dead.headers[ATTEMPTS_HEADER] == 1
    assert dead.headers[ERROR_HEADER].startswith("PoisonMessageError: ")
    assert events_queue_size() == 0
    assert InboxEvent.objects.count() == 0


def test_a_body_that_is_not_utf8_goes_straight_to_the_dead_letter_queue():
    # given bytes that no decoding as UTF-8 can read, on this service's queue
    body = b"\xff\xfe{not text}"
    with connections[broker_connection()].acquire(block=True, timeout=10) as conn:
        declare_all(conn.default_channel)
        Producer(conn.default_channel, auto_declare=False).publish(
            body, exchange="", routing_key=queue_name("common"), content_type="application/json", delivery_mode=2
        )

    # when the consumer takes it
    assert drain(expected=1) == 1

    # then it is dead after one attempt, its bytes untouched
    with connections[broker_connection()].acquire(block=True, timeout=10) as conn:
        dead = dead_letter_queue("common")(conn.default_channel).get(no_ack=True, accept=None)
    assert dead.body == body
    assert dead.headers[ATTEMPTS_HEADER] == 1
    assert dead.headers[ERROR_HEADER].startswith("PoisonMessageError: body is not UTF-8 JSON")
    assert events_queue_size() == 0


def test_an_attempts_header_that_is_not_a_count_is_read_as_none_and_the_event_applied(caplog):
    # given a good event whose x-attempts header some other tool set to a word
    envelope = make_envelope(types.PAYMENT_SUCCEEDED, payment_data())
    with connections[broker_connection()].acquire(block=True, timeout=10) as conn:
        declare_all(conn.default_channel)
        Producer(conn.default_channel, auto_declare=False).publish(
            json.dumps(envelope),
            exchange="",
            routing_key=queue_name("common"),
            content_type="application/json",
            delivery_mode=2,
            message_id=envelope["id"],
            headers={ATTEMPTS_HEADER: "many"},
        )

    # when the consumer takes it
    with caplog.at_level("WARNING", logger="common.events.consumer"):
        assert drain(expected=1) == 1

    # then it was applied and acked, and the header named in the log
    assert Counter.objects.get(key=envelope["data"]["payment_id"]).value == 1
    assert events_queue_size() == 0
    assert f"event {envelope['id']}: header x-attempts='many' is not a count" in caplog.text


def test_event_whose_data_breaks_the_schema_is_dead_lettered_without_retries():
    # given an envelope whose data does not match the catalogue (a producer bug)
    envelope = make_envelope(types.PAYMENT_SUCCEEDED, payment_data())
    envelope["data"]["amount"] = "twelve"
    send_raw([envelope])

    # when the consumer takes it
    assert drain(expected=1) == 1

    # then it is dead on the first attempt, with no effect
    dead = _get_dead()
    assert dead.headers[ATTEMPTS_HEADER] == 1
    assert dead.headers[ERROR_HEADER].startswith("PoisonMessageError: payments.payment.succeeded data does not match")
    assert Counter.objects.count() == 0
    assert InboxEvent.objects.count() == 0


def test_unknown_event_type_is_acknowledged_without_effect(caplog):
    # given an event of a type this version does not know, sent to this service's queue
    envelope = make_envelope(types.PAYMENT_SUCCEEDED, payment_data())
    envelope["type"] = "payments.payment.disputed"
    send_raw([envelope], to_queue=queue_name("common"))

    # when the consumer takes it
    with caplog.at_level("INFO", logger="common.events.processing"):
        assert drain(expected=1) == 1

    # then it is acked and logged, nothing else
    assert events_queue_size() == 0
    assert dead_queue_size() == 0
    assert InboxEvent.objects.count() == 0
    assert f"no handler for payments.payment.disputed {envelope['id']}" in caplog.text


def test_replayed_dead_letters_are_consumed_again():
    # given an event dead-lettered because its handler failed every time
    poison = make_envelope(types.PAYMENT_SUCCEEDED, payment_data(amount=POISON_AMOUNT))
    send_raw([poison])
    drain(idle=1.0)
    assert dead_queue_size() == 1

    # when the dead letters are replayed
    moved = replay_dead_letters("common")

    # then the message is back on the events queue with its attempts reset
    assert moved == 1
    assert dead_queue_size() == 0
    assert events_queue_size() == 1
    drain(idle=1.0)
    assert dead_queue_size() == 1


def test_message_that_cannot_be_dead_lettered_is_requeued_not_lost(monkeypatch, caplog):
    # given a poison message and a broker that refuses the first dead-letter publish
    envelope = make_envelope(types.PAYMENT_SUCCEEDED, payment_data())
    envelope["data"]["amount"] = "twelve"
    send_raw([envelope])
    republish = EventHandlerRunner.republish
    calls = []

    def broker_refuses_once(self, *args, **kwargs):
        calls.append(args[1])
        if len(calls) == 1:
            raise ConnectionError("connection reset")
        return republish(self, *args, **kwargs)

    monkeypatch.setattr(EventHandlerRunner, "republish", broker_refuses_once)

    # when the consumer takes it (twice: the first settle fails and gives it back)
    with caplog.at_level("ERROR", logger="common.events.consumer"):
        assert drain(expected=2) == 2

    # then it was requeued, taken again and dead-lettered once: not lost, not doubled
    assert f"event {envelope['id']} on {queue_name('common')} could not be settled; requeued" in caplog.text
    assert calls == [dead_queue_name("common"), dead_queue_name("common")]
    assert events_queue_size() == 0
    assert dead_queue_size() == 1


def test_the_inbox_entry_is_one_statement_and_a_redelivery_is_a_duplicate():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from common.events.processing import Outcome, apply_envelope

    # given an event
    envelope = make_envelope(types.PAYMENT_SUCCEEDED, payment_data())

    # when it is applied, then once more
    with CaptureQueriesContext(connection) as first:
        assert apply_envelope(envelope) == Outcome.APPLIED
    assert apply_envelope(envelope) == Outcome.DUPLICATE

    # then one statement wrote the inbox entry (no read before it), and the effect counted once
    inbox = [query["sql"] for query in first.captured_queries if "events_inboxevent" in query["sql"]]
    assert len(inbox) == 1
    assert inbox[0].startswith("INSERT")
    assert InboxEvent.objects.filter(id=envelope["id"]).count() == 1
    assert Counter.objects.get(key=envelope["data"]["payment_id"]).value == 1


def test_the_consumer_does_not_health_check_its_connection_before_each_message(monkeypatch):
    from django.db import connections as databases

    # given five events, and a record of every health check of a database connection
    checks = []
    wrapper = type(databases["default"])
    is_usable = wrapper.is_usable

    def recording(self):
        checks.append(self.alias)
        return is_usable(self)

    monkeypatch.setattr(wrapper, "is_usable", recording)
    envelopes = [make_envelope(types.PAYMENT_SUCCEEDED, payment_data()) for _ in range(5)]
    send_raw(envelopes)

    # when the consumer takes them
    assert drain(expected=5) == 5

    # then each was applied, with no SELECT 1 before any of them
    assert InboxEvent.objects.count() == 5
    assert checks == []


def test_a_message_that_meets_a_terminated_connection_is_retried_and_applied(settings):
    import psycopg
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("terminates a PostgreSQL backend")
    settings.COMMON = {**settings.COMMON, "EVENTS": {**settings.COMMON["EVENTS"], "CONSUMER_RETRY_DELAY": 0.1}}

    # given a consumer connection that has applied an event, then had its backend terminated
    send_raw([make_envelope(types.PAYMENT_SUCCEEDED, payment_data())])
    assert drain(expected=1) == 1
    backend = connection.connection.info.backend_pid
    with psycopg.connect(database_url(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [backend])

    # when the next event arrives
    envelope = make_envelope(types.PAYMENT_SUCCEEDED, payment_data())
    send_raw([envelope])
    drain(idle=1.5, timeout=15)

    # then it was applied once, on a new connection, and nothing was dead-lettered
    assert InboxEvent.objects.filter(id=envelope["id"]).count() == 1
    assert Counter.objects.get(key=envelope["data"]["payment_id"]).value == 1
    assert connection.connection.info.backend_pid != backend
    assert events_queue_size() == 0
    assert dead_queue_size() == 0


def test_an_event_that_meets_a_database_outage_waits_for_it_instead_of_being_dead_lettered(caplog):
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("closes a PostgreSQL database")

    # given an event, and the database refusing connections for 2 s: far longer than the test
    # settings' four attempts take (0.02 + 0.04 + 0.08 s of pauses)
    envelope = make_envelope(types.PAYMENT_SUCCEEDED, payment_data())
    send_raw([envelope])
    set_own_database_accepting_connections(accepting=False)
    reopen = threading.Timer(2.0, set_own_database_accepting_connections, kwargs={"accepting": True})
    reopen.start()
    try:
        # when the consumer takes it, through the outage and after
        with caplog.at_level("WARNING", logger="common.events.consumer"):
            handled = drain(idle=1.5, timeout=30)
    finally:
        reopen.join()
        set_own_database_accepting_connections(accepting=True)

    # then it was retried more often than its attempts allow, and applied once the database was back
    assert handled > 4, handled
    assert "the database is unavailable" in caplog.text
    assert InboxEvent.objects.filter(id=envelope["id"]).count() == 1
    assert Counter.objects.get(key=envelope["data"]["payment_id"]).value == 1
    assert events_queue_size() == 0
    assert dead_queue_size() == 0
