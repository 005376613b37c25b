"""Consumes this service's queue ``<service>.events`` inside its Celery worker.

``common.events.lanes`` runs it in the Celery worker (``create_celery_app`` installs its step, so
``celery -A <service>_service worker`` consumes events with no extra flag), several events at once
and each aggregate's in order. Each message is the raw JSON envelope the relay published,
acknowledged only after its outcome is settled:

- applied / duplicate / ignored (no handler here, or a type this version does not know) → ack;
- ``EventSchemaError`` or a body that is not an envelope (poison) → dead-letter queue, ack;
- any other exception (a timeout, a bug) → after a bounded pause, the same body is republished
  to the same queue with ``x-attempts`` + 1, then the original is acked; after
  ``CONSUMER_MAX_ATTEMPTS`` it goes to the dead-letter queue (``x-error``, ``x-attempts``). The
  pause is the runner's ``later``: in the worker a timer (``lanes.RetryTimers``), so that the lane
  goes on with its next message meanwhile;
- an exception while this service's database does not answer (an outage, a restart) → retried
  in the same way but not counted in ``x-attempts`` (``x-database-retries`` paces it instead):
  no message is dead-lettered for an outage, however long.

A worker killed mid-handler never acked: the broker redelivers and the inbox makes the second
application the only one (the first transaction died with the process).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from kombu import Producer

from .broker import broker_pool
from .conf import dead_queue_name, events_settings, queue_name, service_name
from .topology import dead_letter_queue, declare_all

logger = logging.getLogger(__name__)

ATTEMPTS_HEADER = "x-attempts"
DATABASE_RETRIES_HEADER = "x-database-retries"
ERROR_HEADER = "x-error"


# Runs an action after a pause of so many seconds (the retry's republish and ack).
Later = Callable[[float, Callable[[], None]], None]


class PoisonMessageError(ValueError):
    """The body can never be applied (not UTF-8 JSON, not an envelope)."""


def pause_here(delay: float, action: Callable[[], None]) -> None:
    """The default ``later``: the calling thread sleeps, then acts (one message at a time)."""
    time.sleep(delay)
    action()


def retry_delay(attempt: int) -> float:
    conf = events_settings()
    return min(conf["CONSUMER_RETRY_DELAY_MAX"], conf["CONSUMER_RETRY_DELAY"] * 2 ** max(attempt - 1, 0))


def decode(body: Any) -> dict[str, Any]:
    try:
        if isinstance(body, bytes | bytearray | memoryview):
            body = bytes(body).decode("utf-8")
        envelope = json.loads(body) if isinstance(body, str) else body
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError; deep nesting is not
        raise PoisonMessageError(f"body is not UTF-8 JSON: {exc!r}") from None
    if not isinstance(envelope, dict):
        raise PoisonMessageError("body is not a JSON object")
    return envelope


class EventHandlerRunner:
    """What happens to one message; independent of Celery so tests can drive it directly."""

    def __init__(self, service: str | None = None, *, later: Later = pause_here) -> None:
        self.service = service or service_name()
        self.later = later

    @property
    def queue(self) -> str:
        return queue_name(self.service)

    @property
    def dead_queue(self) -> str:
        return dead_queue_name(self.service)

    def on_message(self, message) -> None:
        from . import metrics
        from .connections import recycle_connection

        attempt = header_count(message, ATTEMPTS_HEADER) + 1
        event_type = message_event_type(message)
        recycle_connection()
        try:
            try:
                outcome = self.process(message.body)
            except PoisonMessageError as exc:
                self.dead_letter(message, exc, attempt)
                metrics.EVENTS_CONSUMED.labels(type=event_type, outcome="dead").inc()
            except Exception as exc:
                self._close_connections()
                self.retry_or_dead_letter(message, exc, attempt, event_type)
            else:
                message.ack()
                metrics.EVENTS_CONSUMED.labels(type=event_type, outcome=str(outcome)).inc()
        except Exception:
            # Dead-lettering or the ack itself failed: the broker is in trouble.
            time.sleep(events_settings()["CONSUMER_RETRY_DELAY"])
            self._give_back(message)
        finally:
            recycle_connection()

    def process(self, body: Any):
        from .envelope import EventSchemaError
        from .processing import apply_envelope

        envelope = decode(body)
        try:
            return apply_envelope(envelope)
        except EventSchemaError as exc:
            raise PoisonMessageError(str(exc)) from exc

    def retry_or_dead_letter(self, message, error: Exception, attempt: int, event_type: str) -> None:
        """Pause, then put the message back on the queue; after its last attempt, dead-letter it.

        A failure counts as an attempt only if the database answers now: while it does not (an
        outage, a restart) the failure says nothing about the message, which keeps its
        ``x-attempts`` and is paced by its own count of outages instead.
        """
        from . import metrics

        max_attempts = events_settings()["CONSUMER_MAX_ATTEMPTS"]
        if _database_answers():
            if attempt >= max_attempts:
                self.dead_letter(message, error, attempt)
                metrics.EVENTS_CONSUMED.labels(type=event_type, outcome="dead").inc()
                return
            header, count, why = ATTEMPTS_HEADER, attempt, f"failed (attempt {attempt} of {max_attempts})"
        else:
            header = DATABASE_RETRIES_HEADER
            count = header_count(message, DATABASE_RETRIES_HEADER) + 1
            why = "not applied: the database is unavailable (not an attempt)"
        delay = retry_delay(count)
        message_id = message.properties.get("message_id")
        logger.warning("event %s on %s %s, retrying in %.1fs: %r", message_id, self.queue, why, delay, error)
        # The message stays unacked through the pause, so a crash meanwhile means a redelivery,
        # never a loss.
        headers = {header: count, ERROR_HEADER: _describe(error)}
        self.later(delay, lambda: self._retry(message, headers, event_type))

    def _retry(self, message, headers: dict[str, Any], event_type: str) -> None:
        from . import metrics

        try:
            self.republish(message, self.queue, headers)
            message.ack()
        except Exception:
            self._give_back(message)
        else:
            metrics.EVENTS_CONSUMED.labels(type=event_type, outcome="retried").inc()

    def _give_back(self, message) -> None:
        """The broker refused to settle the message: it goes back unchanged and is delivered again."""
        logger.exception(
            "event %s on %s could not be settled; requeued", message.properties.get("message_id"), self.queue
        )
        with contextlib.suppress(Exception):
            message.reject(requeue=True)

    def dead_letter(self, message, error: Exception, attempt: int) -> None:
        from . import metrics

        logger.error(
            "event %s on %s dead-lettered to %s after %s attempt(s): %s",
            message.properties.get("message_id"),
            self.queue,
            self.dead_queue,
            attempt,
            error,
        )
        self.republish(message, self.dead_queue, {ATTEMPTS_HEADER: attempt, ERROR_HEADER: _describe(error)})
        message.ack()
        metrics.EVENTS_DEAD_LETTERED.labels(type=message_event_type(message)).inc()

    def republish(self, message, queue: str, extra_headers: dict[str, Any]) -> None:
        """The same body, by name to ``queue`` (default exchange), confirmed, on a pooled connection.

        The consumer's own connection is left alone: waiting for a confirm on it would dispatch
        the worker's other deliveries from inside this callback.
        """
        headers = {**(message.headers or {}), "x-event-type": message_event_type(message), **extra_headers}
        with broker_pool().acquire(block=True, timeout=10) as conn:
            try:
                conn.ensure_connection(max_retries=3)
                producer = Producer(conn.default_channel, auto_declare=False)
                declare_all(producer.channel)
                producer.publish(
                    message.body,
                    exchange="",
                    routing_key=queue,
                    content_type=message.content_type or "application/json",
                    content_encoding=message.content_encoding or "utf-8",
                    delivery_mode=2,
                    message_id=message.properties.get("message_id"),
                    headers=headers,
                    retry=True,
                    retry_policy={"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 2},
                    confirm_timeout=events_settings()["RELAY_CONFIRM_TIMEOUT"],
                )
            except Exception:
                conn.collect()
                raise

    @staticmethod
    def _close_connections() -> None:
        # A failed handler may have left a broken connection (the database went away): start
        # the next attempt on a fresh one.
        from django.db import connections as db_connections

        for connection in db_connections.all(initialized_only=True):
            try:
                connection.close()
            except Exception:
                logger.debug("closing a broken database connection failed", exc_info=True)


def _database_answers() -> bool:
    """Whether this service's database takes a connection and a query now (after a failure only)."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        EventHandlerRunner._close_connections()
        return False
    return True


