"""A worker's events applied in parallel lanes, one aggregate's events one after another.

One thread holds the connection to ``<service>.events`` (prefetch ``CONSUMER_LANES`` x
``CONSUMER_PREFETCH_PER_LANE``) and hands each message to one of ``CONSUMER_LANES`` threads,
chosen by the ``x-aggregate-id`` header the relay sets: the events of one aggregate reach their
lane in the order the relay sent them and are applied in that order, while other aggregates'
events go on in the other lanes. A lane waiting on the database holds up only the aggregates
that hash to it. A retry's pause holds up no lane: ``RetryTimers`` republishes the message when
its pause is over, while its lane goes on with the next one.

What a lane does with a message is ``EventHandlerRunner.on_message``, unchanged. Only its
settling moves: a channel is not thread-safe, so a lane's ack or reject is queued and done by the
connection's thread between two reads. Nothing is lost on the way: a message is acked only
after its outcome is settled, and whatever was not acked when the connection or the process
went away is delivered again (the inbox makes the second application the only one).

Outside Celery's event loop (which applied one event at a time and dispatched no task
meanwhile): started and stopped with the worker by ``EventLanesStep``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import zlib
from collections.abc import Callable

from celery import bootsteps
from kombu.exceptions import OperationalError
from kombu.mixins import ConsumerMixin

from . import metrics
from .broker import broker_connection
from .conf import consumed_types, events_settings, service_name
from .consumer import message_event_type
from .topology import AGGREGATE_HEADER, declare_all, events_queue

__all__ = ["AGGREGATE_HEADER", "EventLanes", "EventLanesStep", "RetryTimers", "lane_of"]

logger = logging.getLogger(__name__)

# How often the connection's thread stops reading to settle what the lanes finished.
SETTLE_INTERVAL = 0.05
HEARTBEAT_SECONDS = 60
_STOP = object()


def lane_of(message, lanes: int) -> int:
    """The lane of a message: by its aggregate (the same one always), lane 0 if it names none."""
    aggregate = (message.headers or {}).get(AGGREGATE_HEADER)
    if not aggregate:
        return 0
    return zlib.crc32(str(aggregate).encode()) % lanes


class _SettledByConsumer:
    """The message as a lane sees it: its ack and reject are done on the connection's thread."""

    def __init__(self, message, settle: Callable[[Callable[[], None]], None]):
        self._message = message
        self._settle = settle

    def __getattr__(self, name):
        return getattr(self._message, name)

    def ack(self) -> None:
        self._settle(self._message.ack)

    def reject(self, requeue: bool = False) -> None:
        self._settle(lambda: self._message.reject(requeue=requeue))


