"""Production: refuses to start with development secrets; HTTPS-only cookies and HSTS."""

import os

from django.core.exceptions import ImproperlyConfigured

from common.config.production import production_settings

from .base import *  # noqa: F403

globals().update(production_settings(globals()))

if not (os.environ.get("AUTH_JWT_PRIVATE_KEY") or os.environ.get("AUTH_JWT_PRIVATE_KEY_FILE")):
    # A generated development key would sign tokens nobody else has the key set for, and would
    # change with every container: production gets its key from the environment or a file.
    raise ImproperlyConfigured(
        "refusing to start with production settings: set AUTH_JWT_PRIVATE_KEY or AUTH_JWT_PRIVATE_KEY_FILE"
    )
