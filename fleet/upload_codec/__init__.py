"""Encoded model uploads (PROTOCOL.md section 10): compressed and delta block streams.

`format` holds the byte layout of a block, `encoder` builds streams (zlib deflate blocks,
copies from a base), `matcher` finds what a new model shares with a base, and `decoder` is the
sans-I/O decoder the virtual boards run (and the reference the golden vectors check).
"""

from fleet.upload_codec.decoder import StreamDecoder
from fleet.upload_codec.encoder import EncodedModel, encode
from fleet.upload_codec.format import MAX_BLOCK_OUTPUT, BlockKind

__all__ = ["MAX_BLOCK_OUTPUT", "BlockKind", "EncodedModel", "StreamDecoder", "encode"]
