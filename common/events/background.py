"""The after-commit send, off the request's thread.

``publish`` hands each committed row to one relay thread per process, so a request answers as
soon as its transaction commits instead of waiting for the broker's publisher confirm. Nothing
is lost if the process ends with rows still queued here: they are pending in the outbox and the
beat sweep sends them within ``SWEEP_INTERVAL``.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time

from . import relay
from .conf import events_settings
from .connections import recycle_connection

logger = logging.getLogger(__name__)


class _RelayThread:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: queue.Queue[int] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def submit(self, position: int) -> None:
        with self._lock:
            # A forked child (gunicorn, Celery prefork) inherits no running thread: start its own.
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._queue = queue.Queue()
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, args=(self._queue,), name="outbox-relay", daemon=True)
                self._thread.start()
            self._queue.put(position)

    def drain(self, timeout: float) -> None:
        """Give queued rows a moment to leave before the process exits (a short command, say)."""
        deadline = time.monotonic() + timeout
        while self._pid == os.getpid() and self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.05)

    @staticmethod
    def _run(positions: queue.Queue[int]) -> None:
        while True:
            # Whatever queued up while the last batch was sent goes in one claim: under load the
            # cost of a claim (a transaction, a broker round trip per row) is shared by many rows.
            batch = [positions.get()]
            while len(batch) < events_settings()["RELAY_BATCH_SIZE"]:
                try:
                    batch.append(positions.get_nowait())
                except queue.Empty:
                    break
            recycle_connection()
            try:
                relay.relay_after_commit(batch)  # never raises
            finally:
                recycle_connection()
                for _ in batch:
                    positions.task_done()


_relay_thread = _RelayThread()
# Without this a one-off process (``manage.py shell -c``, a management command) would exit with its
# events still queued and leave them to the next sweep; with it they leave at once.
atexit.register(_relay_thread.drain, 5.0)


def drain(timeout: float) -> None:
    """Wait up to ``timeout`` seconds until every row handed to the relay thread was sent."""
    _relay_thread.drain(timeout)


def relay_soon(position: int) -> None:
    """Send outbox row ``position`` now that its transaction committed (on_commit callback)."""
    if events_settings()["RELAY_IN_BACKGROUND"]:
        _relay_thread.submit(position)
    else:
        relay.relay_after_commit([position])
