"""Firmware boards on this machine: the C firmware (firmware/) as POSIX processes or on
emulated Cortex-M boards under QEMU, each on its own pseudo-terminal.

`fleet sim --firmware` uses `FirmwareFarm` to build the firmware (make), start N boards
with distinct uids, register them for `fleet scan` and remove everything on exit; tests
start single boards with `QemuMachine`.

QEMU boards start halted (`-S`) with a QMP connection: the PTY QEMU prints is opened first and
held open for the board's life (QEMU drops output while no one holds its PTY, and notices a
new opener only about once a second), then QMP `cont` starts the CPU. On the Cortex-M4
board (mps2-an386) `-icount shift=4` makes virtual time count instructions (16 ns each, a
nominal 62.5 MHz), so latencies the board measures with its own clock are deterministic.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import random
import re
import selectors
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from fleet.errors import FirmwareBoardError, FirmwareUnavailable
from fleet import virtual_ports as registry

FIRMWARE_DIR = Path(__file__).resolve().parents[2] / "firmware"
START_TIMEOUT_S = 10.0
BUILD_ENV = "FLEET_FIRMWARE_BUILD"  # where make builds (default firmware/build)
BAUD = 115_200  # what hosts open the PTYs with; a PTY does not pace bytes, nor do QEMU's UARTs
BUILD_TIMEOUT_S = 3600.0  # a first TFLM library build: 10 to 45 minutes on a busy 2-core machine

_APT = {
    "make": "make", "cc": "gcc", "c++": "g++", "arm-none-eabi-gcc": "gcc-arm-none-eabi libnewlib-arm-none-eabi",
    "arm-none-eabi-g++": "gcc-arm-none-eabi libstdc++-arm-none-eabi-newlib", "qemu-system-arm": "qemu-system-arm",
}  # fmt: skip


@dataclass(frozen=True)
class FirmwareTarget:
    """One way to run the firmware: its make target, image and (for QEMU) machine."""

    name: str
    make_target: str
    image: str  # under firmware/build
    kind: str  # the board_kind its INFO reports
    tools: tuple[str, ...]
    machine: str | None = None  # QEMU machine; None: a POSIX process
    icount_shift: int | None = None
    uid_bytes: int = 6


TARGETS: dict[str, FirmwareTarget] = {
    t.name: t
    for t in (
        FirmwareTarget("posix", "posix", "posix/fleet-fw-posix", "posix", ("make", "cc", "c++"), uid_bytes=8),
        FirmwareTarget("qemu-m4", "mps2", "mps2/fleet-fw-mps2.elf", "qemu-mps2-an386",
                       ("make", "arm-none-eabi-gcc", "arm-none-eabi-g++", "qemu-system-arm"),
                       machine="mps2-an386", icount_shift=4),  # fmt: skip
        FirmwareTarget("qemu-m3", "qemu", "qemu/fleet-fw-qemu.elf", "qemu-lm3s6965",
                       ("make", "arm-none-eabi-gcc", "qemu-system-arm"), machine="lm3s6965evb"),  # fmt: skip
    )
}


def target(name: str) -> FirmwareTarget:
    """The target called `name`; FirmwareUnavailable names the known ones otherwise."""
    try:
        return TARGETS[name]
    except KeyError:
        raise FirmwareUnavailable(f"unknown firmware {name!r}; known: {', '.join(TARGETS)}") from None


def build(t: FirmwareTarget, firmware_dir: Path = FIRMWARE_DIR, build_dir: Path | None = None) -> Path:
    """Build `t`'s image with make (a no-op when it is up to date) in `build_dir` (default
    $FLEET_FIRMWARE_BUILD, else firmware/build) and return its path.

    Raises FirmwareUnavailable naming the missing tool or TFLM tree, FirmwareBoardError
    when make fails otherwise."""
    if not (firmware_dir / "Makefile").is_file():
        raise FirmwareUnavailable(f"no firmware sources at {firmware_dir}",
                                  hint="firmware boards run from a fleet source checkout")  # fmt: skip
    if missing := [tool for tool in t.tools if not shutil.which(tool)]:
        packages = " ".join(dict.fromkeys(p for tool in missing for p in _APT.get(tool, tool).split()))
        raise FirmwareUnavailable(f"--firmware {t.name} needs {', '.join(missing)}, not installed",
                                  hint=f"apt-get install {packages}")  # fmt: skip
    build_dir = build_dir or Path(os.environ.get(BUILD_ENV) or firmware_dir / "build")
    cmd = ["make", "-C", str(firmware_dir), f"BUILD={build_dir}", t.make_target]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise FirmwareBoardError(f"{' '.join(cmd)} did not finish within {BUILD_TIMEOUT_S:.0f} s") from None
    if done.returncode != 0:
        text = (done.stdout + done.stderr).strip()
        if "no TFLM source tree" in text:  # tflm.mk's message, which says how to make one
            start = text.index("no TFLM source tree")
            raise FirmwareUnavailable(f"--firmware {t.name}: {text[start:].splitlines()[0]}",
                                      hint="\n".join(text[start:].splitlines()[1:8]))  # fmt: skip
        raise FirmwareBoardError(f"{' '.join(cmd)} failed:\n{text[-3000:]}")
    return build_dir / t.image


def random_uids(t: FirmwareTarget, count: int, seed: int | None = None) -> list[bytes]:
    """`count` distinct uids for boards of `t`: QEMU MAC addresses in QEMU's 52:54:00 block
    (the firmware reads its uid from the NIC), random bytes for POSIX boards."""
    rng = random.Random(seed) if seed is not None else random.SystemRandom()
    uids: list[bytes] = []
    while len(uids) < count:
        tail = bytes(rng.randrange(256) for _ in range(t.uid_bytes - 3 if t.machine else t.uid_bytes))
        uid = (b"\x52\x54\x00" + tail) if t.machine else tail
        if uid not in uids:
            uids.append(uid)
    return uids


def _die_with_parent() -> None:
    """In the child: get SIGKILL when the parent dies, so no board outlives a killed `fleet sim`."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)


