"""Settings of the notification service; shared defaults come from ``common.config``."""

from common.config.settings import build_settings

globals().update(build_settings("notification", apps=["notification_service.notifications"]))
