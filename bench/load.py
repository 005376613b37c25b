"""Open-loop HTTP load: requests leave at fixed intervals whatever the server does.

A closed loop (N clients, each waiting for its answer before sending the next) slows down with the
server and hides queueing ("coordinated omission"). Here request ``i`` is *scheduled* at
``t0 + i / rate`` and its latency is measured from that scheduled moment, so time spent waiting
for a free connection, in the gateway's or gunicorn's queue, or behind a slow client loop counts.

The client is a minimal HTTP/1.1 keep-alive client on asyncio streams (no library overhead worth
measuring): one event loop, a pool of up to ``max_connections`` connections to one address.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from dataclasses import dataclass, field


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    tag: object = None  # anything the caller wants back with the result (a booking's plan)


@dataclass
class Result:
    request: Request
    scheduled: float  # time.time() the request was due
    latency: float | None = None  # seconds from `scheduled` to the last byte of the answer
    status: int | None = None
    error: str | None = None
    body: bytes = b""

    def json(self):
        return json.loads(self.body)


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class Client:
    def __init__(self, host: str, port: int, *, max_connections: int = 256, timeout: float = 15.0):
        self.host = host
        self.port = port
        self.timeout = timeout
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(max_connections)

    async def request(self, request: Request) -> tuple[int, bytes]:
        async with self._slots:
            connection = self._idle.pop() if self._idle else None
            fresh = connection is None
            try:
                if connection is None:
                    connection = _Connection(*await asyncio.open_connection(self.host, self.port))
                status, body, keep = await asyncio.wait_for(self._exchange(connection, request), self.timeout)
            except (ConnectionError, asyncio.IncompleteReadError) as error:
                if connection is not None:
                    connection.close()
                if fresh:
                    raise
                # A kept-alive connection the server had closed: one retry on a new connection.
                connection = _Connection(*await asyncio.open_connection(self.host, self.port))
                try:
                    status, body, keep = await asyncio.wait_for(self._exchange(connection, request), self.timeout)
                except BaseException:
                    connection.close()
                    raise error from None
            except BaseException:
                if connection is not None:
                    connection.close()
                raise
            if keep:
                self._idle.append(connection)
            else:
                connection.close()
            return status, body

    async def _exchange(self, connection: _Connection, request: Request) -> tuple[int, bytes, bool]:
        body = request.body or b""
        headers = {"Host": f"{self.host}:{self.port}", "Connection": "keep-alive", **request.headers}
        if request.body is not None:
            headers.setdefault("Content-Type", "application/json")
            headers["Content-Length"] = str(len(body))
        head = f"{request.method} {request.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        connection.writer.write(head.encode("latin-1") + b"\r\n" + body)
        await connection.writer.drain()
        raw = await connection.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        response_headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                response_headers[name.strip().lower()] = value.strip()
        if response_headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await connection.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await connection.reader.readuntil(b"\r\n")
                    break
                chunks.append(await connection.reader.readexactly(size))
                await connection.reader.readexactly(2)
            payload = b"".join(chunks)
        else:
            payload = await connection.reader.readexactly(int(response_headers.get("content-length", 0)))
        keep = response_headers.get("connection", "").lower() != "close"
        return status, payload, keep

    def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()


async def _timed(client: Client, request: Request, scheduled: float, keep_body: bool) -> Result:
    result = Result(request=request, scheduled=scheduled)
    try:
        result.status, body = await client.request(request)
        if keep_body:
            result.body = body
    except TimeoutError:
        result.error = "timeout"
    except (OSError, asyncio.IncompleteReadError, ValueError) as error:
        result.error = type(error).__name__
    result.latency = time.time() - scheduled
    return result


async def open_loop(
    client: Client,
    requests: list[Request],
    *,
    rate: float,
    max_seconds: float,
    keep_body: bool = False,
    drain_seconds: float = 20.0,
) -> tuple[list[Result], dict]:
    """Send ``requests`` at ``rate`` per second for at most ``max_seconds``; wait for the answers.

    Requests whose slot falls after ``max_seconds`` are not sent (``not_sent`` in the summary);
    answers still missing ``drain_seconds`` after the last send count as timeouts.
    """
    loop_start = time.time() + 0.05
    tasks: list[asyncio.Task] = []
    not_sent = 0
    for index, request in enumerate(requests):
        scheduled = loop_start + index / rate
        if scheduled - loop_start > max_seconds:
            not_sent = len(requests) - index
            break
        delay = scheduled - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_timed(client, request, scheduled, keep_body)))
    done, pending = await asyncio.wait(tasks, timeout=drain_seconds) if tasks else (set(), set())
    for task in pending:
        task.cancel()
    results = [task.result() for task in tasks if task in done]
    results += [Result(request=requests[index], scheduled=math.nan, error="cut off")
                for index, task in enumerate(tasks) if task in pending]  # fmt: skip
    end = max((r.scheduled + r.latency for r in results if r.latency is not None), default=loop_start)
    window = min(max_seconds, len(requests) / rate)
    meta = {"offered_rate": rate, "sent": len(tasks), "not_sent": not_sent, "start": loop_start, "end": end}
    return results, {**meta, "window": window}


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def summarise(results: list[Result], meta: dict, *, ok=(200, 201)) -> dict:
    """Throughput of successful answers, latency percentiles (ms) over them, and the errors.

    ``throughput`` counts the successful answers that arrived within the sending window, per
    second of it: under overload that is the capacity, not the offered rate.
    """
    good = sorted(r.latency for r in results if r.status in ok)
    window_end = meta["start"] + meta["window"]
    in_window = sum(1 for r in results if r.status in ok and r.scheduled + r.latency <= window_end)
    errors: dict[str, int] = {}
    for r in results:
        if r.status not in ok:
            key = r.error or str(r.status)
            errors[key] = errors.get(key, 0) + 1
    elapsed = max(meta["end"] - meta["start"], 1e-9)
    every = sorted(r.latency for r in results if r.latency is not None)

    def ms(value):
        return None if value is None else round(value * 1000, 1)

    return {
        "offered_rate": meta["offered_rate"],
        "sent": meta["sent"],
        "not_sent": meta["not_sent"],
        "ok": len(good),
        "errors": errors,
        "window_s": round(meta["window"], 2),
        "elapsed_s": round(elapsed, 2),
        "throughput": round(in_window / meta["window"], 1),
        "completion_rate": round(len(good) / elapsed, 1),
        "p50_ms": ms(percentile(good, 0.50)),
        "p95_ms": ms(percentile(good, 0.95)),
        "p99_ms": ms(percentile(good, 0.99)),
        "max_ms": ms(every[-1] if every else None),
    }
