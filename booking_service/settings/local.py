"""Development: debug on, readable logs."""

import os

from common.config.env import env_bool
from common.config.settings import logging_config

from .base import *  # noqa: F403

DEBUG = env_bool("DJANGO_DEBUG", default=True)
os.environ.setdefault("LOG_FORMAT", "plain")
LOGGING = logging_config(SERVICE_NAME)
