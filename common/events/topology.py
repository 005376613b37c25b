"""The broker side of the catalogue: the ``events`` topic exchange and every consumer's queues.

Every producer declares all of it before it publishes: on a topic exchange a message that no
queue is bound to is dropped, so a consumer that has never started must still receive what was
sent for it. It is also what makes the embedded file-system broker route between processes (its
bindings live in the control folder, but each process must know the exchange is a topic one).
"""

from __future__ import annotations

from kombu import Exchange, Queue, binding
from kombu.common import maybe_declare

from .catalogue import EVENT_TYPES
from .conf import consumed_types, dead_queue_name, events_settings, queue_name, service_name

# Set by the relay on every message: the consumer's lane (common/events/lanes.py) is chosen by it,
# so one aggregate's events are applied in the order they were sent.
AGGREGATE_HEADER = "x-aggregate-id"


def exchange() -> Exchange:
    return Exchange(events_settings()["EXCHANGE"], type="topic", durable=True)


def consumer_services() -> list[str]:
    """Every service with a queue: the catalogue's consumers, and this one if it consumes."""
    services = {consumer for event in EVENT_TYPES.values() for consumer in event.consumers}
    if consumed_types(service_name()):
        services.add(service_name())
    return sorted(services)


def events_queue(service: str) -> Queue:
    events_exchange = exchange()
    return Queue(
        queue_name(service),
        bindings=[binding(events_exchange, routing_key=event_type) for event_type in consumed_types(service)],
        durable=True,
        auto_delete=False,
    )


def dead_letter_queue(service: str) -> Queue:
    # Bound to no exchange: messages reach it by name (the default exchange) only.
    return Queue(dead_queue_name(service), durable=True, auto_delete=False)


def declare_all(channel) -> None:
    """Declare the exchange and every consumer's queue, bindings and dead-letter queue.

    ``maybe_declare`` remembers what it declared on this connection, so after the first call on
    a connection this costs nothing; a reconnection declares again.
    """
    # kombu forgets what it declared when the connection is re-established; so does this marker.
    declared = channel.connection.client.declared_entities
    marker = ("events-topology", events_settings()["EXCHANGE"], queue_name(service_name()), *consumed_types())
    if marker in declared:
        return
    maybe_declare(exchange(), channel)
    for service in consumer_services():
        maybe_declare(events_queue(service), channel)
        maybe_declare(dead_letter_queue(service), channel)
    declared.add(marker)
