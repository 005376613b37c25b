"""Operations: the status and replay commands, the admin, the metrics, the manage_all table."""

import io
import json
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from common.events import types
from common.events.models import InboxEvent, OutboxEvent
from common.events.publisher import publish
from common.tests.events.support import dead_queue_size, drain, payment_data
from deploy.cli.events import format_table

pytestmark = pytest.mark.django_db(transaction=True)


def _pending_rows(count: int) -> list[OutboxEvent]:
    rows = []
    with transaction.atomic():
        for _ in range(count):
            data = payment_data()
            rows.append(publish(types.PAYMENT_SUCCEEDED, data, aggregate_id=data["payment_id"]))
        connection.run_on_commit = []  # as if the broker had been down
    return rows


def test_events_status_reports_backlog_failures_and_dead_letters():
    # given two pending rows (the oldest ten minutes old), one failed and one sent
    rows = _pending_rows(4)
    OutboxEvent.objects.filter(position=rows[0].position).update(created_at=timezone.now() - timedelta(minutes=10))
    OutboxEvent.objects.filter(position=rows[2].position).update(status=OutboxEvent.Status.FAILED, attempts=20)
    OutboxEvent.objects.filter(position=rows[3].position).update(status=OutboxEvent.Status.SENT)
    out = io.StringIO()

    # when the status command runs
    call_command("events_status", "--json", stdout=out)

    # then it counts them
    status = json.loads(out.getvalue())
    age = status.pop("oldest_unsent_age_seconds")
    assert 600 <= age < 660
    assert status == {
        "service": "common",
        "unsent": 3,
        "failed": 1,
        "database_error": None,
        "dead_letter_queue": f"{status['dead_letter_queue'].split('common.events.dead')[0]}common.events.dead",
        "dead_letters": 0,
        "broker_error": None,
    }
    assert status["dead_letter_queue"].startswith("test.")


def test_admin_replay_action_puts_failed_and_sent_rows_back_to_pending(client, settings):
    # given a staff user in the admin, a failed row, a sent row and a pending row
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "x")
    client.force_login(user)
    failed, sent, pending = _pending_rows(3)
    OutboxEvent.objects.filter(position=failed.position).update(
        status=OutboxEvent.Status.FAILED, attempts=20, last_error="ConnectionRefusedError"
    )
    OutboxEvent.objects.filter(position=sent.position).update(status=OutboxEvent.Status.SENT, sent_at=timezone.now())

    # when the replay action runs on all three
    response = client.post(
        "/admin/common/events/outboxevent/",
        {"action": "replay", "_selected_action": [failed.position, sent.position, pending.position]},
    )

    # then the failed and sent rows are pending again, as new; the pending one is untouched
    assert response.status_code == 302
    rows = {row.position: row for row in OutboxEvent.objects.all()}
    assert [(r.status, r.attempts, r.last_error, r.sent_at) for r in rows.values()] == [
        ("pending", 0, "", None),
        ("pending", 0, "", None),
        ("pending", 0, "", None),
    ]


def test_admin_lists_and_searches_the_outbox_and_shows_the_inbox_read_only(client, settings):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    client.force_login(get_user_model().objects.create_superuser("ops", "ops@example.com", "x"))
    row = _pending_rows(1)[0]
    InboxEvent.objects.create(id=uuid.uuid4(), type=types.PAYMENT_SUCCEEDED)

    listing = client.get("/admin/common/events/outboxevent/", {"q": str(row.event_id), "status__exact": "pending"})
    assert listing.status_code == 200
    assert str(row.event_id) in listing.content.decode()
    assert client.get("/admin/common/events/outboxevent/", {"q": "no-such-event"}).status_code == 200
    assert client.get("/admin/common/events/inboxevent/").status_code == 200
    assert client.get("/admin/common/events/inboxevent/add/").status_code == 403


def test_metrics_export_the_backlog_and_published_counts(client):
    # given one event sent and consumed, and two waiting
    with transaction.atomic():
        data = payment_data()
        publish(types.PAYMENT_SUCCEEDED, data, aggregate_id=data["payment_id"])
    assert drain(expected=1) == 1
    _pending_rows(2)

    # when Prometheus scrapes
    text = client.get("/metrics").content.decode()

    # then the backlog and the published count are there
    assert "events_outbox_unsent 2.0" in text
    assert "events_outbox_oldest_unsent_age_seconds " in text
    assert 'events_published_total{type="payments.payment.succeeded"}' in text
    assert "events_dead_letters 0.0" in text
    assert 'events_consumed_total{outcome="applied",type="payments.payment.succeeded"}' in text


def test_metrics_scrape_succeeds_when_the_outbox_cannot_be_read(client, monkeypatch):
    def database_down():
        raise ConnectionError("database is down")

    monkeypatch.setattr("common.events.metrics.outbox_backlog", database_down)

    response = client.get("/metrics")

    assert response.status_code == 200
    assert "events_outbox_unsent " not in response.content.decode()


def test_replay_dead_command_moves_dead_letters_back(events_namespace):
    from common.events.conf import dead_queue_name
    from common.events.testing import make_envelope
    from common.tests.events.test_consumer import send_raw

    # given two messages in the dead-letter queue
    envelopes = [make_envelope(types.PAYMENT_SUCCEEDED, payment_data()) for _ in range(2)]
    send_raw(envelopes, to_queue=dead_queue_name("common"))
    assert dead_queue_size() == 2
    out = io.StringIO()

    # when they are replayed
    call_command("events_replay_dead", stdout=out)

    # then they are back on the events queue
    assert out.getvalue() == (
        f"2 message(s) moved from test.{events_namespace}.common.events.dead to test.{events_namespace}.common.events\n"
    )
    assert dead_queue_size() == 0


