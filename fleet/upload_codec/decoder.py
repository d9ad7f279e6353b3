"""Sans-I/O decoder of an encoded upload stream (PROTOCOL.md 10.2, 10.4).

It is fed the stream bytes as they arrive, in any cut, and passes each block's output to
`write` once the block is complete, so `received` only ever moves to a block's end (and a
block completed before a failure in the same `feed` is written all the same). Deflate data is
inflated by zlib, primed with the 32 KiB of model below the block (the slot is the window);
the decoder keeps that tail itself, so blocks completed in one `feed` see each other's
output before the caller has written it. Every rule break raises `StreamDecodeError` naming
the block, after which the decoder refuses more input: the stream is closed.
"""

from __future__ import annotations

import zlib

from collections.abc import Callable

from fleet.errors import StreamDecodeError
from fleet.upload_codec.format import COPY_HEADER, DEFLATE_HEADER, WINDOW, BlockKind, header_size


class StreamDecoder:
    """One open stream: model bytes from `start` to `size`, with optional `base` for COPY.

    `history` is the slot's model bytes just below `start` (at most the last 32 KiB count);
    `write(offset, data)` receives each complete block's output, `offset` being its model offset.
    """

    def __init__(self, start: int, size: int, history: bytes, write: Callable[[int, bytes], None],
                 base: bytes | None = None) -> None:  # fmt: skip
        if not 0 <= start <= size:
            raise ValueError(f"stream start {start} is outside the model's {size} bytes")
        self.size = size
        self.received = start  # model offset: end of the last complete block
        self.position = 0  # stream bytes consumed
        self._base = base
        self._write = write
        self._window = bytearray(history[-WINDOW:])
        self._header = bytearray()
        self._kind: int | None = None
        self._out_len = 0
        self._in_left = 0
        self._inflate: zlib._Decompress | None = None
        self._output = bytearray()
        self._failed: StreamDecodeError | None = None

    @property
    def complete(self) -> bool:
        return self.received == self.size

    def feed(self, data: bytes) -> None:
        """Decode `data`, the stream's next bytes, writing every block it completes."""
        if self._failed is not None:
            raise self._failed
        view = memoryview(data)
        try:
            while view:
                if self.complete:
                    raise self._fail(f"{len(view)} stream bytes after the model's last byte ({self.size})")
                view = self._read_header(view) if self._kind is None else self._read_body(view)
                if self._kind is not None and len(self._output) == self._out_len and self._in_left == 0:
                    self._finish_block()
        finally:
            self.position += len(data) - len(view)

    # --- block parts ------------------------------------------------------------------

    def _read_header(self, view: memoryview) -> memoryview:
        if not self._header:
            kind = view[0]
            if header_size(kind) is None:
                raise self._fail(f"unknown block kind 0x{kind:02x}")
            if kind == BlockKind.COPY and self._base is None:
                raise self._fail("COPY block in a stream opened without a base")
        need = header_size(self._header[0] if self._header else view[0]) - len(self._header)
        self._header += view[:need]
        view = view[need:]
        if len(self._header) == header_size(self._header[0]):
            self._start_block()
        return view

    def _start_block(self) -> None:
        kind = self._header[0]
        if kind == BlockKind.DEFLATE:
            _, out_len, in_len = DEFLATE_HEADER.unpack(self._header)
            if in_len == 0:
                raise self._fail("DEFLATE block with in_len 0")
        else:
            _, out_len, src = COPY_HEADER.unpack(self._header)
            in_len = 0
        if out_len == 0:
            raise self._fail("block with out_len 0")
        if self.received + out_len > self.size:
            raise self._fail(f"block of {out_len} bytes ends past the model's {self.size} bytes")
        self._kind, self._out_len, self._in_left = kind, out_len, in_len
        if kind == BlockKind.COPY:
            assert self._base is not None
            if src + out_len > len(self._base):
                raise self._fail(f"COPY of {out_len} bytes from {src} ends past the base's {len(self._base)} bytes")
            self._output += self._base[src : src + out_len]
        else:
            options = {"zdict": bytes(self._window)} if self._window else {}
            self._inflate = zlib.decompressobj(-15, **options)

    def _read_body(self, view: memoryview) -> memoryview:
        assert self._inflate is not None
        take = view[: self._in_left]
        self._in_left -= len(take)
        room = self._out_len - len(self._output)
        try:
            out = self._inflate.decompress(take, room + 1)
            if self._in_left == 0 and not self._inflate.eof and len(out) <= room:
                out += self._inflate.flush(room + 1 - len(out))
        except zlib.error as exc:
            raise self._fail(f"deflate data: {exc}") from None
        if len(out) > room or self._inflate.unconsumed_tail:
            raise self._fail(f"deflate data produces more than out_len {self._out_len} bytes")
        self._output += out
        if self._inflate.eof and (self._in_left or self._inflate.unused_data):
            raise self._fail(f"deflate data ends {self._in_left + len(self._inflate.unused_data)} bytes before in_len")
        if self._in_left == 0:
            if not self._inflate.eof:
                raise self._fail("deflate data does not end (no final block) within in_len")
            if len(self._output) != self._out_len:
                raise self._fail(f"deflate data produces {len(self._output)} bytes, out_len is {self._out_len}")
        return view[len(take) :]

    def _finish_block(self) -> None:
        out = bytes(self._output)
        self._write(self.received, out)
        self._window += out
        del self._window[:-WINDOW]
        self.received += len(out)
        self._header.clear()
        self._output.clear()
        self._kind = None
        self._inflate = None

    def _fail(self, reason: str) -> StreamDecodeError:
        self._failed = StreamDecodeError(self.received, reason)
        return self._failed
