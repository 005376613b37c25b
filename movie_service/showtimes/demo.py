"""The demo catalogue: a dozen films, three cinemas in three time zones, a week of showtimes.

Deterministic (the same data for the same day) and idempotent (movies, cinemas and screens are
found by name; a showtime already there, or one that would overlap, is skipped). Everything goes
through the services, so every showtime is published as an event.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from movie_service.cinemas import services as cinema_services
from movie_service.cinemas.layouts import row_labels, validate_layout
from movie_service.cinemas.models import Cinema, Screen
from movie_service.movies import services as movie_services
from movie_service.movies.models import Movie

from . import services as showtime_services
from .models import Showtime

MOVIES: list[dict[str, Any]] = [
    {
        "title": "The Lighthouse Keeper's Daughter",
        "duration_minutes": 118,
        "age_rating": "PG-13",
        "release_date": dt.date(2026, 3, 13),
        "genres": ["Drama", "Mystery"],
        "synopsis": "On a storm-battered Hebridean island, a young woman returns to bury her father and "
        "finds his logbooks full of ships that never existed.",
    },
    {
        "title": "Orbital Drift",
        "duration_minutes": 142,
        "age_rating": "PG-13",
        "release_date": dt.date(2026, 5, 1),
        "genres": ["Science Fiction", "Thriller"],
        "synopsis": "When a debris strike cripples a refuelling station, its three-person crew has ninety "
        "minutes to decide who boards the only escape capsule.",
    },
    {
        "title": "Paper Tigers of Shanghai",
        "duration_minutes": 127,
        "age_rating": "R",
        "release_date": dt.date(2025, 11, 21),
        "genres": ["Crime", "Drama"],
        "synopsis": "A forger in 1930s Shanghai is hired to copy a painting that three rival gangs each "
        "believe is the original.",
    },
    {
        "title": "Maple & Moss",
        "duration_minutes": 94,
        "age_rating": "G",
        "release_date": dt.date(2026, 7, 17),
        "genres": ["Animation", "Family"],
        "synopsis": "Two squirrels who have never agreed on anything must cross a whole city park "
        "together before the first snow.",
    },
    {
        "title": "The Last Good Summer",
        "duration_minutes": 109,
        "age_rating": "PG-13",
        "release_date": dt.date(2026, 6, 5),
        "genres": ["Comedy", "Drama"],
        "synopsis": "Four school friends rent the same seaside caravan they shared twenty years ago, "
        "and discover it still has their secrets under the floorboards.",
    },
    {
        "title": "Nightshift at the Museum of Clocks",
        "duration_minutes": 101,
        "age_rating": "PG",
        "release_date": dt.date(2025, 12, 12),
        "genres": ["Comedy", "Fantasy"],
        "synopsis": "A new night guard learns why every clock in the museum stops at 3:17, and why "
        "the previous guard left in such a hurry.",
    },
    {
        "title": "Cold Harbour",
        "duration_minutes": 133,
        "age_rating": "R",
        "release_date": dt.date(2026, 2, 6),
        "genres": ["Thriller", "Crime"],
        "synopsis": "A customs officer in a frozen Baltic port opens the wrong container, and spends "
        "one long night finding out who wants it back.",
    },
    {
        "title": "Sundial",
        "duration_minutes": 156,
        "age_rating": "PG-13",
        "release_date": dt.date(2026, 9, 18),
        "genres": ["Science Fiction", "Drama"],
        "synopsis": "A physicist who can replay any single day of her life has to choose which one to "
        "spend her last chance on.",
    },
    {
        "title": "The Baker of Rue Mouffetard",
        "duration_minutes": 98,
        "age_rating": "PG",
        "release_date": dt.date(2026, 4, 10),
        "genres": ["Romance", "Comedy"],
        "synopsis": "A Parisian baker famous for his temper enters a televised contest to save his shop, "
        "judged by the critic who once closed it.",
    },
    {
        "title": "Echoes Under Ice",
        "duration_minutes": 112,
        "age_rating": "PG",
        "release_date": dt.date(2025, 10, 3),
        "genres": ["Documentary"],
        "synopsis": "A year with the scientists who listen to Antarctic whales, and the sounds they "
        "found beneath the shelf that nobody can yet explain.",
    },
    {
        "title": "Red Desert Run",
        "duration_minutes": 124,
        "age_rating": "PG-13",
        "release_date": dt.date(2026, 8, 7),
        "genres": ["Action", "Adventure"],
        "synopsis": "A disgraced rally driver takes one last job: get a stranger and a locked case "
        "across two thousand kilometres of outback in three days.",
    },
    {
        "title": "Whisper Hollow",
        "duration_minutes": 103,
        "age_rating": "R",
        "release_date": dt.date(2026, 10, 30),
        "genres": ["Horror", "Mystery"],
        "synopsis": "A sound recordist hired to capture the silence of an abandoned village keeps "
        "finding voices on tapes nobody else can hear.",
    },
]


def _layout(
    *,
    rows: int,
    seats: int,
    aisles: tuple[int, ...] = (),
    premium_rows: int = 0,
    vip_rows: int = 0,
    accessible: tuple[int, ...] = (),
    narrow_front: int = 0,
) -> list[dict[str, Any]]:
    """Rows front (A) to back. The back ``premium_rows`` are premium, the back ``vip_rows`` VIP;
    ``accessible`` seat numbers of row A are wheelchair places; ``narrow_front`` rows lose a seat
    at each end (shown as gaps, so the seats stay aligned)."""
    layout = []
    for index, label in enumerate(row_labels(rows)):
        from_back = rows - index
        category = "vip" if from_back <= vip_rows else "premium" if from_back <= vip_rows + premium_rows else "standard"
        places: list[dict[str, Any] | None] = []
        number = 0
        for position in range(1, seats + 1):
            if index < narrow_front and position in (1, seats):
                places.append(None)
            else:
                number += 1
                seat_category = "accessible" if index == 0 and number in accessible else category
                places.append({"number": number, "category": seat_category})
            if position in aisles:
                places.append(None)
        layout.append({"row": label, "seats": places})
    return validate_layout(layout)


@dataclass(frozen=True)
class DemoCinema:
    name: str
    city: str
    address: str
    timezone: str
    currency: str
    prices: dict[str, str]
    screens: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


CINEMAS = [
    DemoCinema(
        name="Regent Picturehouse",
        city="London",
        address="12 Regent Street, London W1B 5TB",
        timezone="Europe/London",
        currency="GBP",
        prices={"standard": "12.50", "premium": "15.50", "accessible": "9.00", "vip": "22.00"},
        screens={
            "Screen 1": _layout(rows=10, seats=14, aisles=(7,), premium_rows=3, accessible=(1, 2, 13, 14)),
            "Screen 2": _layout(rows=6, seats=10, aisles=(2, 8), premium_rows=2, accessible=(1, 10)),
            "The Snug": _layout(rows=4, seats=6, vip_rows=4),
        },
    ),
    DemoCinema(
        name="Kino Spreeblick",
        city="Berlin",
        address="Oranienstraße 40, 10999 Berlin",
        timezone="Europe/Berlin",
        currency="EUR",
        prices={"standard": "11.00", "premium": "14.00", "accessible": "8.00"},
        screens={
            "Saal 1": _layout(rows=9, seats=12, aisles=(6,), premium_rows=2, accessible=(1, 12), narrow_front=2),
            "Saal 2": _layout(rows=7, seats=9, aisles=(3,), premium_rows=1, accessible=(1,)),
        },
    ),
    DemoCinema(
        name="Hudson Street Cinema",
        city="New York",
        address="210 Hudson Street, New York, NY 10013",
        timezone="America/New_York",
        currency="USD",
        prices={"standard": "17.00", "premium": "21.00", "accessible": "12.00", "vip": "29.00"},
        screens={
            "Theater 1": _layout(rows=10, seats=14, aisles=(4, 10), premium_rows=3, vip_rows=1, accessible=(1, 14)),
            "Theater 2": _layout(rows=8, seats=10, aisles=(5,), premium_rows=2, accessible=(1, 2)),
        },
    ),
]

FIRST_SHOW = dt.time(12, 0)
LAST_START = dt.time(22, 30)
SLOT_MINUTES = 15


@dataclass
class SeedReport:
    movies: int = 0
    cinemas: int = 0
    screens: int = 0
    showtimes: int = 0
    skipped_showtimes: int = 0

    def __str__(self) -> str:
        return (
            f"created {self.movies} movies, {self.cinemas} cinemas, {self.screens} screens, "
            f"{self.showtimes} showtimes ({self.skipped_showtimes} already there or overlapping)"
        )


def catalogue_is_empty() -> bool:
    return not Movie.objects.exists()


def seed_catalogue(*, days: int = 7, today: dt.date | None = None) -> SeedReport:
    report = SeedReport()
    movies = [_movie(spec, report) for spec in MOVIES]
    for cinema_index, spec in enumerate(CINEMAS):
        cinema = _cinema(spec, report)
        zone = zoneinfo.ZoneInfo(spec.timezone)
        local_today = today or timezone.now().astimezone(zone).date()
        for screen_index, (name, layout) in enumerate(spec.screens.items()):
            screen = _screen(cinema, name, layout, report)
            prices = {category: spec.prices[category] for category in {seat["category"] for seat in screen.seats}}
            for day in range(days):
                date = local_today + dt.timedelta(days=day)
                rotation = cinema_index * 5 + screen_index * 3 + day
                _schedule_day(screen, date, zone, movies, rotation, prices, spec.currency, report)
    return report


def _movie(spec: dict[str, Any], report: SeedReport) -> Movie:
    movie = Movie.objects.filter(title=spec["title"]).first()
    if movie is None:
        movie = movie_services.movie_create(**spec)
        report.movies += 1
    return movie


def _cinema(spec: DemoCinema, report: SeedReport) -> Cinema:
    cinema = Cinema.objects.filter(name=spec.name).first()
    if cinema is None:
        cinema = cinema_services.cinema_create(
            name=spec.name, city=spec.city, address=spec.address, timezone=spec.timezone
        )
        report.cinemas += 1
    return cinema


def _screen(cinema: Cinema, name: str, layout: list[dict[str, Any]], report: SeedReport) -> Screen:
    screen = Screen.objects.filter(cinema=cinema, name=name).first()
    if screen is None:
        screen = cinema_services.screen_create(cinema=cinema, name=name, layout=layout)
        report.screens += 1
    return screen


def _schedule_day(screen, date, zone, movies, rotation, prices, currency, report: SeedReport) -> None:
    starts_at = dt.datetime.combine(date, FIRST_SHOW, tzinfo=zone)
    last_start = dt.datetime.combine(date, LAST_START, tzinfo=zone)
    slot = 0
    while starts_at <= last_start:
        movie = movies[(rotation + slot) % len(movies)]
        ends_at = showtime_services.showtime_end(movie=movie, starts_at=starts_at)
        if starts_at > timezone.now():
            _showtime(screen, movie, starts_at, prices, currency, report)
        slot += 1
        starts_at = _round_up(ends_at)


def _showtime(screen, movie, starts_at, prices, currency, report: SeedReport) -> None:
    if Showtime.objects.filter(screen=screen, starts_at=starts_at).exists():
        report.skipped_showtimes += 1
        return
    try:
        with transaction.atomic():
            showtime_services.showtime_create(
                movie=movie, screen=screen, starts_at=starts_at, prices=prices, currency=currency
            )
    except ValidationError:
        report.skipped_showtimes += 1
        return
    report.showtimes += 1


def _round_up(moment: dt.datetime) -> dt.datetime:
    """The next quarter hour at or after ``moment`` (in its own time zone)."""
    moment = moment.replace(second=0, microsecond=0)
    extra = -moment.minute % SLOT_MINUTES
    return moment + dt.timedelta(minutes=extra)
