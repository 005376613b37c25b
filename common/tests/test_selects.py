"""``select_row`` reads one row by key and, asked to, holds its lock to the end of the transaction."""

import threading
import time

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError

from common.db.selects import select_row, select_values
from common.testing.infrastructure import require_postgres_database
from common.testing.locks import row_locked_elsewhere
from common.tests.app.models import Counter

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_returns_the_row_as_a_model_or_none():
    counter = Counter.objects.create(key="seats", value=3)

    with transaction.atomic():
        locked = select_row(Counter, counter.pk, for_update=True)
        missing = select_row(Counter, counter.pk + 1000, for_update=True)

    assert (type(locked), locked.pk, locked.key, locked.value) == (Counter, counter.pk, "seats", 3)
    assert missing is None


def test_a_second_transaction_waits_for_the_lock_and_then_sees_the_first_ones_write():
    # given a row locked and changed by one transaction that has not committed yet
    counter = Counter.objects.create(key="seats", value=0)
    locked = threading.Event()
    seen = {}

    def second():
        locked.wait(5)
        with transaction.atomic():
            started = time.monotonic()
            row = select_row(Counter, counter.pk, for_update=True)
            seen.update(value=row.value, waited=time.monotonic() - started)
        connection.close()

    thread = threading.Thread(target=second)
    thread.start()
    with transaction.atomic():
        row = select_row(Counter, counter.pk, for_update=True)
        row.value += 1
        row.save(update_fields=["value"])
        locked.set()
        time.sleep(0.3)  # the second transaction is blocked on the row meanwhile
    thread.join(5)

    # then it waited for the commit and read the new value, not the one before it
    assert seen["value"] == 1
    assert seen["waited"] >= 0.2


def test_skip_locked_passes_over_a_row_another_transaction_holds(settings):
    require_postgres_database(settings)  # SQLite locks the whole file, not the row
    # given a row that another transaction has locked and not released yet
    counter = Counter.objects.create(key="seats", value=0)

    # when this one asks for it, skipping locked rows
    with row_locked_elsewhere(Counter, counter.pk), transaction.atomic():
        started = time.monotonic()
        skipped = select_row(Counter, counter.pk, for_update=True, skip_locked=True)
        waited = time.monotonic() - started

    # then it did not wait and got nothing; once released, the row is there to lock again
    assert (skipped, waited < 0.2) == (None, True)
    with transaction.atomic():
        assert select_row(Counter, counter.pk, for_update=True, skip_locked=True).pk == counter.pk


def test_a_key_share_lock_waits_for_an_update_lock_and_then_reads_the_new_row(settings):
    require_postgres_database(settings)  # SQLite has no row locks
    # given a row another transaction holds FOR UPDATE and has changed, not yet committed
    counter = Counter.objects.create(key="seats", value=0)
    locked, commit = threading.Event(), threading.Event()

    def change():
        with transaction.atomic():
            row = select_row(Counter, counter.pk, for_update=True)
            row.value = 7
            row.save(update_fields=["value"])
            locked.set()
            commit.wait(5)
        connection.close()

    thread = threading.Thread(target=change)
    thread.start()
    locked.wait(5)
    threading.Timer(0.3, commit.set).start()

    # when this one reads it FOR KEY SHARE
    with transaction.atomic():
        started = time.monotonic()
        row = select_row(Counter, counter.pk, key_share=True)
        waited = time.monotonic() - started
    thread.join(5)

    # then it waited for the commit and read the new row
    assert (row.value, waited >= 0.2) == (7, True)


@pytest.mark.parametrize("lock", ["for_update", "key_share"])
def test_outside_a_transaction_it_refuses_as_select_for_update_does(lock):
    counter = Counter.objects.create(key="seats")

    with pytest.raises(TransactionManagementError):
        select_row(Counter, counter.pk, **{lock: True})


def test_without_the_lock_it_reads_outside_a_transaction_too():
    counter = Counter.objects.create(key="seats", value=2)

    row = select_row(Counter, counter.pk)

    assert (row.pk, row.value) == (counter.pk, 2)
    assert select_row(Counter, counter.pk + 1000) is None


def test_select_values_reads_one_column_of_the_matching_rows_only():
    # given three rows, two of which match both conditions
    Counter.objects.create(key="a1", value=2)
    Counter.objects.create(key="a2", value=2)
    Counter.objects.create(key="a3", value=5)

    # when
    keys = select_values(Counter, "key", value=2)
    one = select_values(Counter, "value", key="a3", value=5)
    none = select_values(Counter, "key", key="a3", value=2)

    # then
    assert sorted(keys) == ["a1", "a2"]
    assert one == [5]
    assert none == []


def test_select_values_refuses_to_read_every_row():
    with pytest.raises(ValueError, match="at least one condition"):
        select_values(Counter, "key")
