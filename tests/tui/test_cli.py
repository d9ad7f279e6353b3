"""`fleet tui` / `fleet demo` argument handling, and plain `fleet` choosing the TUI only in a terminal."""

from __future__ import annotations

import subprocess
import sys

from fleet.cli.main import main
from tests.support.sim import require_sim


def test_demo_rejects_bad_arguments_before_starting_anything(capsys):
    require_sim()  # without it, demo stops at the missing extra first
    assert main(["demo", "--boards", "0"]) == 2
    assert "at least 1 board" in capsys.readouterr().err
    assert main(["demo", "--profile", "arduino-uno"]) == 2
    assert "unknown board profile 'arduino-uno'" in capsys.readouterr().err


def test_tui_replay_of_a_missing_file_says_so(tmp_path, capsys):
    assert main(["tui", "--replay", str(tmp_path / "nope.fleetrec")]) == 1
    err = capsys.readouterr().err
    assert "nope.fleetrec: no such recording" in err


def test_plain_fleet_without_a_terminal_prints_help_and_loads_no_textual():
    code = "import sys; from fleet.cli.main import main; rc = main(); print('textual' in sys.modules); sys.exit(rc)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert out.returncode == 0
    assert "usage: fleet" in out.stdout and out.stdout.strip().endswith("False")


def test_demo_without_the_sim_extra_says_what_to_install(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tflite_micro" else real(name, *a))  # fmt: skip
    assert main(["demo"]) == 2
    err = capsys.readouterr().err
    assert "tflite_micro" in err and "pip install 'fleet[sim]'" in err  # (and numpy, where that is absent too)
