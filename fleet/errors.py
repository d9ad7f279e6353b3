"""The one exception hierarchy of fleet.

Every error a user can meet is a `FleetError`: it carries a message that names what was
wrong and, where we know it, a `hint` that says what to do. The CLI prints both and the
TUI shows them as notifications, so messages are written for people, not for logs.

Errors that have a builtin twin subclass it too (timeouts are `TimeoutError`, bad
configuration is `ValueError`), so callers can catch either.
"""

from __future__ import annotations

from fleet.error_codes import ErrorCode


class FleetError(Exception):
    """Base of every error fleet raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


# --- wire protocol -------------------------------------------------------------------


class ProtocolError(FleetError):
    """Bytes on the wire that do not follow protocol v1."""


class FrameError(ProtocolError):
    """A frame that cannot be recovered (the stream decoder counts these instead)."""


class BadCRC(FrameError):
    """The frame's CRC-32 does not match its contents."""


class FrameTooLong(FrameError):
    """The frame exceeds the receiver's maximum frame length."""


class MalformedFrame(FrameError):
    """Invalid COBS, too short for a header and CRC, or a length field that disagrees."""


class MalformedMessage(ProtocolError):
    """A payload that does not match the layout of its message type."""


class UnknownMessageType(MalformedMessage):
    """A message type (or request/response direction) that protocol v1 does not define."""


class FieldOutOfRange(MalformedMessage):
    """A field whose value protocol v1 does not allow (PROTOCOL.md sections 4 and 9).

    `message` names the message, `field` the field, `value` what was received and `limit`
    what the protocol allows, e.g. "Info: max_payload is 4; the protocol minimum is 512".
    """

    def __init__(self, message: str, field: str, value: object, limit: str) -> None:
        super().__init__(f"{message}: {field} is {value}; {limit}")
        self.field = field
        self.value = value
        self.limit = limit


class BoardRefused(MalformedMessage):
    """fleet stops talking to a board that broke protocol v1: a payload that does not fit its
    layout, a field beyond its limit, an answer that does not fit its request. `board` names
    the board, `reason` is the protocol error that says what was wrong."""

    def __init__(self, board: str, reason: ProtocolError) -> None:
        super().__init__(
            f"{board}: refused: {reason}",
            hint="the board's firmware does not follow firmware/PROTOCOL.md; update or reflash it",
        )
        self.board = board
        self.reason = reason


class UnsupportedVersion(ProtocolError):
    """The peer speaks a protocol version we do not."""


# --- transport -----------------------------------------------------------------------


class TransportError(FleetError):
    """The byte pipe to a board failed."""


class PortNotFound(TransportError):
    """The named port or URL does not exist or cannot be opened."""


class PortVanished(TransportError):
    """The port went away while in use (unplugged, reset, virtual board stopped)."""


class PortBusy(TransportError):
    """Another process holds the port. `holder` is who, when a fleet lock file says so
    (a `fleet.transport.lock.Holder`: pid, host, since, command, purpose)."""

    def __init__(self, message: str, *, hint: str | None = None, holder: object | None = None) -> None:
        super().__init__(message, hint=hint)
        self.holder = holder


class BoardRebooted(TransportError):
    """The board reset while requests were outstanding; their answers will never come."""


class UidConflict(FleetError):
    """Two or more ports answer as the same board (one uid): `uid`, and the `ports` it
    answers on. fleet cannot tell such boards apart, so it acts on neither as that uid; one
    of them is misconfigured (a cloned id) or lies about who it is."""

    def __init__(self, uid: str, ports: tuple[str, ...]) -> None:
        super().__init__(
            f"uid {uid} answers on {len(ports)} ports at once ({', '.join(ports)}): two boards claim one identity, "
            "fleet cannot tell which is which",
            hint="unplug or reflash one of them; a board that copies another's uid is misconfigured or hostile",
        )
        self.uid = uid
        self.ports = ports


class FleetTimeout(FleetError, TimeoutError):
    """Something did not happen in time."""


class RequestTimeout(FleetTimeout):
    """A board did not answer a request in time, after every retry."""


# --- the device said no --------------------------------------------------------------


class StreamDecodeError(ProtocolError):
    """An encoded upload stream broke PROTOCOL.md section 10; `block_start` is the model
    offset of the block that failed (a board answers DECODE_FAILED with it)."""

    def __init__(self, block_start: int, reason: str) -> None:
        super().__init__(f"block at model offset {block_start}: {reason}")
        self.block_start = block_start
        self.reason = reason


