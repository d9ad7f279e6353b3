"""Events a board sends unasked: INFER_RESULT, POWER, LOG and BOOT (PROTOCOL.md, "Events")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fleet.protocol.header import MsgType
from fleet.protocol.messages.base import Message
from fleet.protocol.values import MAX_BOOT_REASON, MAX_LOG_LEVEL, MAX_OUTPUT_FORMAT, MODEL_PREFIX_SIZE, Kind
from fleet.protocol.wire import Fixed, blob, f32, i32, rest_text, u8, u16, u32, u64


@dataclass(frozen=True, slots=True)
class InferResult(Message):
    """One inference: when, how long, on which input, with which model, and its output.

    The output's quantization (scale, zero point) travels with it so a host that has never
    seen the model file can still dequantize.
    """

    TYPE = MsgType.INFER_RESULT
    KIND = Kind.EVENT
    device_time_us: u64
    latency_us: u32
    inference_count: u32
    input_id: u32
    model_prefix: Annotated[bytes, Fixed(MODEL_PREFIX_SIZE)]
    dtype: u8  # TFLite TensorType code of the output tensor (9 = int8)
    format: u8
    scale: f32
    zero_point: i32
    data: blob
    LIMITS = (("format", MAX_OUTPUT_FORMAT, "1 (TOPK)"),)


@dataclass(frozen=True, slots=True)
class Power(Message):
    """A power sample: supply voltage, current, and energy used since boot."""

    TYPE = MsgType.POWER
    KIND = Kind.EVENT
    device_time_us: u64
    voltage_mv: u16
    current_ua: u32
    energy_uj: u64

    @property
    def power_mw(self) -> float:
        return self.voltage_mv * self.current_ua / 1e6


@dataclass(frozen=True, slots=True)
class Log(Message):
    """A log line from the board. Text is UTF-8; invalid bytes are replaced on receipt."""

    TYPE = MsgType.LOG
    KIND = Kind.EVENT
    device_time_us: u64
    level: u8
    text: rest_text
    LIMITS = (("level", MAX_LOG_LEVEL, "3 (ERROR)"),)


@dataclass(frozen=True, slots=True)
class Boot(Message):
    """Sent once after every boot, so the host learns of resets it did not ask for."""

    TYPE = MsgType.BOOT
    KIND = Kind.EVENT
    reason: u8
    boot_count: u32
    LIMITS = (("reason", MAX_BOOT_REASON, "3 (FAULT)"),)
