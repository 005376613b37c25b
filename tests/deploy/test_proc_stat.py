"""/proc/<pid>/stat read once for the fault tests and the bench: a name with ")" must not shift fields."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.stack import cpu_ticks, descendants
from common.testing.processes import process_state, stat_fields

BUSY_THEN_SLEEP = """
import time
end = time.process_time() + 0.3
while time.process_time() < end:
    pass
print("busy", flush=True)
time.sleep(60)
"""


@pytest.fixture
def oddly_named_child(tmp_path):
    # given a child whose command name (what /proc shows in parentheses) holds spaces and ")"
    program = tmp_path / "a b) c"
    os.symlink(sys.executable, program)
    child = subprocess.Popen([str(program), "-c", BUSY_THEN_SLEEP], stdout=subprocess.PIPE, text=True)
    yield child
    child.kill()
    child.wait()


def test_a_command_name_with_spaces_and_a_parenthesis_does_not_shift_the_fields(oddly_named_child):
    with open(f"/proc/{oddly_named_child.pid}/stat") as stat:
        assert "a b) c" in stat.read()  # the case this guards

    # then the parent, the state and the CPU are read from their own fields
    assert int(stat_fields(oddly_named_child.pid)[1]) == os.getpid()
    assert oddly_named_child.pid in descendants(os.getpid())
    assert process_state(oddly_named_child.pid) in ("R", "S")
    assert oddly_named_child.stdout.readline() == "busy\n"
    assert cpu_ticks(oddly_named_child.pid) >= 0.2 * os.sysconf("SC_CLK_TCK")


def test_a_process_that_is_gone_has_no_fields():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()

    assert (stat_fields(child.pid), process_state(child.pid), cpu_ticks(child.pid)) == ([], "", 0)
