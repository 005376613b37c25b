"""What the showtimes app publishes (it consumes nothing).

``movies.showtime.published`` carries the full snapshot, sent on create and after every change a
booking cares about (movie, title, duration, screen, layout, start, prices, currency, cinema name,
city or time zone). ``version`` grows by one each time, so a consumer keeps the highest version it
has seen and ignores older copies arriving late. ``movies.showtime.cancelled`` is the only event
of a cancel (no extra snapshot); it carries the version the showtime reached by being cancelled.
"""

from __future__ import annotations

from typing import Any

from common.events import types
from common.events.publisher import publish

from .models import Showtime
from .serializers import ShowtimeDetailSerializer


def showtime_snapshot(showtime: Showtime) -> dict[str, Any]:
    cinema = showtime.screen.cinema
    return {
        **ShowtimeDetailSerializer(showtime).data,
        "version": showtime.version,
        "updated_at": showtime.updated_at,
        "cinema_timezone": cinema.timezone,
        "cinema_city": cinema.city,
    }


def publish_showtime(showtime: Showtime) -> None:
    publish(types.SHOWTIME_PUBLISHED, showtime_snapshot(showtime), aggregate_id=showtime.id)


def publish_showtime_cancelled(showtime: Showtime) -> None:
    publish(
        types.SHOWTIME_CANCELLED,
        {"showtime_id": showtime.id, "reason": showtime.cancel_reason, "version": showtime.version},
        aggregate_id=showtime.id,
    )
