"""The bench's own log lines, with the time of day (UTC)."""

from __future__ import annotations

import datetime as dt


def log(message: str) -> None:
    print(f"[bench {dt.datetime.now(dt.UTC):%H:%M:%S}] {message}", flush=True)
