"""The QEMU port: the firmware built for a Cortex-M3 (TI LM3S6965) and run under
`qemu-system-arm -M lm3s6965evb`, its UART on a PTY. Deploys the bundled sine (and
hello_world_int8, where ../shared has it) over pyserial and checks the streamed results
bit for bit against the TFLM host interpreter."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import pytest

from fleet.protocol import ActivateMode, Boot, BootReason, LogLevel, ModelActivate, ModelConfirm, Reboot, SlotState
from fleet.protocol import Stream, StreamConfig
from tests.firmware.board_link import BoardLink
from fleet.models.bundled import bundled_model
from tests.firmware.conftest import FIRMWARE, make
from tests.firmware.models import hello_world, sine
from tests.shared_models import shared_model_path
from tests.firmware.test_posix_board import check_results

pytestmark = pytest.mark.system


@pytest.fixture(scope="session")
def qemu_elf():
    missing = [tool for tool in ("arm-none-eabi-gcc", "qemu-system-arm") if not shutil.which(tool)]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (apt-get install gcc-arm-none-eabi "
                    "libnewlib-arm-none-eabi qemu-system-arm)")  # fmt: skip
    result = make("qemu")
    assert result.returncode == 0, result.stdout + result.stderr
    return FIRMWARE / "build" / "qemu" / "fleet-fw-qemu.elf"


class QemuBoard:
    """QEMU started halted (-S): the test opens the PTY first, then resumes the CPU
    over QMP, so the BOOT event is not lost before anyone listens."""

    def __init__(self, elf, tmp_path) -> None:
        self.qmp_path = str(tmp_path / "qmp.sock")
        self.proc = subprocess.Popen(
            ["qemu-system-arm", "-M", "lm3s6965evb", "-display", "none", "-monitor", "none", "-kernel", str(elf),
             "-serial", "pty", "-S", "-qmp", f"unix:{self.qmp_path},server,nowait"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        line = self.proc.stdout.readline()
        found = re.search(r"(/dev/pts/\d+)", line)
        assert found, f"QEMU did not report its PTY: {line!r}"
        self.link = BoardLink.open(found.group(1))
        self._qmp("cont")

    def _qmp(self, command: str) -> None:
        deadline = time.monotonic() + 10
        sock = socket.socket(socket.AF_UNIX)
        while True:
            try:
                sock.connect(self.qmp_path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        with sock, sock.makefile("rw") as f:
            f.readline()  # greeting
            for execute in ("qmp_capabilities", command):
                f.write(json.dumps({"execute": execute}) + "\n")
                f.flush()
                reply = json.loads(f.readline())
                while "event" in reply:  # asynchronous events (RESUME...) come in between
                    reply = json.loads(f.readline())
                assert "return" in reply, reply

    def close(self) -> None:
        if self.link.port.is_open:
            self.link.close()
        self.proc.kill()
        self.proc.wait(timeout=5)


@pytest.fixture
def qemu_board(qemu_elf, tmp_path):
    board = QemuBoard(qemu_elf, tmp_path)
    yield board
    board.close()


@pytest.mark.parametrize("name", ["sine", "hello_world"])
def test_fleet_deploy_to_qemu(qemu_board, tmp_path, name):
    """The real `fleet deploy` CLI, with the QEMU board named in a devices.toml."""
    model = bundled_model("sine") if name == "sine" else shared_model_path("hello_world_int8.tflite")
    qemu_board.link.close()  # fleet opens the port itself
    port = qemu_board.link.port.port
    (tmp_path / "devices.toml").write_text(f'[boards.qemu]\nport = "{port}"\n')
    env = {**os.environ, "FLEET_CONFIG": str(tmp_path / "devices.toml"), "FLEET_CACHE_DIR": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-m", "fleet", "deploy", str(model), "--to", "qemu", "--json"],
                         capture_output=True, text=True, env=env, timeout=180)  # fmt: skip
    events = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert out.returncode == 0 and events[-1]["summary"] == {"confirmed": 1}, out.stdout[-2000:] + out.stderr[-2000:]


@pytest.mark.parametrize("name", ["sine", "hello_world"])
def test_deploy_to_qemu(qemu_board, name):
    model = sine() if name == "sine" else hello_world()
    link = qemu_board.link
    boot = link.take_events(Boot, 1)[0]
    assert boot.reason == BootReason.POWER_ON
    info = link.hello()
    assert info.board_kind == "qemu-lm3s6965" and info.active_slot == 0xFF
    t0 = time.monotonic()
    arena = link.upload(model, 0, name, "1.0.0")
    elapsed = time.monotonic() - t0
    print(f"\nQEMU upload: {len(model)} B in {elapsed * 1000:.0f} ms ({len(model) / elapsed / 1024:.1f} KiB/s), arena {arena} B")
    assert 0 < arena <= info.arena_bytes
    status = link.request(ModelActivate(0, ActivateMode.TEST))
    assert status.active_slot == 0 and status.slots[0].state == SlotState.PENDING
    link.request(StreamConfig(Stream.RESULTS, LogLevel.INFO, 0, 100, 0))
    check_results(link, model, 50)
    assert link.request(ModelConfirm(0)).slots[0].state == SlotState.ACTIVE

    # A warm reset keeps the RAM slot store: the confirmed model boots again.
    link.request(Reboot(0))
    boot = link.take_events(Boot, 1)[0]
    assert boot.reason == BootReason.REQUESTED and boot.boot_count == 2
    assert link.hello().active_slot == 0
    link.request(StreamConfig(Stream.RESULTS, LogLevel.INFO, 0, 100, 0))
    link.events.clear()
    check_results(link, model, 10)
