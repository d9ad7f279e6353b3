"""ser2net, mosquitto and `fleet sim` as child processes of a test: loopback only, bounded
lifetimes (each runs under `timeout`, so a killed pytest cannot leave one behind), stopped
by the fixture that started them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

LIFETIME_S = 600  # upper bound on any daemon a test starts
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    """Whether something listens on 127.0.0.1:port, without connecting (a connection to a
    ser2net accepter would open the board's port)."""
    want = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as f:
        return any(fields[1] == want and fields[3] == "0A" for fields in (line.split() for line in f.readlines()[1:]))


def missing(*binaries: str) -> str | None:
    absent = [b for b in binaries if shutil.which(b) is None and not Path(f"/usr/sbin/{b}").exists()]
    return f"needs {', '.join(absent)} (Debian packages; .ci/run installs them)" if absent else None


def _binary(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


class Daemon:
    """A server under `timeout`, in its own process group, listening on 127.0.0.1:port;
    `start` returns once it listens, `stop` sends SIGTERM."""

    def __init__(self, cmd: list[str], log: Path, port: int) -> None:
        self.cmd = ["timeout", str(LIFETIME_S), *cmd]
        self.log = log
        self.port = port
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_listening(self.port)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)

    def wait_listening(self, port: int, timeout_s: float = 15.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not listening(port):
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"{self.cmd[2]} exited: {self.log.read_text(errors='replace')[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.cmd[2]} does not listen on {port} after {timeout_s} s")
            time.sleep(0.05)


class Ser2Net(Daemon):
    """ser2net 4.x exporting one serial device on 127.0.0.1:port with RFC2217 (FACTS.md recipe),
    or as a plain TCP stream (`rfc2217=False`: a socket:// URL, no line control)."""

    def __init__(self, workdir: Path, device: str, baud: int, port: int | None = None, *, rfc2217: bool = True) -> None:
        port = port or free_port()
        self.device, self.baud, self.rfc2217 = device, baud, rfc2217
        self.config = workdir / f"ser2net-{port}.yaml"
        self.config.write_text(ser2net_yaml(device, baud, port, rfc2217=rfc2217))
        super().__init__([_binary("ser2net"), "-n", "-u", "-c", str(self.config), "-P", str(workdir / f"ser2net-{port}.pid")],
                         workdir / f"ser2net-{port}.log", port)  # fmt: skip

    @property
    def url(self) -> str:
        return f"rfc2217://{HOST}:{self.port}?ign_set_control" if self.rfc2217 else f"socket://{HOST}:{self.port}"


def ser2net_yaml(device: str, baud: int, port: int, name: str = "board0", *, rfc2217: bool = True) -> str:
    """The ser2net.yaml stanza docs/scaling-out.md documents."""
    return (f"connection: &{name}\n"
            f"  accepter: {'telnet(rfc2217),' if rfc2217 else ''}tcp,{HOST},{port}\n"
            f"  connector: serialdev,{device},{baud}n81,local\n")  # fmt: skip


class Mosquitto(Daemon):
    """mosquitto on 127.0.0.1:port, in memory; anonymous unless `settings` (mosquitto.conf
    lines for the listener: TLS files, a password file) say otherwise."""

    def __init__(self, workdir: Path, port: int | None = None, settings: str = "allow_anonymous true\n") -> None:
        port = port or free_port()
        conf = workdir / f"mosquitto-{port}.conf"
        conf.write_text(f"listener {port} {HOST}\n{settings}persistence false\n")
        super().__init__([_binary("mosquitto"), "-c", str(conf)], workdir / f"mosquitto-{port}.log", port)

    @property
    def url(self) -> str:
        return f"mqtt://{HOST}:{self.port}"


class Sim:
    """`fleet sim` with one board; its registry is private, so fleet commands reach the board
    only through the URL the test gives them."""

    def __init__(self, workdir: Path, baud: int, *extra: str) -> None:
        env = {**os.environ, "FLEET_SIM_REGISTRY": str(workdir / "sim-registry")}
        cmd = ["timeout", str(LIFETIME_S), sys.executable, "-m", "fleet", "sim", "--boards", "1", "--json",
               "--baud", str(baud), "--turnaround-ms", "1", *extra]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
                                     start_new_session=True)  # fmt: skip
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("fleet sim exited early")
        board = json.loads(line)
        self.port, self.uid = board["port"], board["uid"]

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def make_test_pki(workdir: Path) -> dict[str, Path]:
    """A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, signed by
    it (and a second CA that signed nothing), made with openssl; returns their PEM files."""
    files = {name: workdir / f"{name}.pem" for name in
             ("ca", "ca_key", "other_ca", "other_ca_key", "server", "server_key", "client", "client_key")}  # fmt: skip
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"]

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=workdir)

    for ca in ("ca", "other_ca"):
        run("req", "-x509", *ec, "-keyout", str(files[f"{ca}_key"]), "-out", str(files[ca]), "-subj", f"/CN=fleet {ca}")
    for leaf, extension in (("server", "subjectAltName=IP:127.0.0.1"), ("client", "extendedKeyUsage=clientAuth")):
        csr = workdir / f"{leaf}.csr"
        run("req", *ec[:-2], "-keyout", str(files[f"{leaf}_key"]), "-out", str(csr), "-subj", f"/CN=fleet {leaf}")
        ext = workdir / f"{leaf}.ext"
        ext.write_text(extension + "\n")
        run("x509", "-req", "-in", str(csr), "-CA", str(files["ca"]), "-CAkey", str(files["ca_key"]),
            "-CAcreateserial", "-days", "1", "-extfile", str(ext), "-out", str(files[leaf]))  # fmt: skip
    return files
