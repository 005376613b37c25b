"""Where the embedded default keeps its files (SQLite databases, the file broker, keys, mail)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def var_dir() -> Path:
    """``$VAR_DIR`` or ``<repo>/var``; created on first use."""
    path = Path(os.environ.get("VAR_DIR") or REPO_ROOT / "var")
    path.mkdir(parents=True, exist_ok=True)
    return path
