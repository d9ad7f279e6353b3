"""`fleet sim --firmware`: firmware boards started, registered and removed like virtual ones.

The system tests run two emulated Cortex-M4 boards (C firmware, TFLM with CMSIS-NN
kernels) that `fleet scan` finds and `fleet deploy` deploys to, whose streamed results —
computed on the emulated M4 — equal the host TFLM interpreter's for the same input ids,
value for value; and check that nothing outlives `fleet sim`, even when it is killed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from fleet.errors import FirmwareBoardError, FirmwareUnavailable
from fleet.sim.firmware_boards import QemuMachine, build, random_uids, target
from tests.support.board_link import input_vector
from tests.support.cli import LiveMonitor
from tests.shared_models import shared_model_path

# The first M4 test builds the TFLM library for the Cortex-M4 (minutes on two cores).
pytestmark = pytest.mark.timeout(3000)


@pytest.fixture(scope="module")
def m4_image():
    try:
        return build(target("qemu-m4"))
    except FirmwareUnavailable as exc:
        pytest.skip(f"{exc} ({exc.hint})")


@pytest.fixture
def env(tmp_path):
    clean = {k: v for k, v in os.environ.items() if k != "FLEET_CONFIG"}
    return clean | {"FLEET_SIM_REGISTRY": str(tmp_path / "registry"), "FLEET_CACHE_DIR": str(tmp_path / "cache")}


def fleet(env, cwd, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fleet", *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout)  # fmt: skip


@pytest.fixture
def m4_sim(m4_image, env, tmp_path):
    """`fleet sim --firmware qemu-m4 --boards 2`, stopped with SIGTERM at the end."""
    proc = subprocess.Popen([sys.executable, "-m", "fleet", "sim", "--firmware", "qemu-m4", "--boards", "2", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)  # fmt: skip
    boards = [json.loads(proc.stdout.readline() or "null") for _ in range(2)]
    try:
        assert all(boards), proc.stderr.read() if proc.poll() is not None else "fleet sim printed no boards"
        yield boards
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, proc.stderr.read()
    assert not list((tmp_path / "registry").glob("*.json")), "fleet sim left registry entries behind"
    for board in boards:  # each QEMU is gone: its PTY went with it
        assert not os.path.exists(board["port"]), f"{board['port']} still exists"


def host_values(model: bytes, input_ids) -> dict[int, tuple[float, ...]]:
    """The host TFLM interpreter's first output for each input id, dequantized as fleet's
    telemetry does (values = (q - zero_point) * scale)."""
    from tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(model)
    shape = interp.get_input_details(0)["shape"]
    q = interp.get_output_details(0)["quantization_parameters"]
    scale, zero = float(np.float32(q["scales"][0])), int(q["zero_points"][0])
    out = {}
    for k in sorted(set(input_ids)):
        interp.set_input(input_vector(k, shape), 0)
        interp.invoke()
        out[k] = tuple(float((int(v) - zero) * scale) for v in interp.get_output(0).flatten())
    return out


@pytest.mark.system
def test_two_m4_boards_scan_deploy_and_match_host_tflm(m4_sim, env, tmp_path):
    model_path = shared_model_path("person_detect.tflite")
    model = model_path.read_bytes()

    scan = fleet(env, tmp_path, "scan", "--json")
    assert scan.returncode == 0, scan.stderr
    rows = {r["uid"]: r for r in json.loads(scan.stdout)["boards"]}
    assert set(rows) == {b["uid"] for b in m4_sim}
    assert {(r["kind"], r["status"]) for r in rows.values()} == {("qemu-mps2-an386", "ok")}

    deploy = fleet(env, tmp_path, "deploy", str(model_path), "--to", "all", "--json", timeout=600)
    events = [json.loads(line) for line in deploy.stdout.splitlines() if line.startswith("{")]
    assert deploy.returncode == 0 and events[-1]["summary"] == {"confirmed": 2}, deploy.stdout[-3000:] + deploy.stderr

    # Until each board has streamed three results: an emulated M4 takes its time over a
    # person_detect inference, the more so on a loaded machine.
    def three_each(seen) -> bool:
        return all(sum(e["kind"] == "result" and e["uid"] == uid for e in seen) >= 3 for uid in rows)

    monitor = LiveMonitor(env, tmp_path)
    try:
        monitor.wait_until(three_each, "three results from each board", timeout=300)
    finally:
        code, stdout, err = monitor.stop()
    assert code == 0, err
    results = [e for e in map(json.loads, stdout.splitlines()) if e["kind"] == "result"]
    expected = host_values(model, [r["input_id"] for r in results])
    for r in results:
        assert tuple(r["values"]) == expected[r["input_id"]], f"{r['uid']} input {r['input_id']}"
        assert r["latency_us"] > 0


def test_virtual_board_options_are_refused_with_firmware(env, tmp_path):
    out = fleet(env, tmp_path, "sim", "--firmware", "posix", "--profile", "esp32s3", "--baud", "9600")
    assert out.returncode == 2
    assert "--profile, --baud: for virtual boards only, not with --firmware" in out.stderr
    # Options added beside --firmware later must not be dropped silently either.
    out = fleet(env, tmp_path, "sim", "--firmware", "posix", "--hostile", "silent", "--meter", "ppk2")
    assert out.returncode == 2
    assert "--hostile, --meter: for virtual boards only, not with --firmware" in out.stderr


def test_qemu_boards_refuse_a_state_directory(env, tmp_path):
    out = fleet(env, tmp_path, "sim", "--firmware", "qemu-m3", "--state", str(tmp_path / "state"))
    assert out.returncode == 2 and "QEMU boards keep their slots in RAM" in out.stderr


def test_missing_tools_are_named_with_the_packages_that_bring_them(env, tmp_path):
    (tmp_path / "bin").mkdir()
    out = fleet(env | {"PATH": str(tmp_path / "bin")}, tmp_path, "sim", "--firmware", "qemu-m4")
    assert out.returncode == 2, out.stderr
    assert "--firmware qemu-m4 needs make, arm-none-eabi-gcc, arm-none-eabi-g++, qemu-system-arm, not installed" in out.stderr
    assert "apt-get install make gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib" in out.stderr


@pytest.mark.system
def test_a_missing_tflm_tree_is_named(m4_image, env, tmp_path):
    """make cannot find the tree: exit 2 with tflm.mk's message on how to make one (nothing is
    downloaded). In a build directory of its own: another tree path rebuilds the library."""
    out = fleet(env | {"TFLM_M4_DIR": str(tmp_path / "no-tree"), "FLEET_FIRMWARE_BUILD": str(tmp_path / "build")},
                tmp_path, "sim", "--firmware", "qemu-m4")  # fmt: skip
    assert out.returncode == 2, out.stdout + out.stderr
    assert f"no TFLM source tree at '{tmp_path / 'no-tree'}'" in out.stderr and "create_tflm_tree.py" in out.stderr


@pytest.mark.system
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_nothing_outlives_fleet_sim(env, tmp_path, how):
    """Ctrl-C removes boards, registry entries and temporary files; a killed `fleet sim` takes
    its QEMU machines with it (they die with their parent)."""
    try:
        build(target("qemu-m3"))
    except FirmwareUnavailable as exc:
        pytest.skip(f"{exc} ({exc.hint})")
    env = env | {"TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "fleet", "sim", "--firmware", "qemu-m3", "--boards", "2", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)  # fmt: skip
    boards = [json.loads(proc.stdout.readline() or "null") for _ in range(2)]
    assert all(boards), proc.communicate(timeout=30)[1]
    assert len(list((tmp_path / "registry").glob("*.json"))) == 2 and list((tmp_path / "tmp").iterdir())
    proc.send_signal(how)
    assert proc.wait(20) == (0 if how == signal.SIGINT else -signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(os.path.exists(b["port"]) for b in boards) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [b["port"] for b in boards if os.path.exists(b["port"])], "a QEMU board outlived fleet sim"
    if how == signal.SIGINT:
        assert not list((tmp_path / "registry").glob("*.json")) and not list((tmp_path / "tmp").iterdir())


def test_uids_are_distinct_reproducible_and_qemu_macs():
    qemu, posix = target("qemu-m4"), target("posix")
    macs = random_uids(qemu, 50, seed=7)
    assert macs == random_uids(qemu, 50, seed=7) and len(set(macs)) == 50
    assert all(len(m) == 6 and m[:3] == b"\x52\x54\x00" for m in macs)  # QEMU's own MAC block
    assert all(len(u) == 8 for u in random_uids(posix, 5))


@pytest.mark.system
def test_a_qemu_that_cannot_start_says_why(tmp_path):
    """Regression: QEMU exiting after it printed its PTY (here: no kernel file) surfaced as a
    BrokenPipeError from the QMP socket instead of what QEMU said."""
    if not shutil.which("qemu-system-arm"):
        pytest.skip("qemu-system-arm not installed")
    with pytest.raises(FirmwareBoardError, match="Could not load kernel"):
        QemuMachine.start(target("qemu-m4"), tmp_path / "missing.elf", bytes.fromhex("525400000001"))
