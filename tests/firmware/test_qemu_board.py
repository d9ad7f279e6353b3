"""The QEMU ports: the firmware on a Cortex-M3 (TI LM3S6965, `-M lm3s6965evb`, reference
runner) and a Cortex-M4 (MPS2 AN386, `-M mps2-an386`, TFLM with CMSIS-NN), UART on a PTY.
Deploys the bundled sine (and hello_world_int8, where ../shared has it) over pyserial and
checks the streamed results bit for bit against the TFLM host interpreter."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fleet.protocol import ActivateMode, Boot, BootReason, Capability, LogLevel, ModelActivate, ModelCommit, ModelConfirm
from fleet.protocol import Power, Reboot, SlotState, Stream, StreamConfig
from fleet.upload_codec import encode
from tests.support.board_link import BoardLink, check_results
from tests.support.hosts import open_stream, send_stream
from fleet.models.bundled import bundled_model
from fleet.errors import FirmwareUnavailable
from fleet.sim.firmware_boards import FirmwareTarget, QemuMachine, build, target
from tests.firmware.models import hello_world, sine, variant
from tests.firmware.tf_models import OP_MODELS, tf_model
from tests.shared_models import shared_model_path

# The first M4 test builds the TFLM library for the Cortex-M4 (minutes on two cores).
pytestmark = [pytest.mark.system, pytest.mark.timeout(3000)]


def qemu_image(name: str) -> tuple[FirmwareTarget, Path]:
    """Build the image of firmware target `name` ("qemu-m3", "qemu-m4"), or skip saying what is missing."""
    t = target(name)
    try:
        return t, build(t)
    except FirmwareUnavailable as exc:
        pytest.skip(f"{exc} ({exc.hint})")


class QemuBoard:
    """A QEMU board started halted (-S): the test opens the PTY first, then resumes the
    CPU over QMP, so the BOOT event is not lost before anyone listens."""

    def __init__(self, name: str, uid: bytes = bytes.fromhex("525400abcdef")) -> None:
        self.target, image = qemu_image(name)
        self.machine = QemuMachine.start(self.target, image, uid)
        self.link = BoardLink.open(self.machine.port)
        self.machine.resume()

    def close(self) -> None:
        if self.link.port.is_open:
            self.link.close()
        self.machine.close()


@pytest.fixture(params=["qemu-m3", "qemu-m4"])
def qemu_board(request):
    board = QemuBoard(request.param)
    yield board
    board.close()


@pytest.mark.parametrize("name", ["sine", "hello_world"])
def test_fleet_deploy_to_qemu(qemu_board, tmp_path, name):
    """The real `fleet deploy` CLI, with the QEMU board named in a devices.toml."""
    model = bundled_model("sine") if name == "sine" else shared_model_path("hello_world_int8.tflite")
    qemu_board.link.close()  # fleet opens the port itself
    port = qemu_board.machine.port
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
    assert info.board_kind == qemu_board.target.kind and info.active_slot == 0xFF
    assert info.uid == bytes.fromhex("525400abcdef")
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


def test_m3_power_comes_from_its_simulated_ina219():
    """The lm3s6965 image measures POWER with the INA219 driver, reading a register-level
    model of the part over the I2C HAL: the part's quantised figures (30 mA through 0.1
    ohm: 300 shunt LSBs, 4799 current LSBs of 6251 nA; the bus in 4 mV steps), not the
    model's 30000 uA at 3300 mV. (Sine's microseconds per 10 ms inference add under one
    100 uA shunt LSB here; the busy weighting is checked in firmware/tests/test_ina.c.)"""
    board = QemuBoard("qemu-m3")
    try:
        link = board.link
        assert link.hello().capabilities & Capability.POWER_SENSOR
        link.request(StreamConfig(Stream.POWER, LogLevel.INFO, 0, 20, 0))
        idle = link.take_events(Power, 3)
        assert {(s.voltage_mv, s.current_ua) for s in idle} == {(3296, 29998)}
    finally:
        board.close()


@pytest.fixture
def m4_board():
    board = QemuBoard("qemu-m4")
    yield board
    board.close()


def deploy_and_check(link, model: bytes, slot: int, count: int) -> list:
    """Upload `model` to `slot`, run it on trial and check `count` streamed results against
    the host TFLM interpreter bit for bit; returns the results."""
    link.upload(model, slot)
    link.request(ModelActivate(slot, ActivateMode.TEST))
    link.request(StreamConfig(Stream.RESULTS, LogLevel.INFO, 0, 100, 0))
    link.events.clear()
    results = check_results(link, model, count)
    link.request(StreamConfig(0, LogLevel.INFO, 0, 100, 0))
    return results


@pytest.mark.parametrize("name", ["micro_speech_quantized.tflite", "person_detect.tflite"])
def test_m4_tflm_cmsis_nn_matches_host_tflm(m4_board, name):
    """Reshape, depthwise and regular convolution, average pooling, fully connected and
    softmax through CMSIS-NN on the emulated M4: outputs equal the host TFLM reference
    kernels' for the same inputs, and latency is the board's own (instruction-count) clock."""
    model = shared_model_path(name).read_bytes()
    link = m4_board.link
    info = link.hello()
    assert info.cpu_hz == 62_500_000 and info.arena_bytes >= 256 * 1024 and info.slot_bytes >= 512 * 1024
    results = deploy_and_check(link, model, 0, 4)
    latencies = {r.latency_us for r in results}
    print(f"\n{name}: on-device latency {sorted(latencies)} us (instructions x 16 ns)")
    assert all(0 < r.latency_us < 10_000_000 for r in results)


@pytest.mark.tf
def test_m4_operator_models_match_host_tflm(m4_board):
    """Convolution, depthwise convolution, pooling, softmax and add models (TensorFlow-built,
    random weights) on the emulated M4 through CMSIS-NN: streamed outputs equal the host TFLM
    reference kernels' bit for bit. One board takes them in turn, slots alternating."""
    link = m4_board.link
    for i, name in enumerate(OP_MODELS):
        deploy_and_check(link, tf_model(name), i % 2, 20)
        link.request(ModelConfirm(i % 2))


