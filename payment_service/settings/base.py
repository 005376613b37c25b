"""Settings of the payment service; shared defaults come from ``common.config``."""

from common.config.settings import build_settings

globals().update(build_settings("payment", apps=["payment_service.payments"]))

from common.config.celery import worker_concurrency  # noqa: E402
from common.config.env import env_float, env_int, env_list, env_str  # noqa: E402

# A charge task mostly waits for the provider (a real one takes hundreds of milliseconds), so more
# of them run at once than in the other services. With the simulated provider, which answers at
# once, two would do on two cores and six buy nothing (docs/performance.md).
CELERY_WORKER_CONCURRENCY = worker_concurrency("payment", default=4)

# The provider (a dotted class path) and the simulated provider's fault knobs.
PAYMENT_PROVIDER = env_str("PAYMENT_PROVIDER", "payment_service.payments.providers.simulated.SimulatedProvider")
PAYMENT_PROVIDER_LATENCY_MS = env_int("PAYMENT_PROVIDER_LATENCY_MS", 0)
PAYMENT_PROVIDER_TRANSIENT_ERROR_RATE = min(max(env_float("PAYMENT_PROVIDER_TRANSIENT_ERROR_RATE", 0.0), 0.0), 1.0)
_seed = env_str("PAYMENT_PROVIDER_RANDOM_SEED", "")
PAYMENT_PROVIDER_RANDOM_SEED = int(_seed) if _seed else None

# Transient provider errors: retried this many times with exponential backoff, then the charge fails.
PAYMENT_PROVIDER_MAX_RETRIES = env_int("PAYMENT_PROVIDER_MAX_RETRIES", 5)
PAYMENT_RETRY_BACKOFF_SECONDS = env_int("PAYMENT_RETRY_BACKOFF_SECONDS", 2)
PAYMENT_RETRY_BACKOFF_MAX_SECONDS = env_int("PAYMENT_RETRY_BACKOFF_MAX_SECONDS", 30)
# Our own database unavailable during a charge or refund: retried this many times with the same
# backoff (2.5 minutes in all by default), then left pending for the sweeper.
PAYMENT_DATABASE_MAX_RETRIES = env_int("PAYMENT_DATABASE_MAX_RETRIES", 8)
# Charges pending (and refunds requested) untouched for this long are enqueued again by the sweeper,
# which runs every PAYMENT_SWEEP_INTERVAL_SECONDS. A charge whose task was lost is charged within
# their sum: keep it well under the booking service's hold (BOOKING_HOLD_SECONDS), or the hold runs
# out first and the late charge is refunded.
PAYMENT_STUCK_AFTER_SECONDS = env_int("PAYMENT_STUCK_AFTER_SECONDS", 120)
PAYMENT_SWEEP_INTERVAL_SECONDS = env_int("PAYMENT_SWEEP_INTERVAL_SECONDS", 60)

# Provider webhooks: every listed secret is accepted (rotation), signatures older than the tolerance are refused.
DEV_WEBHOOK_SECRET = "whsec_dev_only_not_secret"  # noqa: S105 - production.py refuses it
PAYMENT_WEBHOOK_SECRETS = env_list("PAYMENT_WEBHOOK_SECRETS", [DEV_WEBHOOK_SECRET])
PAYMENT_WEBHOOK_TOLERANCE_SECONDS = env_int("PAYMENT_WEBHOOK_TOLERANCE_SECONDS", 300)

CELERY_BEAT_SCHEDULE = {
    **CELERY_BEAT_SCHEDULE,  # noqa: F821 - from build_settings above
    "payment.payments.sweep_stuck": {
        "task": "payment.payments.sweep_stuck",
        "schedule": float(PAYMENT_SWEEP_INTERVAL_SECONDS),
    },
}
