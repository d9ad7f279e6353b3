"""Tests that run virtual boards or models need the simulator extra (TFLite Micro and numpy).

Where it is absent they skip, saying how to install it, instead of failing on import:
a folder whose every test needs it calls `require_sim()` at the top of its conftest; a
test module calls it before its first `fleet.sim` (or model runner) import."""

from __future__ import annotations

import pytest

REASON = "needs the simulator extra: pip install -e '.[sim]' (TFLite Micro and numpy)"


def require_sim() -> None:
    """Skip the calling module (or folder, from a conftest) where the simulator extra is absent."""
    pytest.importorskip("numpy", reason=REASON)
    pytest.importorskip("tflite_micro", reason=REASON)


def require_numpy() -> None:
    """Skip the calling module where numpy is absent (meter tests: fleet[meter] or fleet[sim] bring it)."""
    pytest.importorskip("numpy", reason="needs numpy: pip install -e '.[meter]' (or '.[sim]')")
