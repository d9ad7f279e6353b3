"""The commands a base install offers (no [sim], [tf], [bench], [mqtt] or [meter] extra) run
without the extras' packages: each in a child process whose `sitecustomize` makes every
extra's import fail, as on a machine where they were never installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import REPO, fleet

# The top-level packages of the optional extras (pyproject.toml).
EXTRAS = ("numpy", "tflite_micro", "tensorflow", "keras", "ai_edge_litert", "matplotlib", "paho", "ppk2_api")
SINE = REPO / "fleet" / "models" / "examples" / "sine.tflite"


@pytest.fixture
def base_env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """`env` with the extras unimportable, in this process's children and theirs (the arena probe)."""
    site = tmp_path / "base-install"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import sys\n"
        f"for name in {EXTRAS!r}:\n"
        "    sys.modules[name] = None  # `import name` raises ImportError\n"
    )
    return env | {"PYTHONPATH": os.pathsep.join([str(site), env["PYTHONPATH"]])}


def test_the_extras_really_are_missing(base_env, tmp_path):
    for name in EXTRAS:
        probe = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True,
                               env=base_env, cwd=tmp_path, check=False)  # fmt: skip
        assert probe.returncode != 0 and "ModuleNotFoundError" in probe.stderr, name


def test_model_inspect_reports_the_model_and_why_there_is_no_arena(base_env, tmp_path):
    result = fleet(base_env, tmp_path, "model", "inspect", str(SINE))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{SINE}: 3568 B, sha256 ")
    assert "operators: FULLY_CONNECTED x3" in lines
    assert "MACs per inference: 288" in lines
    assert any(line.startswith("tensor arena: not measured: ") and "tflite-micro" in line for line in lines)
    assert "manifest: sine 1.0.0, labels: (none)" in lines


def test_model_inspect_json_on_the_base_install(base_env, tmp_path):
    result = fleet(base_env, tmp_path, "model", "inspect", "--json", str(SINE))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["size"], report["ops"], report["macs"]) == (3568, {"FULLY_CONNECTED": 3}, 288)
    assert report["arena_bytes"] is None and "tflite-micro" in report["arena_error"]
    assert report["fits"] == []


def test_a_fit_that_cannot_be_checked_is_not_a_pass(base_env, tmp_path):
    result = fleet(base_env, tmp_path, "model", "inspect", "--profile", "nano33ble", str(SINE))
    assert result.returncode == 1
    assert "tensor arena: not measured: " in result.stdout
    assert f"fleet: cannot tell whether {SINE} fits nano33ble: the tensor arena was not measured" in result.stderr


@pytest.mark.parametrize(("args", "expected"), [
    (("--help",), "usage: fleet"),
    (("model", "--help"), "inspect"),
    (("deploy", "--help"), "--dry-run"),
    (("scan",), "no boards found"),
])  # fmt: skip
def test_base_commands_run_without_the_extras(base_env, tmp_path, args, expected):
    result = fleet(base_env, tmp_path, *args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert expected in result.stdout
