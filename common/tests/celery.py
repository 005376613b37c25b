"""The Celery app of the common test project (real worker processes in the event tests)."""

from common.celery_app import create_celery_app

app = create_celery_app("common")
