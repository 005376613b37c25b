"""Tasks that exist only to test ``common``'s Celery app in a real worker."""

from celery import shared_task
from django.db import connection

from common.celery_app import DATABASE_ERRORS, retry_after_database_error

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


@shared_task(name="common.tests.record_database_retries", bind=True, max_retries=None, retries_database_errors=True)
def record_database_retries(self, key: str, database_retries: int = 0) -> None:
    """Store how often this task met its database gone before it ran, as ``Counter(key, value=n)``,
    and the backend it then ran on as ``Counter(key + ":pid")``."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
    except DATABASE_ERRORS as exc:
        retry = retry_after_database_error(
            self, exc, subject=key, database_retries=database_retries, max_retries=3, countdown=0.1, left_to="the test"
        )
        if retry is None:
            return
        raise retry from exc
    Counter.objects.create(key=key, value=database_retries)
    Counter.objects.create(key=f"{key}:pid", value=pid)
