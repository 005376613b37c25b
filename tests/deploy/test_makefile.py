"""The Makefile's own set-up: `make up` and `make test` on a clone that already has a .venv."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.deploy.conftest import REPO_ROOT, require_tool


@pytest.fixture
def clone_with_a_broken_venv(tmp_path):
    """The Makefile with empty requirements, and a .venv whose interpreter no longer runs."""
    shutil.copy(REPO_ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "requirements").mkdir()
    for name in ("base.txt", "test.txt"):
        (tmp_path / "requirements" / name).write_text("")
    broken = tmp_path / ".venv" / "bin" / "python"
    broken.parent.mkdir(parents=True)
    broken.write_text("#!/bin/sh\nexit 1\n")  # what a removed or too old Python amounts to here
    broken.chmod(0o755)
    return tmp_path


@pytest.mark.parametrize("stamped", [False, True], ids=["half-installed", "installed-and-up-to-date"])
def test_make_replaces_a_venv_whose_python_no_longer_runs(clone_with_a_broken_venv, stamped):
    # given a .venv that cannot run, its install stamp newer than the requirements or missing
    make = require_tool("make")
    if stamped:
        (clone_with_a_broken_venv / ".venv" / ".installed").touch()

    # when make sets up
    result = subprocess.run(
        [make, "venv", f"PYTHON={sys.executable}"],
        cwd=clone_with_a_broken_venv,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    # then the .venv is made again, on a Python that runs, and installed
    assert result.returncode == 0, result.stdout + result.stderr
    python = clone_with_a_broken_venv / ".venv" / "bin" / "python"
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version_info >= (3, 11))"], capture_output=True, text=True, check=True
    )
    assert version.stdout.strip() == "True"
    assert (clone_with_a_broken_venv / ".venv" / ".installed").exists()
