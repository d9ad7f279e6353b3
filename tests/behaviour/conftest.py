"""The `board` fixture: each behaviour test runs on a virtual board, the POSIX firmware
with TFLM, and the firmware with TFLM on an emulated Cortex-M4 (`system`: needs QEMU and
the arm-none-eabi toolchain)."""

from __future__ import annotations

import pytest

from tests.support.sim import require_sim

require_sim()  # the virtual board and the TFLM host reference need the simulator extra

from tests.behaviour.boards import KINDS  # noqa: E402


@pytest.fixture(params=["virtual", "posix", pytest.param("qemu-m4", marks=pytest.mark.system)])
def board(request, tmp_path):
    b = KINDS[request.param](tmp_path)
    yield b
    b.close()