def test_m4_image_reports_cmsis_nn_kernels():
    """The runtime string RUNTIME reports is compiled in: the M4 runner was built with CMSIS_NN."""
    _, image = qemu_image("qemu-m4")
    assert b"tflm 90b983c cmsis-nn\0" in image.read_bytes()


def test_encoded_uploads_to_qemu_m3():
    """The lm3s6965 image decodes a compressed upload, then a delta over it (COPY blocks read
    the other RAM slot), and runs each model bit for bit like the host (reference runner:
    no TFLM build needed)."""
    board = QemuBoard("qemu-m3")
    try:
        link = board.link
        assert link.hello().capabilities & (Capability.DEFLATE | Capability.DELTA) == Capability.DEFLATE | Capability.DELTA
        old, new = sine(), variant(7)
        for slot, model, base in ((0, old, None), (1, new, old)):
            base_slot, base_sha = (0xFF, bytes(32)) if base is None else (0, hashlib.sha256(base).digest())
            assert open_stream(link.request, model, slot, base_slot, base_sha) == 0
            assert send_stream(link.request, encode(model, 0, base).stream, link.data_piece()).received == len(model)
            link.request(ModelCommit(slot))
            assert link.request(ModelActivate(slot, ActivateMode.PERMANENT)).active_slot == slot
            assert link.hello().slots[slot].sha256 == hashlib.sha256(model).digest()
            link.request(StreamConfig(Stream.RESULTS, LogLevel.INFO, 0, 100, 0))
            check_results(link, model, 5, counts_from_boot=False)
            link.request(StreamConfig(0, LogLevel.INFO, 0, 0, 0))
            link.events.clear()
    finally:
        board.close()
