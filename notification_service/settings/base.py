"""Settings of the notification service; shared defaults come from ``common.config``."""

from common.config.env import env_bool, env_int, env_str
from common.config.paths import var_dir
from common.config.settings import build_settings

globals().update(build_settings("notification", apps=["notification_service.notifications"]))

# E-mail: SMTP when EMAIL_HOST is set (compose points it at Mailpit), otherwise every message is
# written as a file under var/mail/ (and logged by the sender), so development needs no server.
EMAIL_HOST = env_str("EMAIL_HOST", "") or ""
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 25)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "") or ""
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "") or ""
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(var_dir() / "mail")
# Every outbound call has a timeout: an SMTP server that hangs is a transient error, retried.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Movie Tickets <tickets@example.com>")

NOTIFICATIONS = {
    # One try plus this many retries, with exponential backoff, on transient SMTP errors.
    "SEND_MAX_RETRIES": env_int("NOTIFICATION_SEND_MAX_RETRIES", 5),
    "SEND_RETRY_BACKOFF_SECONDS": env_int("NOTIFICATION_SEND_RETRY_BACKOFF_SECONDS", 30),
    "SEND_RETRY_BACKOFF_MAX_SECONDS": env_int("NOTIFICATION_SEND_RETRY_BACKOFF_MAX_SECONDS", 1800),
    # The reminder goes out this long before the showtime starts.
    "REMINDER_BEFORE_MINUTES": env_int("NOTIFICATION_REMINDER_BEFORE_MINUTES", 180),
    # A send that met this service's database down is retried this often (2 s, 4 s, … capped at
    # a minute) before it is left to the stale sweep below.
    "DATABASE_MAX_RETRIES": env_int("NOTIFICATION_DATABASE_MAX_RETRIES", 5),
    "DATABASE_RETRY_BACKOFF_SECONDS": env_int("NOTIFICATION_DATABASE_RETRY_BACKOFF_SECONDS", 2),
    # A pending notification with a recipient but untouched this long is enqueued again (lost task).
    "STALE_PENDING_MINUTES": env_int("NOTIFICATION_STALE_PENDING_MINUTES", 15),
}

CELERY_BEAT_SCHEDULE = {
    **CELERY_BEAT_SCHEDULE,  # noqa: F821 (from build_settings)
    "notification.send_reminders": {
        "task": "notification.notifications.send_reminders",
        "schedule": 300.0,
    },
    "notification.resend_stale": {
        "task": "notification.notifications.resend_stale",
        "schedule": 300.0,
    },
}
