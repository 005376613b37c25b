"""A bare Django project: no apps, no middleware, one database (the baseline's own)."""

import os

import dj_database_url

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or "bench-baseline-" + "x" * 50
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "bench.baseline.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES = {"default": dj_database_url.parse(os.environ["BASELINE_DATABASE_URL"], conn_max_age=60)}
USE_TZ = True
