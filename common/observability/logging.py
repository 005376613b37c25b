"""Log records that carry the service name, request id and correlation id."""

from __future__ import annotations

import logging

from .context import correlation_id_var, request_id_var


class ContextFilter(logging.Filter):
    def __init__(self, service: str = "", name: str = ""):
        super().__init__(name)
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.request_id = request_id_var.get() or "-"
        record.correlation_id = correlation_id_var.get() or "-"
        return True
