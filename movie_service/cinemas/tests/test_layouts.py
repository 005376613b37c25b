import pytest
from django.core.exceptions import ValidationError

from movie_service.cinemas.layouts import MAX_SEATS, flatten_seats, generate_layout, validate_layout
from movie_service.cinemas.tests.factories import small_layout


def test_flatten_skips_gaps_and_labels_row_and_number():
    assert flatten_seats(small_layout()) == [
        {"label": "A1", "category": "accessible"},
        {"label": "A2", "category": "standard"},
        {"label": "B1", "category": "premium"},
        {"label": "B2", "category": "premium"},
    ]


def test_generate_puts_an_aisle_after_the_given_seat():
    layout = generate_layout(rows=2, seats_per_row=4, category="premium", aisle_after=2)

    assert layout[1] == {
        "row": "B",
        "seats": [
            {"number": 1, "category": "premium"},
            {"number": 2, "category": "premium"},
            None,
            {"number": 3, "category": "premium"},
            {"number": 4, "category": "premium"},
        ],
    }


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ([], "A layout is a non-empty list of rows."),
        ([{"row": "a", "seats": [{"number": 1, "category": "standard"}]}], "Row 1: the row label must be"),
        ([{"row": "A", "seats": [None, None]}], "Row A: a row needs at least one seat."),
        (
            [{"row": "A", "seats": [{"number": 1, "category": "standard"}, {"number": 1, "category": "standard"}]}],
            "Row A: seat 1 is used twice.",
        ),
        ([{"row": "A", "seats": [{"number": 1, "category": "gold"}]}], "Row A: unknown seat category 'gold'"),
        ([{"row": "A", "seats": [{"number": 0, "category": "standard"}]}], "Row A: seat numbers are whole numbers"),
        (
            [{"row": "A", "seats": [{"number": 1, "category": "standard"}]}] * 2,
            "Row A: the row label is used twice.",
        ),
    ],
)
def test_invalid_layouts_are_refused_with_the_reason(layout, message):
    with pytest.raises(ValidationError) as error:
        validate_layout(layout)

    assert error.value.messages[0].startswith(message)


def test_a_screen_holds_at_most_max_seats():
    with pytest.raises(ValidationError) as error:
        generate_layout(rows=8, seats_per_row=20)

    assert error.value.messages == [f"A screen has at most {MAX_SEATS} seats; this layout has 160."]