def _read_line(proc: subprocess.Popen, pattern: str, what: str, timeout: float = START_TIMEOUT_S) -> re.Match:
    """The first stdout line of `proc` matching `pattern`; FirmwareBoardError with what it said otherwise."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not sel.select(deadline - time.monotonic()):
                break
            line = proc.stdout.readline()
            if not line:
                break
            if found := re.search(pattern, line):
                return found
            seen.append(line.strip())
    proc.kill()
    proc.wait()
    raise FirmwareBoardError(f"{what} did not report its PTY: {' / '.join(seen) or 'no output'}")


@dataclass
class _Process:
    """A board process and the PTY it serves."""

    proc: subprocess.Popen
    port: str
    uid: bytes

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


@dataclass
class PosixProcess(_Process):
    """The POSIX port: powers on when the host first writes to its PTY."""

    @classmethod
    def start(cls, binary: Path, state: Path, uid: bytes, *args: str) -> PosixProcess:
        state.mkdir(parents=True, exist_ok=True)
        proc = subprocess.Popen([str(binary), "--state", str(state), "--uid", uid.hex(), *args],
                                stdout=subprocess.PIPE, text=True, preexec_fn=_die_with_parent)  # fmt: skip
        return cls(proc, _read_line(proc, r"^PTY (\S+)", "the POSIX board").group(1), uid)


@dataclass
class QemuMachine(_Process):
    """A firmware image in QEMU, halted until `resume()`; the PTY is held open meanwhile.
    QMP runs over a socket pair QEMU inherits (no socket file, so no path-length limit)."""

    _qmp: socket.socket | None = None
    _qmp_file: TextIO | None = None
    _hold: int = -1

    @classmethod
    def start(cls, t: FirmwareTarget, image: Path, uid: bytes) -> QemuMachine:
        """Start `image` on `t.machine` halted; the caller may open the PTY, then `resume()`."""
        ours, theirs = socket.socketpair()
        cmd = ["qemu-system-arm", "-M", t.machine, "-display", "none", "-monitor", "none", "-kernel", str(image),
               "-nic", f"user,mac={':'.join(f'{b:02x}' for b in uid)}", "-serial", "pty", "-S",
               "-chardev", f"socket,id=qmp,fd={theirs.fileno()}", "-mon", "chardev=qmp,mode=control"]  # fmt: skip
        if t.icount_shift is not None:
            cmd += ["-icount", f"shift={t.icount_shift}"]
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                    pass_fds=[theirs.fileno()], preexec_fn=_die_with_parent)  # fmt: skip
        finally:
            theirs.close()
        try:
            port = _read_line(proc, r"(/dev/pts/\d+)", f"qemu-system-arm -M {t.machine}").group(1)
        except FirmwareBoardError:
            ours.close()
            raise
        machine = cls(proc, port, uid, ours, ours.makefile("rw", encoding="utf-8"))
        try:
            machine._hold = os.open(port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)  # never read: keeps QEMU connected
            ours.settimeout(START_TIMEOUT_S)
            machine._qmp_file.readline()  # greeting
            machine.qmp("qmp_capabilities")
        except (OSError, FirmwareBoardError) as exc:
            if proc.poll() is None:  # QEMU hangs: stop it; then say what it printed
                proc.kill()
            proc.wait()
            said = proc.stdout.read().strip()
            machine.close()
            raise FirmwareBoardError(f"qemu-system-arm -M {t.machine} -kernel {image} did not start: "
                                     f"{said or exc}") from None  # fmt: skip
        except BaseException:
            machine.close()
            raise
        return machine

    def resume(self) -> None:
        """Start the CPU (QMP cont)."""
        self.qmp("cont")

    def qmp(self, command: str) -> object:
        """Run one QMP command; its `return` value."""
        f = self._qmp_file
        try:
            f.write(json.dumps({"execute": command}) + "\n")
            f.flush()
            reply = json.loads(f.readline() or "null")
            while reply and "event" in reply:  # asynchronous events (RESUME...) come in between
                reply = json.loads(f.readline() or "null")
        except (OSError, ValueError) as exc:
            raise FirmwareBoardError(f"QMP {command}: {exc}") from None
        if not reply or "return" not in reply:
            raise FirmwareBoardError(f"QMP {command} failed: {reply or 'QEMU closed the monitor'}")
        return reply["return"]

    def close(self) -> None:
        super().close()
        if self._qmp is not None:
            self._qmp_file.close()
            self._qmp.close()
            self._qmp = self._qmp_file = None
        if self._hold >= 0:
            os.close(self._hold)
            self._hold = -1


@dataclass
class FirmwareFarm:
    """N firmware boards of one target, registered for `fleet scan` until `stop()`."""

    target: FirmwareTarget
    boards: int
    seed: int | None = None
    state_dir: Path | None = None  # POSIX boards' slots; default: a temporary directory
    registry_dir: Path | None = None
    build_dir: Path | None = None
    running: list[_Process] = field(default_factory=list)
    _workdir: Path | None = None

    def start(self) -> list[_Process]:
        """Build if needed, start every board, register them; on any failure nothing is left running."""
        image = build(self.target, build_dir=self.build_dir)
        self._workdir = Path(tempfile.mkdtemp(prefix=f"fleet-fw-{self.target.name}-"))
        try:
            for i, uid in enumerate(random_uids(self.target, self.boards, self.seed)):
                if self.target.machine:
                    board: _Process = QemuMachine.start(self.target, image, uid)
                    self.running.append(board)
                    board.resume()
                else:
                    state = (self.state_dir or self._workdir) / f"board{i:02d}"
                    board = PosixProcess.start(image, state, uid)
                    self.running.append(board)
                registry.register(registry.RegisteredBoard(port=board.port, uid=uid.hex(), profile=self.target.kind,
                                                           pid=os.getpid(), baud=BAUD), self.registry_dir)  # fmt: skip
        except BaseException:
            self.stop()
            raise
        return self.running

    def dead(self) -> list[_Process]:
        """Boards whose process has exited."""
        return [b for b in self.running if not b.alive]

    def stop(self) -> None:
        """Kill every board, remove its registry entry and the temporary directory."""
        for board in self.running:
            board.close()
            registry.unregister(board.uid.hex(), self.registry_dir)
        self.running.clear()
        registry.remove_if_empty(self.registry_dir)
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