class RetryTimers:
    """Runs each retry's republish and ack once its pause is over, on a timer of its own.

    In the lane the pause (up to ``CONSUMER_RETRY_DELAY_MAX``, ~45 s over the attempts) kept the
    lane waiting while its later messages piled up in the prefetch window, until the window was
    full and no lane got anything more. Now a message waiting for its retry holds one place in
    the window and nothing else. There are at most as many timers as that window has places.
    """

    def __init__(self) -> None:
        self._timers: set[threading.Timer] = set()
        self._running = 0
        self._stopped = False
        self._changed = threading.Condition()  # guards the three above; notified as retries end

    def call_later(self, delay: float, action: Callable[[], None]) -> None:
        with self._changed:
            if self._stopped:
                return  # still unacked: the broker delivers it again to the next worker
            timer = threading.Timer(delay, lambda: self._run(action, timer))
            timer.daemon = True
            timer.name = "events-retry"
            self._timers.add(timer)
        timer.start()

    def _run(self, action: Callable[[], None], timer: threading.Timer) -> None:
        with self._changed:
            self._timers.discard(timer)
            if self._stopped:
                return
            self._running += 1
        try:
            action()
        except Exception:  # the action settles its own outcome; this is a bug, logged
            logger.exception("an event's retry failed; it is redelivered")
        finally:
            with self._changed:
                self._running -= 1
                self._changed.notify_all()

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel what has not run, and wait for what is running to queue its ack.

        A cancelled retry was never acked: the broker delivers it again. A running one has
        republished its copy or is about to; were the connection closed before its ack was
        settled, the broker would deliver the original again beside the copy.
        """
        with self._changed:
            self._stopped = True
            timers, self._timers = self._timers, set()
        for timer in timers:
            timer.cancel()
        with self._changed:
            if not self._changed.wait_for(lambda: self._running == 0, timeout):
                logger.warning(
                    "%s event retries still running after %ss; they are delivered again", self._running, timeout
                )


class EventLanes(ConsumerMixin):
    """The connection's thread (``run``) and the lanes (started by ``start``)."""

    # A few tries per round, so that a stop while the broker is down is noticed between rounds.
    connect_max_retries = 3
    # Between two rounds of tries: the rounds' own pauses (2, 4, 6 s) are kombu's.
    between_rounds_seconds = 1.0

    def __init__(self, runner, *, lanes: int, prefetch_per_lane: int, retries: RetryTimers | None = None) -> None:
        self.runner = runner
        self.retries = retries
        # Heartbeats, as Celery's own connection has: a connection that went silent (a half-open
        # TCP connection) is noticed and replaced instead of waited on for ever.
        self.connection = broker_connection().clone(heartbeat=HEARTBEAT_SECONDS)
        self.lanes = lanes
        self.prefetch = lanes * prefetch_per_lane
        self._inboxes: list[queue.Queue] = [queue.Queue() for _ in range(lanes)]
        self._settlements: queue.Queue[Callable[[], None]] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._last_round = False

    # -- the connection's thread ----------------------------------------------------------------

    def get_consumers(self, Consumer, channel):  # noqa: N803 - kombu's name for the class
        declare_all(channel)
        return [
            Consumer(
                queues=[events_queue(self.runner.service)],
                on_message=self._hand_to_lane,
                prefetch_count=self.prefetch,
                no_ack=False,
            )
        ]

    def run(self, _tokens=1, **kwargs) -> None:
        """kombu's loop, one round of connection tries after another until the broker is back.

        After ``connect_max_retries`` failed tries kombu raises the broker's absence as
        ``OperationalError``, which its own loop does not catch: the thread ended, and this worker
        never consumed its queue again after an outage of a dozen seconds.
        """
        while not self.should_stop:
            try:
                super().run(_tokens, **kwargs)
            except OperationalError as exc:
                logger.warning("events consumer of %s: broker still unavailable (%s)", self.runner.queue, exc)
                time.sleep(self.between_rounds_seconds)

    def _hand_to_lane(self, message) -> None:
        self._inboxes[lane_of(message, self.lanes)].put((message, time.monotonic()))

    def on_iteration(self) -> None:
        self.settle_finished()
        if self._last_round:
            self.should_stop = True

    def settle_finished(self) -> None:
        while True:
            try:
                settle = self._settlements.get_nowait()
            except queue.Empty:
                return
            try:
                settle()
            except Exception:
                # The channel it came on is gone (the broker restarted): it is delivered again.
                logger.info("a finished event could not be settled on a lost channel; it is redelivered")

    def on_connection_error(self, exc, interval) -> None:
        logger.warning(
            "events consumer of %s: broker unavailable (%s); retrying in %ss", self.runner.queue, exc, interval
        )

    # -- the lanes ------------------------------------------------------------------------------

    def start(self) -> None:
        for index, inbox in enumerate(self._inboxes):
            thread = threading.Thread(target=self._lane, args=(index, inbox), name=f"events-lane-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        reader = threading.Thread(
            target=self.run, kwargs={"safety_interval": SETTLE_INTERVAL}, name="events-consumer", daemon=True
        )
        reader.start()
        self._threads.append(reader)

    def _lane(self, index: int, inbox: queue.Queue) -> None:
        waits = metrics.EVENTS_LANE_WAIT_SECONDS.labels(lane=str(index))
        while (item := inbox.get()) is not _STOP:
            message, handed_at = item
            started = time.monotonic()
            waits.observe(started - handed_at)
            try:
                self.runner.on_message(_SettledByConsumer(message, self._settlements.put))
            except Exception:  # on_message settles every outcome itself; this is a bug, logged
                logger.exception("event lane of %s failed on a message; it is redelivered", self.runner.queue)
            finally:
                metrics.EVENTS_HANDLING_SECONDS.labels(type=message_event_type(message)).observe(
                    time.monotonic() - started
                )

    def stop(self, timeout: float = 10.0) -> None:
        """Let each lane finish the message in hand, settle those, then stop reading and close.

        Messages still waiting in a lane were never acked: the broker delivers them again.
        """
        for inbox in self._inboxes:
            while True:
                try:
                    inbox.get_nowait()
                except queue.Empty:
                    break
            inbox.put(_STOP)
        reader, lanes = self._threads[-1:], self._threads[:-1]
        for thread in lanes:
            thread.join(timeout)
        if self.retries is not None:
            self.retries.stop(timeout)  # before the last round, which settles the retries' acks
        self._last_round = True  # the reader settles what the lanes finished, then ends
        for thread in reader:
            thread.join(timeout)
        self.should_stop = True


class EventLanesStep(bootsteps.StartStopStep):
    """Consumes ``<service>.events`` in the worker (nothing for a service that consumes nothing)."""

    requires = ("celery.worker.components:Pool",)

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.lanes: EventLanes | None = None

    def start(self, worker) -> None:
        from .consumer import EventHandlerRunner

        if not consumed_types():
            logger.info("%s consumes no events; no events consumer started", service_name())
            return
        conf = events_settings()
        retries = RetryTimers()
        self.lanes = EventLanes(
            EventHandlerRunner(later=retries.call_later),
            lanes=conf["CONSUMER_LANES"],
            prefetch_per_lane=conf["CONSUMER_PREFETCH_PER_LANE"],
            retries=retries,
        )
        self.lanes.start()
        logger.info(
            "consuming %s in %s lanes (%s)", self.lanes.runner.queue, self.lanes.lanes, ", ".join(consumed_types())
        )

    def stop(self, worker) -> None:
        if self.lanes is not None:
            self.lanes.stop()
            self.lanes = None

    terminate = stop
