"""``manage_all.py verify``: the booking report, and the cross-service comparison."""

from __future__ import annotations

import datetime as dt
import io
import json
import types as pytypes

import pytest
from django.core.management import call_command
from django.utils import timezone

from booking_service.bookings.models import Booking, BookingSeat
from deploy.cli import verify

from .factories import ShowtimeReplicaFactory, make_booking

pytestmark = pytest.mark.django_db

B1, B2, B3 = (
    "11111111-1111-1111-1111-111111111111",
    "22222222-2222-2222-2222-222222222222",
    "33333333-3333-3333-3333-333333333333",
)


def report() -> dict:
    out = io.StringIO()
    call_command("verify_report", stdout=out)
    return json.loads(out.getvalue())


# --- The booking side: manage.py verify_report ------------------------------------------------------


def test_report_on_a_clean_state_lists_bookings_and_no_problems():
    # given
    booking = make_booking(seats=["A2", "A1"])

    # when
    result = report()

    # then
    assert result["double_booked_seats"] == []
    assert result["overdue_pending"] == []
    assert result["grace_seconds"] == 60
    assert result["live_on_cancelled_showtimes"] == []
    [entry] = result["bookings"]
    assert entry == {
        "id": str(booking.id),
        "status": "pending",
        "total_amount": "25.00",
        "currency": "EUR",
        "expires_at": booking.expires_at.isoformat(),
        "updated_at": entry["updated_at"],
        "live_seats": ["A1", "A2"],
    }
    assert verify.find_violations(result, {"payments": []}) == []


def test_report_finds_a_seat_in_two_live_bookings():
    # given: planted, as a bug that lost the is_live flag would leave it
    showtime = ShowtimeReplicaFactory()
    make_booking(showtime=showtime, seats=["A1"])
    other = make_booking(showtime=showtime, seats=["A2"])
    BookingSeat.objects.filter(booking=other).update(label="A1", is_live=False)

    # when
    result = report()

    # then
    assert result["double_booked_seats"] == [{"showtime_id": str(showtime.id), "label": "A1", "bookings": 2}]
    assert verify.find_violations(result, {"payments": []}) == [
        f"seat A1 of showtime {showtime.id} is in 2 live bookings"
    ]


def test_report_finds_a_booking_pending_past_its_hold_and_grace():
    # given
    overdue = make_booking(seats=["A1"])
    expired_at = timezone.now() - dt.timedelta(seconds=61)
    Booking.objects.filter(pk=overdue.pk).update(expires_at=expired_at)
    within_grace = make_booking(seats=["A2"])
    Booking.objects.filter(pk=within_grace.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=30))

    # when
    result = report()

    # then
    assert result["overdue_pending"] == [{"id": str(overdue.id), "expires_at": expired_at.isoformat()}]
    [violation] = verify.find_violations(result, {"payments": []})
    assert violation.startswith(f"booking {overdue.id} is still pending after its hold")


def test_report_finds_a_live_booking_of_a_cancelled_showtime():
    # given: the cancellation never reached this booking (a lost or dead-lettered event)
    showtime = ShowtimeReplicaFactory()
    booking = make_booking(showtime=showtime, seats=["A1"])
    showtime.status = "cancelled"
    showtime.save()

    # when
    result = report()

    # then
    assert result["live_on_cancelled_showtimes"] == [str(booking.id)]
    assert verify.find_violations(result, {"payments": []}) == [
        f"booking {booking.id} is still live although its showtime was cancelled"
    ]


# --- The comparison: a pure function over the reports ------------------------------------------------


def bookings(*entries) -> dict:
    return {
        "bookings": [
            {"id": booking_id, "status": status, "total_amount": amount, "currency": "EUR", "live_seats": []}
            for booking_id, status, amount in entries
        ],
        "double_booked_seats": [],
        "overdue_pending": [],
        "grace_seconds": 60,
    }


def payment(booking_id, status, amount="25.00", charges=1, refunds=0, payment_id="p-1", currency="EUR") -> dict:
    return {
        "id": payment_id,
        "booking_id": booking_id,
        "status": status,
        "amount": amount,
        "currency": currency,
        "charge_count": charges,
        "refund_count": refunds,
    }


def test_a_consistent_system_has_no_violations():
    booking_report = bookings((B1, "confirmed", "25.00"), (B2, "cancelled", "12.50"), (B3, "pending", "12.50"))
    payments = {
        "payments": [
            payment(B1, "succeeded"),
            payment(B2, "refunded", amount="12.50", refunds=1, payment_id="p-2"),
            payment(B3, "pending", amount="12.50", charges=0, payment_id="p-3"),
        ]
    }
    statuses = {"booking": {"unsent": 0, "oldest_unsent_age_seconds": 0.0}, "payment": {"oldest_unsent_age_seconds": 3}}

    assert verify.find_violations(booking_report, payments, statuses) == []


