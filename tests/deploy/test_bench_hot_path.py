"""``bench.hot_path`` runs its POSTs on a throwaway database of its own and leaves nothing behind."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg

from common.testing.infrastructure import require_postgres_admin, require_rabbitmq, skip_or_fail

REPOSITORY = Path(__file__).resolve().parents[2]
FIGURE = re.compile(
    r"booking POST, request thread CPU: median (?P<median>[\d.]+) ms, least (?P<least>[\d.]+) ms "
    r"\(rounds (?P<rounds>[\d., ]+)\), (?P<statements>[\d.]+) statements a POST, 140 seats in the plan"
)


def test_it_prints_the_cpu_of_a_post_and_drops_its_database():
    admin_url = require_postgres_admin()
    require_rabbitmq()
    if not os.environ.get("BOOKING_DATABASE_URL", "").startswith("postgres"):
        skip_or_fail("BOOKING_DATABASE_URL does not point at PostgreSQL")

    # when a short run measures
    result = subprocess.run(
        [sys.executable, "-m", "bench.hot_path", "--posts", "20", "--rounds", "2"],
        cwd=REPOSITORY,
        env={name: value for name, value in os.environ.items() if name != "DJANGO_SETTINGS_MODULE"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    # then it printed one figure per round and the statements it counted
    assert result.returncode == 0, result.stderr[-3000:]
    figures = [FIGURE.fullmatch(line) for line in result.stdout.splitlines() if line.startswith("booking POST")]
    assert len(figures) == 1
    assert figures[0] is not None, result.stdout[-1000:]
    rounds = [float(value) for value in figures[0]["rounds"].split(", ")]
    assert len(rounds) == 2
    assert all(value > 0 for value in rounds)
    assert float(figures[0]["least"]) == min(rounds)
    assert float(figures[0]["statements"]) >= 4  # the replica read and the hold's inserts at least

    # and its database is gone again
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        left = admin.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", ["%\\_hot\\_path"]).fetchall()
    assert left == []
