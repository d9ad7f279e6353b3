"""The boards the behaviour suite runs against, behind one small interface: a virtual board
(`fleet sim`, TFLM host interpreter), the firmware's POSIX port (TFLM, reference kernels)
and the firmware on an emulated Cortex-M4 (QEMU mps2-an386, TFLM with CMSIS-NN).

`link()` opens a fresh serial session on the board's current port; `power_cycle()` cuts the
power and brings the board back with what it keeps (flash, or the QEMU board's RAM slot
store across a machine reset); the port may change, so links are reopened after it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fleet.errors import FirmwareUnavailable
from fleet.models.arena import measure_arena
from fleet.sim.firmware_boards import QemuMachine, build, target
from tests.support.board_link import BoardLink, tflm_outputs
from tests.support.firmware import PosixBoard as PosixProcessBoard

VIRTUAL_SEED = 3  # `fleet sim --seed 3`: board 0 draws its inputs from seed 3


def virtual_outputs(model: bytes, input_ids) -> dict[int, bytes]:
    """The TFLM host interpreter's output bytes for a virtual board's inputs (its seeded
    sensor loop, fleet/sim/loader.py), per input id."""
    from tflite_micro import runtime

    from fleet.models.inspect import inspect_model
    from fleet.sim.loader import InputLoop

    wanted, loop, inputs = set(input_ids), InputLoop(inspect_model(model), VIRTUAL_SEED), {}
    while len(inputs) < len(wanted):
        k, array = loop.next()
        if k in wanted:
            inputs[k] = array
    interp = runtime.Interpreter.from_bytes(model)
    out = {}
    for k, array in inputs.items():
        interp.set_input(array, 0)
        interp.invoke()
        out[k] = interp.get_output(0).tobytes()
    return out


class Board:
    """A board under test. `expected(model, input_ids)` gives the output bytes it must
    stream for those input ids; `counts_from_boot`: its input ids count inferences since
    boot (the firmware's sequence) rather than restarting with each model."""

    kind: str
    port: str
    expected = staticmethod(tflm_outputs)
    counts_from_boot = True

    def link(self) -> BoardLink:
        return BoardLink.open(self.port)

    def prepare(self, *models: bytes) -> None:
        """Do beforehand, outside any request's deadline, what the board's COMMIT of these
        models would spend CPU on in this host's processes (nothing for firmware)."""

    def power_cycle(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class VirtualBoard(Board):
    """One virtual board run by `fleet sim` with its flash in `state`; a power cycle stops
    the simulator and starts it again on the same flash."""

    kind = "virtual"
    expected = staticmethod(virtual_outputs)
    counts_from_boot = False

    def __init__(self, tmp_path: Path) -> None:
        self.state, self.env = tmp_path / "flash", {**os.environ, "FLEET_SIM_REGISTRY": str(tmp_path / "registry")}
        self._start()

    def _start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fleet", "sim", "--boards", "1", "--profile", "nano33ble", "--seed", str(VIRTUAL_SEED),
             "--baud", "921600", "--state", str(self.state), "--json", "--no-model"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env,
        )  # fmt: skip
        line = self.proc.stdout.readline()
        assert line, f"fleet sim exited: {self.proc.communicate()[1]}"
        self.port = json.loads(line)["port"]

    def prepare(self, *models: bytes) -> None:
        """Its COMMIT measures a new model's tensor arena in child processes (1-2 s of CPU idle,
        5-8 s beside three CPU hogs: the flake's 10 s COMMIT deadline): measured here into the
        arena cache the simulator shares (FLEET_CACHE_DIR), its COMMIT finds it there."""
        for model in models:
            measure_arena(model)

    def power_cycle(self) -> None:
        self.close()
        self._start()

    def close(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        self.proc.communicate(timeout=20)


def _image(name: str) -> Path:
    try:
        return build(target(name))
    except FirmwareUnavailable as exc:
        pytest.skip(f"{exc} ({exc.hint})")


class PosixBoard(Board):
    """The POSIX port with TFLM (tests/firmware/conftest.py's board process); a power cycle
    restarts the process on the same state directory."""

    kind = "posix"

    def __init__(self, tmp_path: Path) -> None:
        self.board = PosixProcessBoard(_image("posix"), tmp_path / "state", "--uid", "f1ee7002")

    @property
    def port(self) -> str:
        return self.board.path

    def power_cycle(self) -> None:
        self.board.restart()

    def close(self) -> None:
        self.board.stop()


class QemuM4Board(Board):
    """The Cortex-M4 board in QEMU; a power cycle is a machine reset (QMP system_reset),
    which keeps the RAM slot store as flash would keep the slots."""

    kind = "qemu-m4"

    def __init__(self, tmp_path: Path) -> None:
        t = target("qemu-m4")
        self.machine = QemuMachine.start(t, _image("qemu-m4"), bytes.fromhex("525400f1ee73"))
        self.machine.resume()
        self.port = self.machine.port

    def power_cycle(self) -> None:
        self.machine.qmp("system_reset")

    def close(self) -> None:
        self.machine.close()


KINDS = {"virtual": VirtualBoard, "posix": PosixBoard, "qemu-m4": QemuM4Board}
