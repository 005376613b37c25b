"""Tasks that exist only to test ``common``'s Celery app in a real worker."""

from celery import shared_task
from django.db import connection

from .models import Counter


@shared_task(name="common.tests.record_database_backend")
def record_database_backend(key: str) -> None:
    """Store the PostgreSQL backend this task's queries ran on, as ``Counter(key, value=pid)``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    Counter.objects.create(key=key, value=pid)


@shared_task(name="common.tests.record_statement_timeout")
def record_statement_timeout(key: str) -> None:
    """Store the statement_timeout of this task's connection in milliseconds, as ``Counter(key, value=ms)``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('statement_timeout')::interval")
        (timeout,) = cursor.fetchone()
    Counter.objects.create(key=key, value=int(timeout.total_seconds() * 1000))
