"""The worker's lanes: events applied in parallel, each aggregate's in order, every one acked once."""

import json
import logging
import random
import threading
import time
import uuid

import pytest
from kombu import Connection, Producer
from kombu.pools import connections
from prometheus_client import REGISTRY

from common.events import types
from common.events.broker import broker_connection
from common.events.conf import queue_name, service_name
from common.events.consumer import EventHandlerRunner
from common.events.lanes import AGGREGATE_HEADER, EventLanes, RetryTimers, lane_of
from common.events.models import InboxEvent
from common.events.testing import make_envelope
from common.events.topology import declare_all, exchange
from common.testing.infrastructure import closed_port
from common.tests.app.events import POISON_AMOUNT
from common.tests.app.models import Counter
from common.tests.events.support import dead_queue_size, events_queue_size, payment_data, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def send(envelopes_with_aggregates: list[tuple[dict, str]]) -> None:
    """Publish as the relay does: to the exchange, with the aggregate in a header."""
    with connections[broker_connection()].acquire(block=True, timeout=10) as conn:
        declare_all(conn.default_channel)
        producer = Producer(conn.default_channel, auto_declare=False)
        for envelope, aggregate in envelopes_with_aggregates:
            producer.publish(
                json.dumps(envelope),
                exchange=exchange(),
                routing_key=envelope["type"],
                content_type="application/json",
                delivery_mode=2,
                message_id=envelope["id"],
                headers={"x-event-type": envelope["type"], AGGREGATE_HEADER: aggregate},
            )


def event(aggregate: str, sequence: int) -> tuple[dict, str]:
    envelope = make_envelope(types.PAYMENT_SUCCEEDED, payment_data())
    envelope["data"]["sequence"] = sequence  # read by the recording runner only
    return envelope, aggregate


class RecordingRunner:
    """Stands in for EventHandlerRunner: records what each lane applied, and when; acks it."""

    def __init__(self, hold: str | None = None, pause: float = 0.0):
        self.service = service_name()
        self.queue = queue_name(self.service)
        self.hold = hold  # this aggregate's first event waits for `released`
        self.released = threading.Event()
        self.pause = pause
        self.applied: list[tuple[str, int, str]] = []
        self._lock = threading.Lock()

    def on_message(self, message) -> None:
        body = json.loads(message.body)
        aggregate = message.headers[AGGREGATE_HEADER]
        if aggregate == self.hold and not self.released.is_set():
            self.released.wait(20)
        if self.pause:
            time.sleep(random.uniform(0, self.pause))
        with self._lock:
            self.applied.append((aggregate, body["data"]["sequence"], threading.current_thread().name))
        message.ack()


@pytest.fixture
def running():
    started = []

    def start(runner, lanes: int = 4) -> EventLanes:
        consumer = EventLanes(runner, lanes=lanes, prefetch_per_lane=4)
        consumer.start()
        started.append(consumer)
        return consumer

    yield start
    for consumer in started:
        consumer.stop()


def message_of(aggregate: str):
    """As much of a message as ``lane_of`` reads."""
    return type("M", (), {"headers": {AGGREGATE_HEADER: aggregate}})()


def aggregates_in_distinct_lanes(count: int, lanes: int) -> list[str]:
    chosen: dict[int, str] = {}
    while len(chosen) < count:
        aggregate = str(uuid.uuid4())
        chosen.setdefault(lane_of(message_of(aggregate), lanes), aggregate)
    return list(chosen.values())


def test_an_aggregate_waiting_on_its_event_holds_up_no_other_aggregate(running):
    # given an event whose handling waits, then five events of another aggregate in another lane
    slow, other = aggregates_in_distinct_lanes(2, lanes=4)
    runner = RecordingRunner(hold=slow)
    running(runner)
    send([event(slow, 0)] + [event(other, n) for n in range(5)])

    # when the first is still waiting, the other five are applied
    assert wait_for(lambda: len(runner.applied) == 5, timeout=20)
    assert [(a, n) for a, n, _ in runner.applied] == [(other, n) for n in range(5)]

    # then, released, the waiting one is applied too, and every message was acked
    runner.released.set()
    assert wait_for(lambda: len(runner.applied) == 6, timeout=20)
    assert wait_for(lambda: events_queue_size() == 0, timeout=20)


def test_each_aggregates_events_are_applied_in_the_order_sent_across_parallel_lanes(running):
    # given 8 aggregates' events interleaved, 25 each, with handlers of uneven duration
    aggregates = [str(uuid.uuid4()) for _ in range(8)]
    runner = RecordingRunner(pause=0.004)
    running(runner)
    send([event(aggregate, n) for n in range(25) for aggregate in aggregates])

    # when all 200 are applied
    assert wait_for(lambda: len(runner.applied) == 200, timeout=60)

    # then each aggregate's came in its own order, from more than one lane, all acked
    for aggregate in aggregates:
        assert [n for a, n, _ in runner.applied if a == aggregate] == list(range(25))
    assert len({lane for _, _, lane in runner.applied}) > 1
    assert wait_for(lambda: events_queue_size() == 0, timeout=20)


