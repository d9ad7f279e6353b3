"""The CLI as a user runs it: a subprocess, its output and exit code."""

import subprocess
import sys

import pytest

from fleet import __version__
from tests.closed_stdout import run_with_closed_stdout
from tests.support.sim import require_sim


def fleet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fleet", *args], capture_output=True, text=True, timeout=60)


def test_help_lists_the_program():
    out = fleet("--help")
    assert out.returncode == 0
    assert "usage: fleet" in out.stdout


def test_version():
    out = fleet("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"fleet {__version__}"


def test_unknown_command_is_a_usage_error():
    out = fleet("frobnicate")
    assert out.returncode == 2
    assert "invalid choice" in out.stderr


@pytest.mark.parametrize("args", [["model", "inspect", "SINE"], ["model", "inspect", "SINE", "--json"]])
def test_a_closed_stdout_ends_the_command_quietly(args):
    require_sim()  # inspect measures the arena with TFLite Micro
    # `fleet scan | head -2`: the reader is gone before fleet writes. Like other Unix tools,
    # fleet stops without a traceback, with the shell's code for SIGPIPE (128 + 13).
    from fleet.models.bundled import bundled_model

    args = [str(bundled_model("sine")) if a == "SINE" else a for a in args]
    # The reader is gone long before the child has started up and written anything.
    assert run_with_closed_stdout(args) == (141, "")
