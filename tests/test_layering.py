"""Layering rules from docs/architecture.md, checked on the real import graph.

The layers and who may import Textual, TensorFlow and the simulator are import-linter
contracts in pyproject.toml ([tool.importlinter]); `lint-imports` checks them here. What a
contract cannot say (no I/O in the sans-I/O modules, nothing heavy loaded at run time) is
checked below by hand.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Meter protocols, the activity model, the emulators' device sides and the energy reducer.
SANS_IO_METERS = {
    *(f"fleet/meters/{m}.py" for m in ("ppk2_protocol", "lpm01a_protocol", "energy", "chunk", "trace")),
    *(f"fleet/sim/meters/{m}.py" for m in ("activity", "ppk2_emulator", "lpm01a_emulator")),
}
CORE = ["fleet.protocol", "fleet.config", "fleet.errors", "fleet.profiles", "fleet.transport", "fleet.client"]


def test_import_contracts_hold():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    assert lint_imports.exists(), "import-linter is missing: pip install -e '.[dev]'"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this tree's fleet, not another checkout's
    out = subprocess.run([str(lint_imports), "--no-cache"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert out.returncode == 0, out.stdout + out.stderr


def test_core_imports_neither_textual_nor_tensorflow():
    code = (
        "import importlib, importlib.util, sys\n"
        f"for name in {CORE!r}:\n"
        "    if importlib.util.find_spec(name) is not None:\n"
        "        importlib.import_module(name)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'tensorflow', 'keras'))\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == ""


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


SANS_IO = sorted([*(ROOT / "fleet" / "protocol").rglob("*.py"), *(ROOT / "fleet" / "upload_codec").glob("*.py"),
                  *(ROOT / m for m in SANS_IO_METERS)])  # fmt: skip


@pytest.mark.parametrize("path", SANS_IO, ids=lambda p: str(p.relative_to(ROOT)))
def test_sans_io_module_does_no_io(path):
    rel = path.relative_to(ROOT).as_posix()
    banned = {"asyncio", "serial", "socket", "threading", "os", "fleet.transport", "fleet.client"}
    found = _imports(path) & banned
    assert not found, f"{rel} is sans-I/O; found {found}"
