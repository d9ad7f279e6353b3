"""devices.toml: which boards fleet manages, how to reach them, and rollout defaults.

The file is validated with pydantic. Any problem becomes one `ConfigError` whose message
names the file, the line (when it can be found), the key, and what was expected, e.g.

    devices.toml:14: boards.lab-nano.baud: expected a baud rate > 0, got 0

Where the file is looked for, in order: the path given (`--config`), `$FLEET_CONFIG`,
`./devices.toml`; with none of them, an empty configuration (discovery still finds known
USB boards and registered virtual boards).
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from fleet.errors import ConfigError
from fleet.profiles import load_profiles
from fleet.redact import redact
from fleet.transport.lock import lock_key

CONFIG_ENV = "FLEET_CONFIG"
DEFAULT_NAME = "devices.toml"

_HEADER = re.compile(r"^\s*\[\[?\s*[A-Za-z0-9_\"']")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
U16 = Annotated[int, Field(ge=0, le=0xFFFF)]


class _AtKey(ValueError):
    """A validation error about a key below the one validated (so the message finds its line)."""

    def __init__(self, loc: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UsbMatch(_Strict):
    """USB identity a port must have to be this board; every given field must match."""

    vid: U16 | None = None
    pid: U16 | None = None
    serial: str | None = None
    location: str | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> UsbMatch:
        if self.vid is None and self.pid is None and self.serial is None and self.location is None:
            raise ValueError("a match rule needs at least one of vid, pid, serial, location")
        return self


class Defaults(_Strict):
    """Settings every board inherits unless it sets its own."""

    baud: int = Field(default=115200, gt=0)
    # As long as a request's: a board mid-inference answers HELLO only between inferences,
    # and one behind a loaded host later still; a shorter probe reported such boards silent.
    hello_timeout_s: float = Field(default=2.0, gt=0)
    request_timeout_s: float = Field(default=2.0, gt=0)
    retries: int = Field(default=3, ge=0)


class Board(_Strict):
    """One board: how to find it (USB match, port, URL or protocol uid) and what it is."""

    port: str | None = None
    url: str | None = None
    match: UsbMatch | None = None
    uid: str | None = None
    baud: int | None = Field(default=None, gt=0)
    profile: str | None = None
    tags: tuple[str, ...] = ()
    # What the board's POWER events are when its INFO does not declare POWER_SENSOR (fleet.telemetry.power_source).
    power: Literal["modelled", "sensor"] = "modelled"

    @field_validator("uid")
    @classmethod
    def _hex_uid(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"(?:[0-9a-fA-F]{2}){1,16}", value):
            raise ValueError(f"expected the board uid as 2 to 32 hex digits, got {value!r}")
        return value.lower() if value else value

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^(rfc2217|socket|loop)://", value):
            raise ValueError(f"expected a URL starting with rfc2217://, socket:// or loop://, got {value!r}")
        return value

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str | None) -> str | None:
        if value is not None and value not in load_profiles():
            raise ValueError(f"unknown profile {value!r}; known profiles: {', '.join(sorted(load_profiles()))}")
        return value

    @field_validator("tags")
    @classmethod
    def _tag_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for tag in value:
            if not _NAME.match(tag):
                raise ValueError(f"tag {tag!r} must be letters, digits, '_', '.', '-'")
        return value

    @model_validator(mode="after")
    def _reachable(self) -> Board:
        if self.port and self.url:
            raise ValueError("give either port or url, not both")
        if not (self.port or self.url or self.match or self.uid):
            raise ValueError("a board needs one of port, url, match or uid to be found")
        return self


class Meter(_Strict):
    """An external power meter (`[[meters]]`) in the supply of one board (docs/power.md)."""

    kind: Literal["ppk2", "lpm01a"]
    board: str  # the board it feeds: a [boards.*] name, or a board's uid
    port: str | None = None
    match: UsbMatch | None = None
    serial: str | None = None  # how its figures are labelled (default: the USB serial, else the port)
    # A marker line is wired (PPK2 digital input `channel`); false: timestamp windows.
    # Default: true for a PPK2, false for an LPM01A (it samples no digital input).
    marker: bool | None = None
    channel: int = Field(default=0, ge=0, le=7)
    voltage_mv: int = Field(default=3300, ge=800, le=5000)  # the supply the meter gives (or, ampere mode, sees)
    mode: Literal["source", "ampere"] = "source"  # PPK2: supply the board, or measure its own supply
    baseline: bool = False  # subtract idle power x window from each inference's energy

    @model_validator(mode="after")
    def _findable(self) -> Meter:
        if self.port is None and self.match is None:
            raise ValueError("a meter needs a port or a USB match to be found")
        if self.kind == "lpm01a" and not 1800 <= self.voltage_mv <= 3300:
            raise ValueError(f"an LPM01A supplies 1800..3300 mV, not {self.voltage_mv}")
        if self.kind == "lpm01a" and self.marker is True:
            raise ValueError("an LPM01A samples no marker line: set marker = false (timestamp windows)")
        return self

    @property
    def uses_marker(self) -> bool:
        return self.marker if self.marker is not None else self.kind == "ppk2"


class Rollout(_Strict):
    """Defaults for `fleet deploy`; command-line options override them."""

    strategy: Literal["all", "canary"] = "canary"
    concurrency: int = Field(default=8, ge=1)
    max_failures: int = Field(default=1, ge=0)
    health_inferences: int = Field(default=3, ge=0)
    health_timeout_s: float = Field(default=10.0, gt=0)
    max_latency_ms: float | None = Field(default=None, gt=0)


class BrokerAddress(NamedTuple):
    """Where an MQTT broker listens, from `mqtt://[user[:password]@]host[:port]` (mqtts:// for TLS)."""

    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None


def parse_mqtt_url(url: str) -> BrokerAddress:
    """Parse a broker URL; ValueError says what is wrong (used by devices.toml and `--mqtt`)."""
    parts = urlsplit(url)
    shown = redact(url)  # messages never carry the password
    if parts.scheme not in ("mqtt", "mqtts"):
        raise ValueError(f"expected an MQTT broker URL like mqtt://host:1883 (or mqtts://), got {shown!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"expected a port number 1..65535 in {shown!r}") from None
    if not parts.hostname:
        raise ValueError(f"expected a broker host name in {shown!r}")
    if parts.path not in ("", "/") or parts.query:
        raise ValueError(f"expected no path or query in {shown!r}; the topic prefix is set with topic_prefix")
    tls = parts.scheme == "mqtts"
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return BrokerAddress(parts.hostname, port or (8883 if tls else 1883), tls, user, password)


def tls_problem(url: str, ca_file: object, cert_file: object, key_file: object) -> str | None:
    """Why these TLS files cannot go with this broker URL, or None (for `[mqtt]` and `--mqtt-*`)."""
    if (ca_file or cert_file or key_file) and not url.startswith("mqtts://"):
        return f"TLS files are for mqtts:// brokers; {redact(url)} is not one"
    if key_file and not cert_file:
        return "a client key needs its certificate (cert_file / --mqtt-cert)"
    return None


class Mqtt(_Strict):
    """`[mqtt]`: publish telemetry to a broker while `fleet monitor` runs (docs/scaling-out.md).

    File paths are relative to the devices.toml that names them."""

    url: str
    topic_prefix: str = "fleet"
    qos: int = Field(default=0, ge=0, le=2)
    password_file: Path | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None

    @model_validator(mode="after")
    def _tls_files(self) -> Mqtt:
        if problem := tls_problem(self.url, self.ca_file, self.cert_file, self.key_file):
            raise ValueError(problem)
        return self

    @field_validator("url")
    @classmethod
    def _broker_url(cls, value: str) -> str:
        parse_mqtt_url(value)
        return value

    @field_validator("topic_prefix")
    @classmethod
    def _topic(cls, value: str) -> str:
        if not value or value.startswith("/") or value.endswith("/") or any(c in value for c in "+#\0"):
            raise ValueError(f"expected topic levels like 'fleet' or 'lab/fleet' without '+', '#' or an outer '/', "
                             f"got {value!r}")  # fmt: skip
        return value


class FleetConfig(_Strict):
    """A whole devices.toml."""

    defaults: Defaults = Defaults()
    boards: dict[str, Board] = {}
    groups: dict[str, tuple[str, ...]] = {}
    rollout: Rollout = Rollout()
    mqtt: Mqtt | None = None
    meters: tuple[Meter, ...] = ()
    source: Path | None = Field(default=None, exclude=True)

    @field_validator("boards")
    @classmethod
    def _board_names(cls, value: dict[str, Board]) -> dict[str, Board]:
        for name in value:
            if not _NAME.match(name):
                raise ValueError(f"board name {name!r} must be letters, digits, '_', '.', '-'")
        return value

    @field_validator("boards")
    @classmethod
    def _one_board_per_port_and_uid(cls, value: dict[str, Board]) -> dict[str, Board]:
        # Two names for one port (or one uid) would be one board managed twice: refused.
        seen: dict[tuple[str, str], str] = {}
        for name, board in value.items():
            for key, kind, ident in (("port", "port", board.port and lock_key(board.port)),
                                     ("url", "port", board.url and lock_key(board.url)),
                                     ("uid", "uid", board.uid)):  # fmt: skip
                if not ident:  # absent, or loop:// (every loop:// is a port of its own)
                    continue
                first = seen.setdefault((kind, ident), name)
                if first != name:
                    raise _AtKey(("boards", name, key),
                                 f"board {first!r} has this {kind} already ({getattr(board, key)}); "
                                 "one board, one entry")  # fmt: skip
        return value

    @field_validator("groups")
    @classmethod
    def _groups_name_boards(cls, value: dict[str, tuple[str, ...]], info: ValidationInfo) -> dict[str, tuple[str, ...]]:
        boards = info.data.get("boards", {})
        for group, members in value.items():
            unknown = [m for m in members if m not in boards]
            if unknown:
                raise ValueError(f"group {group!r} names unknown boards {unknown}; boards are {sorted(boards)}")
        return value

    def power_source_for(self, name: str, uid: str) -> str:
        """What the POWER events of the board with this name or uid are: `modelled` or `sensor`."""
        board = self.boards.get(name) or next((b for b in self.boards.values() if b.uid == uid), None)
        return board.power if board is not None else "modelled"

    def baud_for(self, board: Board) -> int:
        return board.baud or self.defaults.baud


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The devices.toml to use, or None for the empty configuration."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    local = Path.cwd() / DEFAULT_NAME
    return local if local.is_file() else None


def load_config(explicit: str | os.PathLike[str] | None = None) -> FleetConfig:
    """Find, read and validate the configuration (see module docstring)."""
    path = find_config(explicit)
    if path is None:
        return FleetConfig()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file", hint="pass --config with an existing devices.toml") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> FleetConfig:
    """Validate TOML text; errors name `path`, the line and the key."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return FleetConfig.model_validate({**raw, "source": path})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, text, path)) from None


def _describe(exc: ValidationError, text: str, path: Path) -> str:
    lines = []
    for err in exc.errors():
        error = (err.get("ctx") or {}).get("error")
        loc = list(error.loc) if isinstance(error, _AtKey) else [str(p) for p in err["loc"]]
        key = ".".join(loc)
        line = _line_of(text, loc)
        where = f"{path}:{line}" if line else str(path)
        lines.append(f"{where}: {key or '(top level)'}: {_expected(err)}")
    return "\n".join(lines)


def _expected(err: Any) -> str:
    kind, msg, value = err["type"], err["msg"], err.get("input")
    if kind == "extra_forbidden":
        return "unknown key (check the spelling; see devices.toml in the fleet repository for every key)"
    if kind == "missing":
        return "required key is missing"
    msg = msg.removeprefix("Value error, ")
    if kind.startswith(("int_", "float_", "string_", "bool_", "literal_", "greater", "less", "dict_", "tuple_")):
        return f"{msg[0].lower()}{msg[1:]}, got {value!r}"
    return msg


def _line_of(text: str, loc: list[str]) -> int | None:
    """Best-effort line number of a dotted key: the deepest table header or key we can find."""
    lines = text.splitlines()
    best: int | None = None
    # Try the longest table prefix first: [boards.x] then key = under it.
    for split in range(len(loc), 0, -1):
        table, rest = loc[:split], loc[split:]
        header = _find_header(lines, table)
        if header is None:
            continue
        best = header + 1
        if rest:
            key_line = _find_key(lines, header + 1, rest[0])
            if key_line is not None:
                best = key_line + 1
        return best
    if loc:
        key_line = _find_key(lines, 0, loc[0])
        if key_line is not None:
            return key_line + 1
    return best


def _find_header(lines: list[str], table: list[str]) -> int | None:
    parts = [rf"(?:{re.escape(p)}|\"{re.escape(p)}\"|'{re.escape(p)}')" for p in table]
    pattern = re.compile(r"^\s*\[\s*" + r"\s*\.\s*".join(parts) + r"\s*\]\s*(#.*)?$")
    for i, line in enumerate(lines):
        if pattern.match(line):
            return i
    return None


def _find_key(lines: list[str], start: int, key: str) -> int | None:
    pattern = re.compile(rf"^\s*(?:{re.escape(key)}|\"{re.escape(key)}\")\s*=")
    for i in range(start, len(lines)):
        if _HEADER.match(lines[i]):
            return None
        if pattern.match(lines[i]):
            return i
    return None
