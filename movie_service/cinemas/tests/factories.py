from __future__ import annotations

import factory

from movie_service.cinemas.layouts import generate_layout
from movie_service.cinemas.models import Cinema, Screen


class CinemaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cinema

    name = factory.Sequence(lambda n: f"Cinema {n:03d}")
    city = "London"
    address = "1 High Street"
    timezone = "Europe/London"


def small_layout() -> list[dict]:
    """Row A: A1 accessible, gap, A2 standard; row B: B1 premium, B2 premium."""
    return [
        {"row": "A", "seats": [{"number": 1, "category": "accessible"}, None, {"number": 2, "category": "standard"}]},
        {"row": "B", "seats": [{"number": 1, "category": "premium"}, {"number": 2, "category": "premium"}]},
    ]


class ScreenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Screen

    cinema = factory.SubFactory(CinemaFactory)
    name = factory.Sequence(lambda n: f"Screen {n}")
    layout = factory.LazyFunction(lambda: generate_layout(rows=2, seats_per_row=3))