def test_the_real_handler_applies_each_of_200_events_delivered_three_times_once(running):
    # given 200 events of 20 aggregates, each put on the queue three times in a random order
    aggregates = [str(uuid.uuid4()) for _ in range(20)]
    deliveries = [event(aggregates[n % 20], n) for n in range(200)]
    deliveries = deliveries * 3
    random.shuffle(deliveries)
    send(deliveries)

    # when the lanes run the service's own handling (inbox, handler, ack)
    running(EventHandlerRunner())

    # then each payment was counted once, each event is in the inbox once, the queue is empty
    assert wait_for(lambda: InboxEvent.objects.count() == 200 and events_queue_size() == 0, timeout=90)
    counts = dict(Counter.objects.values_list("key", "value"))
    assert counts == {envelope["data"]["payment_id"]: 1 for envelope, _ in deliveries}


def lanes_with_retry_timers(lanes: int = 4) -> EventLanes:
    retries = RetryTimers()
    return EventLanes(EventHandlerRunner(later=retries.call_later), lanes=lanes, prefetch_per_lane=4, retries=retries)


def failing_event(aggregate: str) -> tuple[dict, str]:
    return make_envelope(types.PAYMENT_SUCCEEDED, payment_data(amount=POISON_AMOUNT)), aggregate


def test_an_event_waiting_for_its_retry_holds_up_neither_its_lane_nor_the_prefetch_window(settings):
    # given retries paused for 30 s, an event whose handler always fails, then 40 good events of
    # the same aggregate: more than the whole prefetch window (4 lanes x 4) behind it
    settings.COMMON = {**settings.COMMON, "EVENTS": {**settings.COMMON["EVENTS"], "CONSUMER_RETRY_DELAY": 30.0}}
    settings.COMMON["EVENTS"]["CONSUMER_RETRY_DELAY_MAX"] = 30.0
    aggregate = str(uuid.uuid4())
    failing, _ = failing_event(aggregate)
    good = [event(aggregate, n) for n in range(40)]
    consumer = lanes_with_retry_timers()
    consumer.start()
    try:
        send([(failing, aggregate), *good])

        # when the failing one waits for its retry, the 40 behind it are applied all the same
        good_ids = [envelope["data"]["payment_id"] for envelope, _ in good]
        assert wait_for(lambda: Counter.objects.filter(key__in=good_ids, value=1).count() == 40, timeout=20)
    finally:
        consumer.stop()

    # then the failing one, never acked, went back to the queue on stopping; nothing was lost
    assert wait_for(lambda: events_queue_size() == 1, timeout=20)
    assert dead_queue_size() == 0


def test_retries_run_on_timers_until_the_event_is_dead_lettered():
    # given an event whose handler always fails (the test settings: 4 attempts, pauses of 0.02-0.1 s)
    failing, aggregate = failing_event(str(uuid.uuid4()))
    consumer = lanes_with_retry_timers()
    consumer.start()
    try:
        send([(failing, aggregate)])

        # when the lanes have tried it every time they may
        assert wait_for(lambda: dead_queue_size() == 1, timeout=20)
    finally:
        consumer.stop()

    # then it is in the dead-letter queue, once, and nothing is left on the events queue
    assert events_queue_size() == 0
    assert not Counter.objects.filter(key=failing["data"]["payment_id"]).exists()
    assert not InboxEvent.objects.filter(id=failing["id"]).exists()


def test_stopping_the_retry_timers_waits_for_a_retry_already_running_and_cancels_the_rest():
    # given one retry whose republish is under way and one still waiting for its pause
    retries = RetryTimers()
    republishing, may_finish, done = threading.Event(), threading.Event(), []
    retries.call_later(0, lambda: (republishing.set(), may_finish.wait(5), done.append("acked")))
    retries.call_later(60, lambda: done.append("never"))
    assert republishing.wait(5)

    # when the worker stops while the first is running
    stopper = threading.Thread(target=retries.stop)
    stopper.start()
    stopper.join(0.3)

    # then stopping waits for its ack to be queued, and the waiting one never runs
    assert stopper.is_alive()
    may_finish.set()
    stopper.join(5)
    assert not stopper.is_alive()
    assert done == ["acked"]


