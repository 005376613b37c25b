"""Production: refuses to start with development secrets; HTTPS-only cookies and HSTS."""

from django.core.exceptions import ImproperlyConfigured

from common.config.env import env_list
from common.config.production import production_settings

from .base import *  # noqa: F403

globals().update(production_settings(globals()))

# No development default here: unset, every webhook is refused (fail closed) until the
# provider's signing secrets are configured; the development secret is refused outright.
PAYMENT_WEBHOOK_SECRETS = env_list("PAYMENT_WEBHOOK_SECRETS", [])
if DEV_WEBHOOK_SECRET in PAYMENT_WEBHOOK_SECRETS:
    raise ImproperlyConfigured("refusing to start with production settings: PAYMENT_WEBHOOK_SECRETS has the dev secret")
