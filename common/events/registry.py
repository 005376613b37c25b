"""Which function applies which event type in this service.

Apps register handlers in their ``events.py``::

    from common.events.registry import handler
    from common.events import types

    @handler(types.PAYMENT_SUCCEEDED)
    def on_payment_succeeded(event: Event) -> None: ...

``events.py`` modules are imported when Django starts (``EventsConfig.ready``).
"""

from __future__ import annotations

from collections.abc import Callable

from .catalogue import EVENT_TYPES
from .envelope import Event, UnknownEventType

Handler = Callable[[Event], None]
_handlers: dict[str, Handler] = {}


def handler(event_type: str) -> Callable[[Handler], Handler]:
    if event_type not in EVENT_TYPES:
        raise UnknownEventType(f"{event_type!r} is not in the event catalogue")

    def register(function: Handler) -> Handler:
        existing = _handlers.get(event_type)
        if existing is not None and existing is not function:
            raise ValueError(f"{event_type} already handled by {existing.__qualname__}")
        _handlers[event_type] = function
        return function

    return register


def handler_for(event_type: str) -> Handler | None:
    return _handlers.get(event_type)


def handled_types() -> list[str]:
    return sorted(_handlers)