def test_a_retry_that_outruns_the_stop_timeout_is_logged_and_does_not_hold_the_worker(caplog):
    # given a retry whose republish hangs
    retries = RetryTimers()
    running, release = threading.Event(), threading.Event()
    retries.call_later(0, lambda: (running.set(), release.wait(5)))
    assert running.wait(5)

    # when the worker stops with a short timeout
    try:
        with caplog.at_level(logging.WARNING, logger="common.events.lanes"):
            retries.stop(timeout=0.1)
    finally:
        release.set()

    # then it stops anyway and says that one retry is delivered again
    assert "1 event retries still running after 0.1s" in caplog.text


def test_the_consumer_outlives_a_broker_that_stays_away_for_round_after_round(caplog):
    # given lanes whose broker does not answer: each round of connection tries fails at once
    runner = RecordingRunner()
    consumer = EventLanes(runner, lanes=2, prefetch_per_lane=4)
    broker = consumer.connection
    consumer.connection = Connection(f"amqp://guest:guest@127.0.0.1:{closed_port()}//", connect_timeout=0.5)
    consumer.connect_max_retries, consumer.between_rounds_seconds = 0, 0.05
    consumer.start()
    try:
        assert wait_for(lambda: caplog.text.count("broker still unavailable") >= 3, timeout=20)

        # when the broker is back and an event arrives
        consumer.connection = broker
        send([event("booking-1", 1)])

        # then the same consumer takes it up
        assert wait_for(lambda: [(a, n) for a, n, _ in runner.applied] == [("booking-1", 1)], timeout=30)
    finally:
        consumer.stop()


def test_stopping_finishes_the_event_in_hand_and_gives_the_waiting_ones_back(running):
    # given ten events of one aggregate, the first being handled when the worker stops
    aggregate = str(uuid.uuid4())
    runner = RecordingRunner(hold=aggregate)
    lanes = running(runner)
    send([event(aggregate, n) for n in range(10)])
    assert wait_for(lambda: events_queue_size() == 0, timeout=20)  # all delivered (unacked)

    # when the worker stops while the first one is in hand (released a moment later)
    threading.Timer(0.5, runner.released.set).start()
    lanes.stop()

    # then that one was applied and acked; the other nine are back on the queue for the next worker
    assert [n for _, n, _ in runner.applied] == [0]
    assert wait_for(lambda: events_queue_size() == 9, timeout=20)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_lanes_metrics_show_how_long_events_waited_behind_one_in_hand_and_how_long_it_took(running):
    # given three events of one aggregate, the first held for half a second
    aggregate = str(uuid.uuid4())
    lane = str(lane_of(message_of(aggregate), 4))
    waits_before = sample("events_lane_wait_seconds_count", lane=lane)
    waited_before = sample("events_lane_wait_seconds_sum", lane=lane)
    handled_before = sample("events_handling_seconds_count", type=types.PAYMENT_SUCCEEDED)
    handling_before = sample("events_handling_seconds_sum", type=types.PAYMENT_SUCCEEDED)
    runner = RecordingRunner(hold=aggregate)
    running(runner)
    send([event(aggregate, n) for n in range(3)])
    assert wait_for(lambda: events_queue_size() == 0, timeout=20)  # all delivered to the lane
    time.sleep(0.5)

    # when the first is released and all three are applied
    runner.released.set()
    assert wait_for(lambda: sample("events_handling_seconds_count", type=types.PAYMENT_SUCCEEDED) == handled_before + 3)

    # then their lane counted three waits, two of them the half second; the first took it
    assert sample("events_lane_wait_seconds_count", lane=lane) == waits_before + 3
    assert sample("events_lane_wait_seconds_sum", lane=lane) - waited_before >= 2 * 0.5
    assert sample("events_handling_seconds_sum", type=types.PAYMENT_SUCCEEDED) - handling_before >= 0.5


def test_events_given_back_on_stopping_are_not_counted_as_waits(running):
    # given ten events of one aggregate, the first in hand, nine waiting in its lane
    aggregate = str(uuid.uuid4())
    lane = str(lane_of(message_of(aggregate), 4))
    waits_before = sample("events_lane_wait_seconds_count", lane=lane)
    runner = RecordingRunner(hold=aggregate)
    lanes = running(runner)
    send([event(aggregate, n) for n in range(10)])
    assert wait_for(lambda: events_queue_size() == 0, timeout=20)

    # when the worker stops (the one in hand released a moment later)
    threading.Timer(0.5, runner.released.set).start()
    lanes.stop()

    # then only the one taken up counted a wait: the nine went back to the broker
    assert sample("events_lane_wait_seconds_count", lane=lane) == waits_before + 1


def test_messages_that_name_no_aggregate_share_one_lane():
    message = type("M", (), {"headers": {}})()

    assert lane_of(message, 4) == 0