def header_count(message, name: str) -> int:
    """A count the consumer keeps in a header; one that is not a whole number counts as 0."""
    value = (message.headers or {}).get(name) or 0
    try:
        return int(value)
    except (TypeError, ValueError):
        logger.warning("event %s: header %s=%r is not a count", message.properties.get("message_id"), name, value)
        return 0


def message_event_type(message) -> str:
    # The relay's header; the routing key of a retried message is its queue's name.
    return (message.headers or {}).get("x-event-type") or (message.delivery_info or {}).get("routing_key") or "unknown"


def _describe(error: BaseException) -> str:
    return f"{error.__class__.__name__}: {error}"[:1000]


def dead_letter_count(service: str | None = None, *, connect_timeout: float | None = None) -> int:
    """Messages waiting in ``<service>.events.dead`` (declared first, so 0 if never used)."""
    service = service or service_name()
    with broker_pool(connect_timeout).acquire(block=True, timeout=10) as conn:
        try:
            conn.ensure_connection(max_retries=1)
            channel = conn.default_channel
            declare_all(channel)
            return dead_letter_queue(service)(channel).queue_declare(passive=True).message_count
        except Exception:
            conn.collect()
            raise


def replay_dead_letters(service: str | None = None, *, limit: int | None = None) -> int:
    """Move the messages of ``<service>.events.dead`` back to ``<service>.events``; returns how many.

    Each is republished (confirmed) with ``x-attempts`` reset before the dead copy is acked, so a
    crash halfway duplicates at worst, which the inbox absorbs.
    """
    service = service or service_name()
    runner = EventHandlerRunner(service)
    moved = 0
    with broker_pool().acquire(block=True, timeout=10) as conn:
        try:
            conn.ensure_connection(max_retries=1)
            channel = conn.channel()
            declare_all(conn.default_channel)
            dead = dead_letter_queue(service)(channel)
            waiting = dead.queue_declare(passive=True).message_count
            budget = waiting if limit is None else min(waiting, limit)
            while moved < budget:
                message = dead.get(no_ack=False, accept=None)
                if message is None:
                    break
                headers = {key: value for key, value in (message.headers or {}).items() if key != ERROR_HEADER}
                headers["x-replayed"] = header_count(message, "x-replayed") + 1
                headers[ATTEMPTS_HEADER] = 0
                message.headers = headers
                runner.republish(message, runner.queue, {})
                message.ack()
                moved += 1
            channel.close()
        except Exception:
            conn.collect()
            raise
    logger.info("replayed %s dead letter(s) of %s", moved, service)
    return moved
