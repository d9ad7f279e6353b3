"""The CLI as a user runs it: a subprocess, its output and exit code."""

import subprocess
import sys

from fleet import __version__


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