def test_a_declined_payment_of_a_cancelled_booking_is_fine():
    booking_report = bookings((B1, "cancelled", "25.00"))

    assert verify.find_violations(booking_report, {"payments": [payment(B1, "failed", charges=0)]}) == []


@pytest.mark.parametrize(
    ("payments", "expected"),
    [
        ([], "without exactly one succeeded payment"),
        ([payment(B1, "failed", charges=0)], "without exactly one succeeded payment"),
        ([payment(B1, "succeeded", amount="20.00")], "without exactly one succeeded payment"),
        ([payment(B1, "succeeded", currency="USD")], "without exactly one succeeded payment"),
        (
            [payment(B1, "succeeded"), payment(B1, "succeeded", payment_id="p-2")],
            "without exactly one succeeded payment",
        ),
    ],
)
def test_a_confirmed_booking_needs_exactly_one_succeeded_payment_of_its_amount(payments, expected):
    violations = verify.find_violations(bookings((B1, "confirmed", "25.00")), {"payments": payments})

    assert len(violations) == 1
    assert expected in violations[0]
    assert violations[0].startswith(f"booking {B1} is confirmed (25.00 EUR)")


def test_a_double_charge_is_a_violation():
    violations = verify.find_violations(
        bookings((B1, "confirmed", "25.00")), {"payments": [payment(B1, "succeeded", charges=2)]}
    )

    assert f"payment p-1 of booking {B1} was charged 2 times" in violations


@pytest.mark.parametrize("status", ["cancelled", "expired"])
def test_an_ended_booking_with_an_unrefunded_payment_is_a_violation(status):
    violations = verify.find_violations(bookings((B1, status, "25.00")), {"payments": [payment(B1, "succeeded")]})

    assert violations == [
        f"booking {B1} is {status} but payment p-1 is charged (1x) and not refunded (0x, status succeeded)"
    ]


def test_a_payment_for_an_unknown_booking_is_only_a_note():
    payments = {"payments": [payment(B1, "succeeded")]}

    assert verify.find_violations(bookings(), payments) == []
    assert verify.find_notes(bookings(), payments) == [
        "1 payment(s) refer to bookings unknown to the booking service (e.g. p-1)"
    ]


def test_dead_letters_are_a_note():
    statuses = {
        "booking": {"dead_letters": 2, "dead_letter_queue": "booking.events.dead"},
        "movie": {"dead_letters": None},
    }

    assert verify.find_violations(bookings(), {"payments": []}, statuses) == []
    assert verify.find_notes(bookings(), {"payments": []}, statuses) == [
        "booking: 2 dead-lettered event(s) in booking.events.dead"
    ]


def test_an_old_unsent_outbox_row_is_a_violation():
    statuses = {
        "payment": {"unsent": 2, "oldest_unsent_age_seconds": 61.5},
        "booking": {"oldest_unsent_age_seconds": 0},
    }

    violations = verify.find_violations(bookings(), {"payments": []}, statuses)

    assert violations == ["payment: an outbox row has been unsent for 62 s (more than 60 s)"]


# --- The command: exit status -------------------------------------------------------------------------


def fake_reports(monkeypatch, *, booking_report, payment_report, missing_events_status=False):
    def read_report(service_name, *command, settings="local"):
        if command[0] == "events_status":
            if missing_events_status:
                raise verify.CommandMissingError(f"{service_name}: Unknown command: 'events_status'")
            return {"service": service_name, "unsent": 0, "oldest_unsent_age_seconds": 0.0}
        return booking_report if service_name == "booking" else payment_report

    monkeypatch.setattr(verify, "read_report", read_report)


def args():
    return pytypes.SimpleNamespace(settings="local", outbox_max_age=60.0)


def test_run_exits_0_when_consistent(monkeypatch, capsys):
    fake_reports(
        monkeypatch,
        booking_report=bookings((B1, "confirmed", "25.00")),
        payment_report={"payments": [payment(B1, "succeeded")]},
    )

    assert verify.run(args()) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "verify: OK (1 bookings, 1 payments)"


def test_run_exits_1_on_a_violation(monkeypatch, capsys):
    fake_reports(monkeypatch, booking_report=bookings((B1, "confirmed", "25.00")), payment_report={"payments": []})

    assert verify.run(args()) == 1
    out = capsys.readouterr().out
    assert f"VIOLATION: booking {B1} is confirmed" in out
    assert "verify: 1 violation(s) in 1 bookings and 0 payments" in out


def test_run_notes_a_missing_events_status_command(monkeypatch, capsys):
    fake_reports(monkeypatch, booking_report=bookings(), payment_report={"payments": []}, missing_events_status=True)

    assert verify.run(args()) == 0
    assert "note: booking: no events_status command yet; outbox age not checked" in capsys.readouterr().out
