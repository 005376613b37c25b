"""``manage_all.py test``: every test suite, one pytest process per Django project.

pytest-django holds one settings module per process, so each service runs under its own test
settings; ``common`` has a small test project of its own, and ``tests/`` (cross-service,
deployment) needs none. The run ends with one line: ``N passed, N failed``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass

from common.config.services import SERVICES

from . import system

_COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)")


@dataclass
class Suite:
    name: str
    paths: list[str]
    settings: str | None


def suites() -> list[Suite]:
    found = [Suite("common", ["common"], "common.tests.settings")]
    found += [Suite(s.name, [s.package], f"{s.package}.settings.test") for s in SERVICES.values()]
    found.append(Suite("system", ["tests"], None))
    return found


def add_arguments(parser) -> None:
    parser.add_argument("--only", help="comma-separated suites: common, the services, system")
    parser.add_argument("pytest_args", nargs="*", help="passed to every pytest run (after --)")


def run(args) -> int:
    chosen = suites()
    if args.only:
        names = {name.strip() for name in args.only.split(",") if name.strip()}
        # A misspelt suite ran nothing and ended "0 passed, 0 failed", exit 0: the line CI trusts.
        if unknown := sorted(names - {suite.name for suite in chosen}):
            known = ", ".join(suite.name for suite in chosen)
            raise SystemExit(f"unknown suite(s): {', '.join(unknown)}; choose from {known}")
        chosen = [suite for suite in chosen if suite.name in names]
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    worst = 0
    for suite in chosen:
        command = [system.PYTHON, "-m", "pytest", *suite.paths, *args.pytest_args]
        if suite.settings:
            command += ["--ds", suite.settings]
        else:
            # Without pytest-django the shared ini's django_find_project is an option nobody reads.
            command += ["-p", "no:django", "-W", "ignore:Unknown config option:pytest.PytestConfigWarning"]
        print(f"\n=== {suite.name}: {' '.join(command[1:])}", flush=True)
        started = time.monotonic()
        counts, code = _run_pytest(command)
        print(f"=== {suite.name}: {_summary(counts)} in {time.monotonic() - started:.0f}s (exit {code})", flush=True)
        for key in totals:
            totals[key] += counts.get(key, 0)
        if code not in (0, 5):  # 5: that suite has no tests yet
            worst = max(worst, code)
            if not counts.get("failed"):
                totals["failed"] += 1  # a crash or collection error counts as a failure
    line = f"{totals['passed']} passed, {totals['failed']} failed"
    if totals["skipped"]:
        line += f", {totals['skipped']} skipped"
    print(f"\n{line}", flush=True)
    return 1 if worst or totals["failed"] else 0


def _run_pytest(command: list[str]) -> tuple[dict[str, int], int]:
    process = subprocess.Popen(
        command, cwd=system.REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    last_summary = ""
    for line in process.stdout:
        sys.stdout.write(line)
        if line.startswith("=") and (" passed" in line or " failed" in line or " error" in line or " skipped" in line):
            last_summary = line
    code = process.wait()
    counts: dict[str, int] = {}
    for number, kind in _COUNT.findall(last_summary):
        key = {"error": "failed", "errors": "failed", "xpassed": "passed", "xfailed": "skipped"}.get(kind, kind)
        counts[key] = counts.get(key, 0) + int(number)
    return counts, code


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{number} {kind}" for kind, number in counts.items()) or "no tests"
