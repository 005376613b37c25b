"""Asking the running services whether they are ready."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from common.config.services import Service


def readiness(
    service: Service, host: str = "127.0.0.1", timeout: float = 3.0, port_offset: int = 0
) -> tuple[int | None, dict]:
    """``(status_code, body)`` of ``/health/ready/``; ``(None, {"error": …})`` when nothing answers."""
    url = f"http://{host}:{service.port + port_offset}/health/ready/"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.load(error)
        except ValueError:
            return error.code, {}
    except (OSError, ValueError) as error:
        return None, {"error": str(error)}


def status_table(services: list[Service]) -> tuple[str, bool]:
    rows = [("service", "port", "ready", "database", "broker", "cache")]
    all_ready = True
    for service in services:
        code, body = readiness(service)
        checks = body.get("checks", {})
        ready = code == 200
        all_ready &= ready
        rows.append(
            (
                service.name,
                str(service.port),
                "yes" if ready else ("down" if code is None else f"no ({code})"),
                *(checks.get(name, "-") for name in ("database", "broker", "cache")),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines), all_ready
