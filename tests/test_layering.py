"""Layering rules from docs/architecture.md, checked on the real import graph."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Meter protocols, the activity model, the emulators' device sides and the energy reducer.
SANS_IO_METERS = {f"fleet/meters/{m}.py" for m in (
    "ppk2_protocol", "lpm01a_protocol", "activity", "energy", "ppk2_emulator", "lpm01a_emulator", "chunk")}
CORE = ["fleet.protocol", "fleet.config", "fleet.errors", "fleet.profiles", "fleet.transport", "fleet.client"]


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


@pytest.mark.parametrize("path", sorted((ROOT / "fleet").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_respects_layering(path):
    rel = path.relative_to(ROOT).as_posix()
    imports = _imports(path)
    if not rel.startswith("fleet/tui/"):
        assert not any(n.split(".")[0] == "textual" for n in imports), "only fleet/tui may import textual"
    if rel.startswith(("fleet/protocol/", "fleet/upload_codec/")) or rel in SANS_IO_METERS:
        banned = {"asyncio", "serial", "socket", "threading", "os", "fleet.transport", "fleet.client"}
        assert not imports & banned, f"{rel} is sans-I/O; found {imports & banned}"
