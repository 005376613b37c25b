"""Production: refuses to start with development secrets; HTTPS-only cookies and HSTS."""

from common.config.production import production_settings

from .base import *  # noqa: F403

globals().update(production_settings(globals()))
