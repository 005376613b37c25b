"""Settings of the payment service; shared defaults come from ``common.config``."""

from common.config.settings import build_settings

globals().update(build_settings("payment", apps=["payment_service.payments"]))
