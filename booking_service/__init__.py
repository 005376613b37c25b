"""The booking service: one Django project with its own database."""

from .celery import app as celery_app

__all__ = ("celery_app",)
