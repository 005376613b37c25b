"""Production: refuses to start with development secrets; HTTPS-only cookies and HSTS."""

import os

from django.core.exceptions import ImproperlyConfigured

from common.config.production import production_settings

from .base import *  # noqa: F403

globals().update(production_settings(globals()))

# The other services call these inside the cluster over plain HTTP (AUTH_JWKS_URL, AUTH_TOKEN_URL:
# http://auth:8001/…), with no X-Forwarded-Proto: redirected to HTTPS, which gunicorn does not
# speak, no service could verify a token or sign its staff in. Clients reach them through the
# gateway or the ingress, which redirect to HTTPS themselves; and a redirect never protected a
# password already sent in the clear.
SECURE_REDIRECT_EXEMPT = [
    *SECURE_REDIRECT_EXEMPT,  # from production_settings above
    r"^api/auth/jwks/$",
    r"^\.well-known/jwks\.json$",
    r"^api/auth/token/$",
]

if not (os.environ.get("AUTH_JWT_PRIVATE_KEY") or os.environ.get("AUTH_JWT_PRIVATE_KEY_FILE")):
    # A generated development key would sign tokens nobody else has the key set for, and would
    # change with every container: production gets its key from the environment or a file.
    raise ImproperlyConfigured(
        "refusing to start with production settings: set AUTH_JWT_PRIVATE_KEY or AUTH_JWT_PRIVATE_KEY_FILE"
    )
