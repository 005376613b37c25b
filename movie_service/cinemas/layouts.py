"""Seat layouts of screens: validation, flattening to labelled seats, and a generator.

A layout is a list of rows, front to back; each row has a label and a list of places, left to
right, where a place is a seat or ``None`` (a gap: an aisle or a missing seat)::

    [{"row": "A", "seats": [{"number": 1, "category": "accessible"}, None, {"number": 2, "category": "standard"}]}]

The seat label is the row label followed by the number (``"A1"``), unique within the screen.
"""

from __future__ import annotations

import re
import string
from typing import Any

from django.core.exceptions import ValidationError


class SeatCategory:
    STANDARD = "standard"
    PREMIUM = "premium"
    ACCESSIBLE = "accessible"
    VIP = "vip"

    ALL = (STANDARD, PREMIUM, ACCESSIBLE, VIP)
    CHOICES = [(value, value.capitalize()) for value in ALL]


# Every showtime event carries the whole seat list, and an event's data is capped at 16 KiB
# (common.events.catalogue.MAX_DATA_BYTES): 150 seats keep a snapshot under it whatever the
# names (test_the_largest_showtime_a_screen_allows_is_published_whatever_the_script_of_its_names).
MAX_SEATS = 150
MAX_ROWS = 30
MAX_PLACES_PER_ROW = 40
MAX_SEAT_NUMBER = 99
_ROW_LABEL = re.compile(r"^[A-Z]{1,2}$")


def validate_layout(layout: Any) -> list[dict[str, Any]]:
    """The layout, normalised; raises ``ValidationError`` with every problem found."""
    if not isinstance(layout, list) or not layout:
        raise ValidationError("A layout is a non-empty list of rows.")
    if len(layout) > MAX_ROWS:
        raise ValidationError(f"At most {MAX_ROWS} rows.")
    errors: list[str] = []
    normalised: list[dict[str, Any]] = []
    row_labels: set[str] = set()
    seat_count = 0
    for index, row in enumerate(layout, start=1):
        if not isinstance(row, dict) or set(row) - {"row", "seats"} or "row" not in row or "seats" not in row:
            errors.append(f"Row {index}: expected an object with 'row' and 'seats'.")
            continue
        label = row["row"]
        if not isinstance(label, str) or not _ROW_LABEL.match(label):
            errors.append(f"Row {index}: the row label must be one or two capital letters.")
            continue
        if label in row_labels:
            errors.append(f"Row {label}: the row label is used twice.")
        row_labels.add(label)
        places = row["seats"]
        if not isinstance(places, list) or not places:
            errors.append(f"Row {label}: 'seats' must be a non-empty list of seats or nulls (gaps).")
            continue
        if len(places) > MAX_PLACES_PER_ROW:
            errors.append(f"Row {label}: at most {MAX_PLACES_PER_ROW} places per row.")
            continue
        numbers: set[int] = set()
        normalised_places: list[dict[str, Any] | None] = []
        for place in places:
            if place is None:
                normalised_places.append(None)
                continue
            problem = _seat_problem(place)
            if problem:
                errors.append(f"Row {label}: {problem}")
                continue
            if place["number"] in numbers:
                errors.append(f"Row {label}: seat {place['number']} is used twice.")
            numbers.add(place["number"])
            normalised_places.append({"number": place["number"], "category": place["category"]})
        if not numbers and not any(error.startswith(f"Row {label}:") for error in errors):
            errors.append(f"Row {label}: a row needs at least one seat.")
        seat_count += len(numbers)
        normalised.append({"row": label, "seats": normalised_places})
    if seat_count > MAX_SEATS:
        errors.append(f"A screen has at most {MAX_SEATS} seats; this layout has {seat_count}.")
    if errors:
        raise ValidationError(errors)
    return normalised


def _seat_problem(place: Any) -> str | None:
    if not isinstance(place, dict) or set(place) != {"number", "category"}:
        return "a seat is an object with 'number' and 'category' (or null for a gap)."
    number = place["number"]
    if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= MAX_SEAT_NUMBER:
        return f"seat numbers are whole numbers from 1 to {MAX_SEAT_NUMBER}."
    if place["category"] not in SeatCategory.ALL:
        return f"unknown seat category {place['category']!r}; use one of {', '.join(SeatCategory.ALL)}."
    return None


def flatten_seats(layout: list[dict[str, Any]]) -> list[dict[str, str]]:
    """``[{"label": "A1", "category": "standard"}, …]`` in layout order (rows front to back)."""
    return [
        {"label": f"{row['row']}{place['number']}", "category": place["category"]}
        for row in layout
        for place in row["seats"]
        if place is not None
    ]


def layout_categories(layout: list[dict[str, Any]]) -> set[str]:
    return {seat["category"] for seat in flatten_seats(layout)}


def row_labels(count: int) -> list[str]:
    """A, B, …, Z, AA, AB, …"""
    letters = string.ascii_uppercase
    labels = list(letters) + [first + second for first in letters for second in letters]
    return labels[:count]


def generate_layout(
    *,
    rows: int,
    seats_per_row: int,
    category: str = SeatCategory.STANDARD,
    aisle_after: int | None = None,
) -> list[dict[str, Any]]:
    """A rectangular layout of ``rows`` by ``seats_per_row`` seats of one category.

    ``aisle_after`` puts a gap after that many seats in every row.
    """
    if category not in SeatCategory.ALL:
        raise ValidationError(f"Unknown seat category {category!r}.")
    if rows < 1 or seats_per_row < 1:
        raise ValidationError("Rows and seats per row must be at least 1.")
    layout = []
    for label in row_labels(rows):
        places: list[dict[str, Any] | None] = []
        for number in range(1, seats_per_row + 1):
            places.append({"number": number, "category": category})
            if aisle_after and number == aisle_after and number != seats_per_row:
                places.append(None)
        layout.append({"row": label, "seats": places})
    return validate_layout(layout)
