"""The natural seat order: how seats are listed, and the order a hold inserts (and locks) them in."""

from __future__ import annotations

import pytest

from booking_service.bookings.models import seat_sort_key


@pytest.mark.parametrize(
    ("labels", "ordered"),
    [
        (["A10", "A2", "B1", "A1"], ["A1", "A2", "A10", "B1"]),
        (["AA1", "A1", "B2"], ["A1", "AA1", "B2"]),
        (["10", "9", "B"], ["9", "10", "B"]),
        # Any decimal digit counts by its value; a superscript is text (str.isdigit() says otherwise).
        (["²", "٣", "2"], ["2", "٣", "²"]),
    ],
)
def test_seats_sort_by_row_then_number(labels, ordered):
    assert sorted(labels, key=seat_sort_key) == ordered
