"""TensorFlow is an optional extra: nothing but build/convert/parity may import it."""

from __future__ import annotations

import subprocess
import sys

from pathlib import Path
from tests.support.sim import require_sim

REPO_ROOT = Path(__file__).resolve().parents[2]

LIGHT_MODULES = [
    "fleet.models",
    "fleet.models.inspect",
    "fleet.models.arena",
    "fleet.models.fit",
    "fleet.models.manifest",
    "fleet.models.inputs",
    "fleet.models.tflm_runner",
    "fleet.models.bundled",
]


def test_toolkit_imports_without_tensorflow() -> None:
    require_sim()  # the runner and inputs modules are numpy's
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in LIGHT_MODULES)
        + "heavy = [m for m in ('tensorflow', 'keras', 'ai_edge_litert') if m in sys.modules]\n"
        + "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT)