def test_manage_all_events_table():
    rows = [
        {"service": "auth", "unsent": 0, "oldest_unsent_age_seconds": 0.0, "failed": 0, "dead_letter_queue": None},
        {
            "service": "booking",
            "unsent": 3,
            "oldest_unsent_age_seconds": 600.0,
            "failed": 1,
            "dead_letter_queue": "booking.events.dead",
            "dead_letters": 2,
        },
        {
            "service": "payment",
            "unsent": 0,
            "oldest_unsent_age_seconds": 0.0,
            "failed": 0,
            "dead_letter_queue": "payment.events.dead",
            "dead_letters": None,
        },
        {"service": "notification", "error": "OperationalError: no such table"},
    ]

    assert format_table(rows).splitlines() == [
        "service         unsent  oldest unsent  failed  dead letters",
        "auth                 0              -       0    (no queue)",
        "booking              3            10m       1             2",
        "payment              0              -       0   broker down",
        "notification    error: OperationalError: no such table",
    ]


def test_prune_deletes_sent_outbox_rows_and_inbox_rows_past_their_retention_in_batches(settings):
    from common.events.services import events_prune

    # given, in batches of 2: five sent outbox rows eight days old, one sent yesterday, one
    # pending and one failed of a month ago; and inbox rows of 31 days (three) and of 29 days
    settings.COMMON["EVENTS"]["PRUNE_BATCH_SIZE"] = 2
    rows = _pending_rows(9)
    old, recent, pending, failed = rows[:5], rows[5], rows[6], rows[7]
    now = timezone.now()
    sent = OutboxEvent.Status.SENT
    OutboxEvent.objects.filter(position__in=[r.position for r in old]).update(
        status=sent, created_at=now - timedelta(days=8)
    )
    OutboxEvent.objects.filter(position=recent.position).update(status=sent, created_at=now - timedelta(days=1))
    OutboxEvent.objects.filter(position__in=[pending.position, failed.position]).update(
        created_at=now - timedelta(days=30)
    )
    OutboxEvent.objects.filter(position=failed.position).update(status=OutboxEvent.Status.FAILED)
    stale_inbox = [InboxEvent.objects.create(id=uuid.uuid4(), type=types.PAYMENT_SUCCEEDED) for _ in range(3)]
    kept_inbox = InboxEvent.objects.create(id=uuid.uuid4(), type=types.PAYMENT_SUCCEEDED)
    InboxEvent.objects.filter(id__in=[row.id for row in stale_inbox]).update(received_at=now - timedelta(days=31))
    InboxEvent.objects.filter(id=kept_inbox.id).update(received_at=now - timedelta(days=29))

    # when the prune runs
    deleted = events_prune(now=now)

    # then only the sent rows past 7 days and the inbox rows past 30 are gone
    assert deleted == {"outbox": 5, "inbox": 3}
    assert set(OutboxEvent.objects.values_list("position", flat=True)) == {
        row.position for row in (recent, pending, failed, rows[8])
    }
    assert list(InboxEvent.objects.values_list("id", flat=True)) == [kept_inbox.id]

    # and a second run finds nothing more
    assert events_prune(now=now) == {"outbox": 0, "inbox": 0}


def test_the_backlog_queries_name_the_unsent_statuses_so_the_status_index_serves_them():
    from django.test.utils import CaptureQueriesContext

    from common.events.metrics import outbox_backlog
    from common.events.services import outbox_status

    # given a pending row
    _pending_rows(1)

    # when the metric and the status command read the backlog
    with CaptureQueriesContext(connection) as queries:
        assert outbox_backlog()[0] == 1
        assert outbox_status()["unsent"] == 1

    # then each reads the unsent statuses by name, never "not sent" (which scans every row)
    reads = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("SELECT")]
    assert len(reads) == 2
    assert all("IN ('pending', 'failed')" in sql and "NOT" not in sql for sql in reads), reads


def test_every_service_schedules_the_prune_hourly():
    from common.config.celery import celery_settings

    schedule = celery_settings("movie")["CELERY_BEAT_SCHEDULE"]

    assert schedule["events.prune"]["task"] == "events.prune"
    assert schedule["events.prune"]["schedule"] == 3600.0


def test_an_outbox_rows_page_is_read_only_while_the_list_still_replays(client, settings):
    # given a sent row, its page open in the admin
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    client.force_login(get_user_model().objects.create_superuser("ops", "ops@example.com", "x"))
    row = _pending_rows(1)[0]
    OutboxEvent.objects.filter(position=row.position).update(status=OutboxEvent.Status.SENT, sent_at=timezone.now())
    page = f"/admin/common/events/outboxevent/{row.position}/change/"
    assert client.get(page).status_code == 200

    # when staff press Save on it (its Save wrote back the row as read over the relay's update)
    response = client.post(page, {})

    # then it is refused and the row is as the relay left it; the list's replay is still offered
    assert response.status_code == 403
    assert OutboxEvent.objects.get(position=row.position).status == OutboxEvent.Status.SENT
    listing = client.get("/admin/common/events/outboxevent/")
    assert "replay" in [name for name, _ in listing.context["action_form"].fields["action"].choices]
