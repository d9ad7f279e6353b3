"""Every request type and protocol-level error, through a VirtualBoard on an in-memory pipe."""

from __future__ import annotations

import re
import struct
import zlib

import pytest
import tflite_micro
from cobs import cobs

from fleet.error_codes import ErrorCode
from fleet.models._schema_names import BUILTIN_OPS
from fleet.protocol import (
    NO_SLOT, Boot, Capability, Error, Flags, Header, Hello, Info, LogLevel, Ping, Pong, Reboot, RebootAck, Runtime,
    RuntimeInfo, Stream, StreamConfig, StreamConfigAck, encode_frame, encode_message,
)  # fmt: skip
from fleet.sim.factory import derive_uid, make_engine
from fleet.sim.ports import MemoryPorts
from fleet.sim.virtual_board import LinkConfig, VirtualBoard
from tests.support.hosts import AsyncHost


@pytest.fixture
async def board(tmp_path):
    ports = MemoryPorts()
    vb = VirtualBoard(make_engine("esp32s3", tmp_path, name="req"), ports, LinkConfig(baud=None, turnaround_us=0))
    await vb.start()
    host = AsyncHost(await ports.connections.get())
    yield vb, host
    await host.close()
    await vb.stop()


async def test_boot_event_then_info(board):
    vb, host = board
    boot = await host.event(Boot)
    assert boot == Boot(reason=0, boot_count=1)
    info = await host.request(Hello(1, 4096))
    assert isinstance(info, Info)
    assert info.uid == derive_uid("req") and len(info.uid) == 8
    assert info.board_kind == "esp32s3" and info.proto_version == 1 and info.active_slot == NO_SLOT
    profile = vb.engine.profile
    assert (info.arena_bytes, info.slot_bytes, info.cpu_hz) == (profile.arena_bytes, profile.slot_bytes,
                                                                profile.cpu_hz)
    assert info.max_payload == 1024 and info.rx_window == 4096
    assert info.capabilities == int(Capability.RESUME | Capability.RESULTS | Capability.POWER | Capability.LOG
                                    | Capability.REBOOT | Capability.RUNTIME | Capability.DEFLATE | Capability.DELTA)


async def test_runtime_names_the_host_interpreter_and_the_profile_operators(board):
    vb, host = board
    answer = await host.request(Runtime())
    assert isinstance(answer, RuntimeInfo)
    version = re.search(r"-g([0-9a-f]{7})", tflite_micro.__version__).group(1)
    assert answer.runtime == f"tflite-micro {version} reference"
    # Every operator of the esp32s3 profile is one the host interpreter registers.
    assert {BUILTIN_OPS[code] for code in answer.builtins} == vb.engine.profile.ops
    assert answer.customs == ()


async def test_ping_echoes_with_device_clock(board):
    _, host = board
    first = await host.request(Ping(b"abc"))
    second = await host.request(Ping(b""))
    assert isinstance(first, Pong) and first.data == b"abc" and second.data == b""
    assert second.device_time_us >= first.device_time_us


async def test_ping_too_long_is_bad_payload(board):
    _, host = board
    out = await host.request(Ping(bytes(1020)))
    assert isinstance(out, Error) and out.code == ErrorCode.BAD_PAYLOAD


async def test_stream_config_is_clamped(board):
    _, host = board
    ack = await host.request(StreamConfig(0xFF, 9, 5, 0, 3))
    assert ack == StreamConfigAck(int(Stream.RESULTS | Stream.POWER | Stream.LOG), int(LogLevel.ERROR), 5, 10, 3)


async def test_unknown_type_bad_payload_and_version(board):
    vb, host = board
    host.codec.seq = 40
    await host.transport.write(encode_frame(0x1E, 41, 0, b""))
    await host.transport.write(encode_frame(0x01, 42, 0, b"\x01"))  # HELLO is 3 bytes
    long_name = struct.pack("<BI32s", 1, 100, bytes(32)) + bytes([40]) + b"n" * 40 + b"\x00"  # str8 over 32
    await host.transport.write(encode_frame(0x10, 43, 0, long_name))
    await host.transport.write(encode_frame(0x01, 44, Flags.RESPONSE, b""))  # a response: ignored
    await host.transport.write(encode_frame(0x20, 45, 0, b""))  # an event type is no request
    responses = [await host.response() for _ in range(4)]
    assert [(seq, m.code) for seq, m in responses] == [
        (41, ErrorCode.UNKNOWN_TYPE), (42, ErrorCode.BAD_PAYLOAD), (43, ErrorCode.BAD_PAYLOAD),
        (45, ErrorCode.UNKNOWN_TYPE),
    ]  # fmt: skip
    assert vb.engine.stats.ignored == 1


async def test_other_protocol_version_is_refused(board):
    _, host = board
    body = Header(type=0x01, seq=9, length=3, version=2).pack() + b"\x02\x00\x10"
    body += zlib.crc32(body).to_bytes(4, "little")
    await host.transport.write(cobs.encode(body) + b"\x00")
    seq, out = await host.response()
    assert seq == 9 and isinstance(out, Error) and out.code == ErrorCode.UNSUPPORTED_VERSION and out.detail == 1


async def test_corrupt_frames_are_dropped_silently(board):
    vb, host = board
    frame = bytearray(encode_message(Hello(), 5))
    frame[3] ^= 0x40
    await host.transport.write(bytes(frame))
    assert isinstance(await host.request(Ping(b"x")), Pong)
    assert vb.engine.decoder.stats.bad_crc + vb.engine.decoder.stats.malformed == 1


async def test_reboot_answers_then_boots(board):
    vb, host = board
    await host.event(Boot)
    await host.request(StreamConfig(int(Stream.POWER), 1, 0, 10, 0))
    assert await host.request(Reboot(0)) == RebootAck()
    boot = await host.event(Boot)
    assert boot == Boot(reason=1, boot_count=2)
    assert vb.engine.settings.streams == Stream.NONE  # RAM state lost: streams off
    out = await host.request(Reboot(3))
    assert isinstance(out, Error) and out.code == ErrorCode.BAD_PAYLOAD
