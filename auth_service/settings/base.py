"""Settings of the auth service; shared defaults come from ``common.config``."""

from common.config.settings import build_settings

globals().update(build_settings("auth", apps=["auth_service.accounts"]))