class DeviceError(FleetError):
    """A board answered a request with an ERROR response.

    `code` is the device's `ErrorCode`, `detail` its numeric detail (an offset, a size),
    `text` the device's own short explanation.
    """

    def __init__(self, code: int, detail: int, text: str, *, board: str | None = None) -> None:
        self.code = code
        self.detail = detail
        self.text = text
        self.board = board
        try:
            name = ErrorCode(code).name
        except ValueError:
            name = f"code {code}"
        where = f"{board}: " if board else ""
        super().__init__(f"{where}device error {name}: {text}" if text else f"{where}device error {name}")

    @classmethod
    def from_response(cls, code: int, detail: int, text: str, *, board: str | None = None) -> DeviceError:
        """Build the most specific subclass for a device error code."""
        return _DEVICE_ERRORS.get(code, DeviceError)(code, detail, text, board=board)


class DeviceProtocolError(DeviceError):
    """The board could not parse what we sent (version, type or payload)."""


class UploadError(DeviceError):
    """The board refused an upload step (slot, offset, order)."""


class ModelRejected(DeviceError):
    """The board refused a model at verify or test-load (hash, format, ops, arena, size)."""


class DeviceFailure(DeviceError):
    """The board failed internally (storage, inference, busy)."""


_DEVICE_ERRORS: dict[int, type[DeviceError]] = {
    ErrorCode.UNSUPPORTED_VERSION: DeviceProtocolError,
    ErrorCode.UNKNOWN_TYPE: DeviceProtocolError,
    ErrorCode.BAD_PAYLOAD: DeviceProtocolError,
    ErrorCode.BAD_SLOT: UploadError,
    ErrorCode.NO_UPLOAD: UploadError,
    ErrorCode.OUT_OF_RANGE: UploadError,
    ErrorCode.INCOMPLETE: UploadError,
    ErrorCode.NOT_VERIFIED: UploadError,
    ErrorCode.NOT_PENDING: UploadError,
    ErrorCode.TOO_LARGE: ModelRejected,
    ErrorCode.HASH_MISMATCH: ModelRejected,
    ErrorCode.MODEL_INVALID: ModelRejected,
    ErrorCode.OP_UNSUPPORTED: ModelRejected,
    ErrorCode.ARENA_TOO_SMALL: ModelRejected,
    ErrorCode.BUSY: DeviceFailure,
    ErrorCode.STORAGE: DeviceFailure,
    ErrorCode.INFERENCE_FAILED: DeviceFailure,
    ErrorCode.INTERNAL: DeviceFailure,
    ErrorCode.BASE_MISMATCH: UploadError,
    ErrorCode.DECODE_FAILED: UploadError,
}


# --- configuration and models --------------------------------------------------------


class ConfigError(FleetError, ValueError):
    """devices.toml (or another setting) is wrong; the message names file, key and expectation."""


class FirmwareUnavailable(ConfigError):
    """Firmware boards cannot be started here: a tool (C compiler, arm-none-eabi toolchain,
    QEMU) or the TFLM source tree is missing; the message names it and the hint how to get it."""


class FirmwareBoardError(FleetError):
    """A firmware board did not build or start: make failed, or QEMU or the board process exited."""


class ModelError(FleetError):
    """A model file that cannot be used: not TFLite, malformed, or unsupported."""


class ArenaTooSmall(ModelError):
    """The tensor arena offered is smaller than the model needs in TFLM (`needed`, `given` bytes)."""

    def __init__(self, message: str, *, needed: int, given: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.needed = needed
        self.given = given


class ManifestMismatch(ModelError):
    """A model's manifest disagrees with the model (sha256, tensor shapes, label count)."""


class ModelToolMissing(ModelError):
    """An optional package the model toolkit needs (TensorFlow, tflite-micro, ai-edge-litert) is absent."""


# --- telemetry recordings ------------------------------------------------------------


class RecordingError(FleetError):
    """A telemetry recording that cannot be written or read."""


class RecordingExists(RecordingError):
    """The recording file exists already and overwriting was not asked for."""


class RecordingCorrupt(RecordingError):
    """Not a fleet recording, or damaged: not gzip, wrong header, undecodable lines."""


class RecordingDamaged(RecordingCorrupt):
    """The compressed data is damaged at `offset` (a byte of the file); the `events` before it are good."""

    def __init__(self, message: str, *, events: int, offset: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.events = events
        self.offset = offset


class RecordingTruncated(RecordingError):
    """The recording stops early (its writer was killed); every event before the cut is good."""

    def __init__(self, message: str, *, events: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.events = events


# --- telemetry export ----------------------------------------------------------------


class ExportError(FleetError):
    """Telemetry cannot be exported: the exporter's package (paho-mqtt) is missing, or its settings are wrong."""
