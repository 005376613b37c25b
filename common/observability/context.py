"""The request id and correlation id of whatever this thread is doing now.

Set by the HTTP middleware for a request and by the event consumer for a message, read by the
log filter and by ``common.events.publish`` (so an event carries the saga's correlation id).
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
correlation_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)


def new_id() -> str:
    return str(uuid.uuid4())


def as_uuid(value: str) -> str:
    """A UUID for any id: itself when it is one (dashes or not), else a stable uuid5 of it.

    Event envelopes carry UUID correlation ids, but request ids come from clients and gateways
    (NGINX's ``$request_id`` is 32 hex digits); the same incoming id always maps to the same UUID.
    """
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"request-id:{value}"))


@contextmanager
def bound(*, request_id: str | None = None, correlation_id: str | None = None) -> Iterator[None]:
    request_token = request_id_var.set(request_id)
    correlation_token = correlation_id_var.set(correlation_id)
    try:
        yield
    finally:
        request_id_var.reset(request_token)
        correlation_id_var.reset(correlation_token)
