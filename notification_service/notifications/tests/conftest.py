import pytest

from notification_service.celery import app as celery_app


@pytest.fixture(autouse=True)
def _celery_eager():
    """Tasks enqueued on commit run here, in-process (``.apply()``), never through a broker.

    Exceptions are not propagated: that is what lets an eager ``self.retry()`` run the retry.
    """
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run what the code under test schedules for after commit (enqueueing the send task)."""

    def run(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return run
