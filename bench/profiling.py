"""``--profile``: py-spy on the stack's processes under load, and where their samples were."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def profile(pids: list[int], seconds: int, run_dir: Path, name: str, *, gil: bool = False) -> list[Path]:
    """py-spy on the given processes while load runs (``--profile``); with ``gil``, only samples that
    hold the GIL (CPU, not waiting on the database or the broker)."""
    spy = py_spy()
    outputs = []
    for pid in pids:
        output = run_dir / f"profile-{name}-{pid}.txt"
        subprocess.Popen(
            [spy, "record", "-p", str(pid), "-d", str(seconds), "-r", "200", "-f", "raw", "-o", str(output),
             "--nonblocking", *(["--gil"] if gil else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        outputs.append(output)
    return outputs


def py_spy() -> str | None:
    return shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))


# Frames worth ranking by inclusive share: our code, and the libraries it spends its time in.
HOT_FRAME_PARTS = ("_service/", "common/", "psycopg/connection.py", "amqp/", "jwt/", "kombu/", "celery/app/trace.py")

# The processes a booking's saga runs in after its POST (``--profile`` samples them in the saga phase).
SAGA_ROLES = ("booking web", "booking worker", "payment worker", "notification worker")


def hot_frames(outputs: list[Path], top: int = 12, marker: str | None = "handle_request") -> dict:
    """Where the sampled threads were: our code and the libraries it waits in (inclusive share of
    samples), and the innermost frames (self share). Only stacks through ``marker`` count (for web
    workers, requests: not the master or the relay thread); ``None`` counts every busy sample."""
    inclusive: dict[str, int] = {}
    innermost: dict[str, int] = {}
    total = 0
    for output in outputs:
        if not output.exists():
            continue
        for line in output.read_text().splitlines():
            stack, _, samples = line.rpartition(" ")
            if not samples.isdigit() or (marker and marker not in stack):
                continue  # idle threads and the gunicorn master
            count = int(samples)
            total += count
            frames = stack.split(";")
            innermost[frames[-1]] = innermost.get(frames[-1], 0) + count
            for frame in set(frames):
                if any(part in frame for part in HOT_FRAME_PARTS):
                    inclusive[frame] = inclusive.get(frame, 0) + count

    def ranked(counts):
        items = sorted(counts.items(), key=lambda item: -item[1])[:top]
        return [(frame, round(100 * n / max(total, 1), 1)) for frame, n in items]

    return {"samples": total, "inclusive": ranked(inclusive), "innermost": ranked(innermost)}
