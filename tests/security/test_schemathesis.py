"""Schemathesis against each service's OpenAPI schema, through the gateway, with a valid token.

Bounded (10 examples per operation, deterministic generation) so it runs in seconds per service.
Checked: no 5xx, and every response is documented: its status code, its content type, its body
and its headers. Not checked: that invalid input is refused (negative_data_rejection), since DRF
forgives some on purpose (an unknown page_size is the default page size, a number is accepted as
a string).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from e2e.support import GATEWAY, REPO, login, register

pytestmark = pytest.mark.slow

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)


def schemathesis(prefix: str, token: str, report: Path) -> subprocess.CompletedProcess:
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
    return subprocess.run(
        [
            st, "run", f"{GATEWAY}/api/{prefix}/schema/?format=json",
            "--url", GATEWAY,
            "-H", f"Authorization: Bearer {token}",
            "--max-examples", "10",
            "--checks", CHECKS,
            "--generation-deterministic",
            "--request-timeout", "10",
            "--no-color",
        ],
        capture_output=True, text=True, timeout=600, check=False, cwd=report.parent,
    )  # fmt: skip


def failures(output: str) -> str:
    """The run's failure section (what failed, and the curl to reproduce it)."""
    start = output.find("= FAILURES =")
    return output[start if start >= 0 else -4000 :][:12000]


@pytest.mark.parametrize("prefix", ["auth", "movies", "bookings", "payments", "notifications"])
def test_schema_conformance_with_a_customer_token(system, prefix, tmp_path):
    # given a signed-in customer
    customer = register("fuzz")

    # when schemathesis calls every operation with generated data
    result = schemathesis(prefix, customer.token, tmp_path / "report")

    # then no answer was a 5xx and every answer matched the documented schema
    (REPO / "var" / "e2e").mkdir(parents=True, exist_ok=True)
    (REPO / "var" / "e2e" / f"schemathesis-{prefix}.txt").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, failures(result.stdout + result.stderr)


def test_schema_conformance_of_the_catalogue_with_a_staff_token(system):
    # given a staff member, who can reach the catalogue's write operations
    staff = register("fuzzstaff")
    system.make_staff(staff.email)
    token = login(staff.email)

    # when schemathesis calls them with generated data
    result = schemathesis("movies", token, Path(system.log_dir) / "report")

    # then no answer was a 5xx and every answer matched the documented schema
    (REPO / "var" / "e2e" / "schemathesis-movies-staff.txt").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, failures(result.stdout + result.stderr)
